"""The "channel returns to match" queue: a refused channel return kept with its reasons
and what the channel sent; settled when it goes through later or by hand."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from erp.errors import Conflict, NotFound, ValidationFailed
from erp.roles import require_permission
from returns.adapters import ChannelReturn
from returns.models import UnmatchedChannelReturn


def keep_refused(
    channel, *, source_format, reference, order_external_id, line_numbers, errors, payload
):
    """Keep the refused return (outside its rolled-back transaction); the same return
    refused again updates its entry and opens it again."""
    now = timezone.now()
    values = {
        "order_external_id": order_external_id[:128],
        "line_numbers": list(line_numbers),
        "errors": [e.as_dict() for e in errors],
        "payload": payload,
        "last_seen_at": now,
        "resolved_at": None,
        "resolved_by": None,
        "resolution": "",
    }
    key = {"channel": channel, "source_format": source_format, "reference": reference[:128]}
    for attempt in range(2):
        try:
            with transaction.atomic():
                entry = UnmatchedChannelReturn.objects.select_for_update().filter(**key).first()
                if entry is None:
                    return UnmatchedChannelReturn.objects.create(
                        **key, **values, first_seen_at=now, times_seen=1
                    )
                for name, value in values.items():
                    setattr(entry, name, value)
                entry.times_seen += 1
                entry.save()
                return entry
        except IntegrityError:  # a concurrent delivery queued it first: update that one
            if attempt:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def settle_queued(channel, parsed: ChannelReturn, actor, *, resolution: str) -> None:
    """The return went through (delivered again, or tried again from the queue): its
    entry, refused earlier, is settled with what became of it."""
    UnmatchedChannelReturn.objects.filter(
        channel=channel,
        source_format=parsed.source_format,
        reference=parsed.return_id[:128],
        resolved_at__isnull=True,
    ).update(
        resolved_at=timezone.now(),
        resolved_by=actor,
        resolution=resolution[:500],
    )


def dismiss_channel_return(*, entry_id: int, actor, note: str) -> UnmatchedChannelReturn:
    """Settle a queued channel return by hand (handled outside the ERP, a test order, a
    duplicate), saying how."""
    require_permission(actor, "returns.change_rma", action="settle channel returns")
    if not note.strip():
        raise ValidationFailed("Say how it was settled.", field="note", code="required")
    with transaction.atomic():
        entry = open_entry(entry_id, lock=True)
        entry.resolved_at, entry.resolved_by = timezone.now(), actor
        entry.resolution = note.strip()[:500]
        entry.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    return entry


def open_entry(entry_id: int, *, lock: bool = False) -> UnmatchedChannelReturn:
    rows = UnmatchedChannelReturn.objects.select_related("channel")
    entry = (rows.select_for_update(of=("self",)) if lock else rows).filter(pk=entry_id).first()
    if entry is None:
        raise NotFound("No such channel return in the queue.", field="entry")
    if entry.resolved_at is not None:
        raise Conflict("This channel return is already settled.", field="entry", code="settled")
    return entry
