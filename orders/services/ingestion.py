"""Ingestion: a channel's native payload in, one governed order out.

Idempotent by (channel, external id): a redelivery returns the stored order; a changed
payload (cancelled or edited on the channel) is applied as an update with history; an
older payload than the one stored (deliveries arrive out of order) changes nothing.
Every refused payload is kept in the ingestion-errors queue with its raw body.
"""

import hashlib
import json
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max

from erp import fastsql
from erp.errors import Conflict, NotFound, ValidationFailed
from erp.models import Channel
from erp.roles import require_permission
from erp.token_scope import require_channel_scope
from orders.adapters import AdapterError, parse_order
from orders.adapters.base import ChannelStatus, NormalizedOrder
from orders.models import IngestionError, LineState, Order, OrderLine, OrderState
from orders.models.orders import PayloadEncoder
from orders.services import (
    cancellation,
    channel_config,
    channel_edits,
    evaluation,
    timeline,
    validation,
)
from orders.services.sku_mapping import map_channel_skus

RAW_BODY_LIMIT = 64 * 1024


@dataclass(frozen=True)
class IngestResult:
    order: Order
    outcome: str  # created, updated, unchanged, stale


def record_ingestion_error(*, channel_code: str, raw_body: bytes | str, error) -> IngestionError:
    """Keep a refused payload for CS (outside the refused transaction)."""
    body = raw_body.decode("utf-8", "replace") if isinstance(raw_body, bytes) else raw_body
    first = error.errors[0] if hasattr(error, "errors") else None
    return IngestionError.objects.create(
        channel_code=channel_code[:64],
        field=(first.field if first else "") or "",
        code=first.code if first else "invalid",
        message=(first.message if first else str(error))[:1000],
        raw_body=body[:RAW_BODY_LIMIT],
        body_size=len(raw_body),
    )


def _hash(payload: dict) -> str:
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, cls=PayloadEncoder).encode()
    ).hexdigest()


def _normalize(channel: Channel, payload) -> NormalizedOrder:
    if not isinstance(payload, dict):
        raise ValidationFailed("The order must be a JSON object.", field=None, code="invalid")
    try:
        normalized = parse_order(channel.kind, payload)
    except AdapterError as error:
        raise ValidationFailed(error.message, field=error.field, code=error.code) from None
    if normalized.currency.upper() != channel.currency.upper():
        raise ValidationFailed(
            f"{channel.code} sells in {channel.currency}; this order is in {normalized.currency}.",
            field="currency",
            code="currency_mismatch",
        )
    return normalized


def get_channel(code: str) -> Channel:
    channel = channel_config.active_channel(code)
    if channel is None:
        raise NotFound(f"No active channel {code}.", field="channel", code="unknown_channel")
    return channel


def ingest_order(
    *,
    channel: Channel,
    payload: dict,
    actor,
    only_new: bool = False,
    origin: dict | None = None,
) -> IngestResult:
    """Create or update one order from the channel's payload; validation and routing follow.

    `only_new` (a replayed or keyed-in order) refuses a payload whose (channel, external
    id) is already an order instead of applying it as an update: the refusal rolls the
    whole transaction back, so nothing is written. The unique insert decides, so two
    replays at once still make one order. `origin` (origin, entered_by, replaces_rma)
    says how a new order came to be other than from its channel."""
    require_permission(actor, "orders.add_order", action="ingest orders")
    require_channel_scope(actor, channel)
    normalized = _normalize(channel, payload)
    payload_hash = _hash(payload)
    # The address validator may call out: it runs before the transaction, never inside it.
    check = validation.check_address(Order(channel=channel, **_order_fields(normalized)))
    with transaction.atomic(durable=True):
        # INSERT … ON CONFLICT DO NOTHING: a concurrent delivery of the same order waits
        # for the first one's commit and then finds the row, so it takes the update path.
        # Pipelined: BEGIN travels with the INSERT, and the writes whose answer nothing
        # waits for (allocations, the routing decision, line and order states, the
        # timeline) are answered together before COMMIT.
        with fastsql.pipeline():
            created = _create(
                channel, normalized, payload, payload_hash, actor, check, origin or {}
            )
        if created is not None:
            return IngestResult(created, "created")
        if only_new:
            raise _duplicate(channel, normalized.external_id)
        existing = (
            Order.objects.select_for_update(of=("self",))
            .filter(channel=channel, external_id=normalized.external_id)
            .first()
        )
        if existing is None:  # the other delivery rolled back after all: deliver again
            raise Conflict("The order was being written concurrently; retry.", code="conflict")
        existing.channel = channel
        return _update(existing, normalized, payload, payload_hash, actor, check)


def _duplicate(channel: Channel, external_id: str) -> Conflict:
    order = Order.objects.filter(channel=channel, external_id=external_id).only("pk").first()
    return Conflict(
        f"{channel.code} order {external_id} already exists"
        + (f" (order #{order.pk})" if order else "")
        + ": it is not created twice.",
        field="external_id",
        code="duplicate",
    )


def _order_fields(normalized: NormalizedOrder) -> dict:
    address = normalized.ship_to
    fields = {
        "order_number": normalized.order_number or normalized.external_id,
        "placed_at": normalized.placed_at,
        "channel_updated_at": normalized.updated_at,
        "ship_by": normalized.ship_by,
        "service_level": normalized.service_level,
        "currency": normalized.currency.upper(),
        "payment_status": normalized.payment_status,
        "channel_status": normalized.channel_status,
        "risk_score": normalized.risk_score,
        "customer_email": normalized.customer_email[:254],
        "shipping_total": normalized.shipping_total,
        "tax_total": normalized.tax_total,
        "discount_total": normalized.discount_total,
        "gift_wrap_total": normalized.gift_wrap_total,
        "total": normalized.total,
        "taxes_included": normalized.taxes_included,
        "tax_data_complete": normalized.tax_data_complete,
        "extra": normalized.extra,
    }
    presentment = normalized.presentment
    fields.update(
        {
            "presentment_currency": presentment.currency if presentment else "",
            "presentment_shipping_total": presentment and presentment.shipping_total,
            "presentment_tax_total": presentment and presentment.tax_total,
            "presentment_discount_total": presentment and presentment.discount_total,
            "presentment_total": presentment and presentment.total,
        }
    )
    if address:
        fields.update(
            {
                "ship_name": address.name[:255],
                "ship_company": address.company[:255],
                "ship_line1": address.line1[:255],
                "ship_line2": address.line2[:255],
                "ship_city": address.city[:128],
                "ship_region": address.region[:64],
                "ship_postal_code": address.postal_code[:32],
                "ship_country": address.country[:2].upper(),
                "ship_phone": address.phone[:64],
            }
        )
    return fields


def _create(channel, normalized, payload, payload_hash, actor, check, origin) -> Order | None:
    order = Order(
        channel=channel,
        external_id=normalized.external_id,
        raw_payload=payload,
        payload_hash=payload_hash,
        **_order_fields(normalized),
        **origin,
    )
    # The audit record of a new order is its raw payload and its timeline: history rows
    # start with the first change made after ingestion (an edit, a channel update).
    if not fastsql.insert([order], on_conflict_do_nothing=True):
        return None  # delivered before: the caller takes the update path
    order.skip_history_when_saving = True
    try:
        with timeline.batched_events(order):
            return _route_new(order, channel, normalized, actor, check)
    finally:
        del order.skip_history_when_saving


def _route_new(order, channel, normalized, actor, check) -> Order:
    """Write the new order's lines (mapped to our SKUs), then validate, route, reserve."""
    lines, substitutes = _write_lines(order, channel, normalized.lines, first_number=1)
    timeline.note(order, "received", f"Received from {channel.code}", actor=actor)
    if normalized.channel_status == ChannelStatus.CANCELLED or all(
        line.state == LineState.CANCELLED for line in lines
    ):
        timeline.set_state(
            order,
            OrderState.CANCELLED,
            actor=actor,
            message="cancelled on the channel",
            cancelled_at=normalized.cancelled_at,
        )
        return order
    evaluation.evaluate_order(
        order=order,
        actor=actor,
        new=True,
        lines=lines,
        substitutes=substitutes,
        address_check=check,
    )
    return order


def _write_lines(
    order, channel, incoming, *, first_number: int
) -> tuple[list[OrderLine], dict[int, list[int]]]:
    """Map the channel's lines to our SKUs and insert them; units the channel already
    removed arrive cancelled. New orders and lines a channel edit adds both come here.
    Returns the lines and the mapped SKUs' substitutes (routing locks their stock too)."""
    mapping = map_channel_skus(
        channel, [(line.channel_sku, line.external_item_id) for line in incoming]
    )
    lines = fastsql.insert(
        [
            OrderLine(
                order=order,
                line_number=number,
                external_line_id=line.external_line_id,
                channel_sku=line.channel_sku,
                external_item_id=line.external_item_id,
                title=line.title[:255],
                sku=mapping.sku_for(line.channel_sku, line.external_item_id),
                quantity=line.quantity,
                quantity_cancelled=min(line.removed_quantity, line.quantity),
                state=LineState.CANCELLED
                if line.removed_quantity >= line.quantity
                else LineState.OPEN,
                unit_price=line.unit_price,
                tax=line.tax,
                discount=line.discount,
                presentment_unit_price=line.presentment_unit_price,
                presentment_tax=line.presentment_tax,
                presentment_discount=line.presentment_discount,
            )
            for number, line in enumerate(incoming, start=first_number)
        ]
    )
    return lines, mapping.substitutes


def _add_lines(order: Order, incoming: list) -> list[OrderLine]:
    last = order.lines.aggregate(last=Max("line_number"))["last"] or 0
    return _write_lines(order, order.channel, incoming, first_number=last + 1)[0]


def _update(order: Order, normalized, payload, payload_hash, actor, check) -> IngestResult:
    if order.payload_hash == payload_hash:
        return IngestResult(order, "unchanged")
    if (
        normalized.updated_at
        and order.channel_updated_at
        and normalized.updated_at < order.channel_updated_at
    ):
        timeline.note(
            order,
            "stale_update",
            "An older version of this order arrived and was ignored.",
            actor=actor,
        )
        return IngestResult(order, "stale")
    # Checked before anything is written: a refused edit changes nothing.
    edits = channel_edits.plan_line_edits(order, normalized)
    fields = _order_fields(normalized)
    changed = [name for name, value in fields.items() if getattr(order, name) != value]
    for name in changed:
        setattr(order, name, fields[name])
    order.raw_payload, order.payload_hash = payload, payload_hash
    order._history_user, order._change_reason = actor, "updated by the channel"
    order.save()
    if changed:
        timeline.note(
            order, "channel_update", f"Updated on the channel: {', '.join(changed)}", actor=actor
        )
    if normalized.channel_status == ChannelStatus.CANCELLED and order.state != OrderState.CANCELLED:
        cancellation.cancel_locked(
            order,
            actor=actor,
            reason="cancelled on the channel",
            cancelled_at=normalized.cancelled_at,
        )
    elif edits:
        channel_edits.apply_line_edits(
            order,
            edits,
            add_lines=_add_lines,
            actor=actor,
            cancelled_at=normalized.cancelled_at,
            address_check=check,
        )
    elif order.state == OrderState.ON_HOLD:
        evaluation.evaluate_order(order=order, actor=actor, address_check=check)
    return IngestResult(order, "updated")
