"""What customer service does with an order payload that ingestion refused: replay it
(as received or corrected) through ingestion, or mark it resolved with a note."""

import json
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from erp.api.parsers import paths_with_nul
from erp.errors import Conflict, FieldError, NotFound, ValidationFailed
from erp.input_bounds import NUL_MESSAGE
from erp.roles import require_permission
from orders.models import IngestionError, OrderOrigin
from orders.services import channel_config
from orders.services.ingestion import IngestResult, ingest_order


@transaction.atomic
def resolve_ingestion_error(*, error_id: int, actor, note: str) -> IngestionError:
    """Take a refused payload off the queue, saying how it was dealt with (the channel
    re-sent it, the order was keyed in by hand, it was not an order). The resolution
    names who resolved it: the error row has no user column of its own."""
    require_permission(actor, "orders.change_order", action="resolve ingestion errors")
    note = note.strip()
    if not note:
        raise ValidationFailed("Say how the error was resolved.", field="note", code="required")
    error = IngestionError.objects.select_for_update().filter(pk=error_id).first()
    if error is None:
        raise NotFound("No such ingestion error.")
    if error.resolved_at is not None:
        raise Conflict("This error is already resolved.", field="state", code="already_resolved")
    error.resolved_at = timezone.now()
    error.resolution = f"{actor.get_username()}: {note}"[:500]
    error.save(update_fields=["resolved_at", "resolution"])
    return error


def parse_replay_body(text: str):
    """The JSON that will be replayed, or the reason it cannot be (field `body`)."""
    try:
        payload = json.loads(text, parse_float=Decimal)
    except ValueError as error:
        raise ValidationFailed(
            f"Not valid JSON: {error}.", field="body", code="parse_error"
        ) from None
    refused = [
        FieldError(path or "body", "null_characters_not_allowed", NUL_MESSAGE)
        for path in paths_with_nul(payload)
    ]
    if refused:
        raise ValidationFailed.from_errors(refused)
    if not isinstance(payload, dict) or isinstance(payload.get("orders"), list):
        raise ValidationFailed(
            "Replay one order: a JSON object, not a list or a batch.", field="body", code="invalid"
        )
    return payload


def replay_ingestion_error(*, error_id: int, actor, body: str | None = None) -> IngestResult:
    """Run a refused payload (as received, or as corrected) through the very ingestion a
    channel's POST goes through, so it becomes the order it should have been, once.

    A payload that is now a duplicate (the channel re-sent it, or it was replayed already)
    is refused and nothing is written; a payload ingestion still refuses is answered with
    ingestion's field errors and the error stays open, unchanged. On success the error
    row records who replayed it and the resulting order, and leaves the queue."""
    require_permission(actor, "orders.change_order", action="replay refused orders")
    require_permission(actor, "orders.add_order", action="replay refused orders")
    error = IngestionError.objects.filter(pk=error_id).first()
    if error is None:
        raise NotFound("No such ingestion error.")
    if error.resolved_at is not None:
        raise Conflict(
            "This error is already resolved"
            + (f" (replayed into order #{error.order_id})." if error.order_id else "."),
            field="state",
            code="already_resolved",
        )
    payload = parse_replay_body(error.raw_body if body is None else body)
    channel = channel_config.active_channel(error.channel_code)
    if channel is None:
        raise ValidationFailed(
            f"No active channel {error.channel_code}: it cannot be replayed into an order.",
            field="channel",
            code="unknown_channel",
        )
    result = ingest_order(
        channel=channel,
        payload=payload,
        actor=actor,
        only_new=True,
        origin={"origin": OrderOrigin.REPLAY, "entered_by": actor},
    )
    _record_replay(
        error_id, result.order, actor, edited=body is not None and body != error.raw_body
    )
    return result


@transaction.atomic
def _record_replay(error_id: int, order, actor, *, edited: bool) -> None:
    how = "edited and replayed" if edited else "replayed"
    IngestionError.objects.filter(pk=error_id, resolved_at__isnull=True).update(
        resolved_at=timezone.now(),
        resolution=f"{actor.get_username()}: {how} into order {order.order_number}"[:500],
        replayed_by=actor,
        order=order,
    )
