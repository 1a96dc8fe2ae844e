"""Publishing availability: recompute ATS for SKUs whose stock moved, store the figures
that changed, and put one coalesced message per channel in the outbox."""

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from erp.models import Channel, ChannelListing, OutboxMessage
from erp.services.outbox import coalesce_message
from inventory import selectors
from inventory.models import AvailabilityDirty, ChannelAvailability

AVAILABILITY_TOPIC = "inventory.availability"


PUBLISH_DEBOUNCE_SECONDS = 1


def schedule_availability_publication() -> None:
    """At most one publication queued per second, however many commits moved stock;
    the dirty marks wait in the table, so nothing is lost (beat sweeps every minute)."""
    from inventory.tasks import publish_availability

    if cache.add("inventory:availability-publication", True, timeout=PUBLISH_DEBOUNCE_SECONDS):
        publish_availability.apply_async(countdown=PUBLISH_DEBOUNCE_SECONDS)


def _take_dirty(limit: int) -> list[int]:
    sku_ids = list(
        AvailabilityDirty.objects.select_for_update(skip_locked=True)
        .order_by("sku_id")
        .values_list("sku_id", flat=True)[:limit]
    )
    AvailabilityDirty.objects.filter(sku_id__in=sku_ids).delete()
    return sku_ids


def publish_availability(*, limit: int = 5000) -> int:
    """Republish availability of up to `limit` moved SKUs; returns figures that changed."""
    with transaction.atomic():
        sku_ids = _take_dirty(limit)
        if not sku_ids:
            return 0
        return sum(_publish_channel(channel, sku_ids) for channel in _channels_listing(sku_ids))


def refresh_channel_availability(*, channel: Channel) -> int:
    """Recompute every listed SKU of one channel (after a rule change); returns changes."""
    with transaction.atomic():
        return _publish_channel(channel, None)


def _channels_listing(sku_ids: list[int]) -> list[Channel]:
    channel_ids = (
        ChannelListing.objects.filter(sku_id__in=sku_ids, active=True)
        .values("channel_id")
        .distinct()
    )
    return list(
        Channel.objects.filter(pk__in=channel_ids, active=True).select_related(
            "availability_endpoint"
        )
    )


def _publish_channel(channel: Channel, sku_ids: list[int] | None) -> int:
    if sku_ids is not None:
        sku_ids = list(
            ChannelListing.objects.filter(channel=channel, sku_id__in=sku_ids, active=True)
            .values_list("sku_id", flat=True)
            .distinct()
        )
    figures = selectors.compute_availability(channel=channel, sku_ids=sku_ids)
    stored = ChannelAvailability.objects.filter(channel=channel)
    if sku_ids is not None:
        stored = stored.filter(sku_id__in=sku_ids)
    previous = dict(stored.values_list("sku_id", "available"))
    now = timezone.now()
    changed = {
        sku_id: figure.available
        for sku_id, figure in figures.items()
        if previous.get(sku_id) != figure.available
    }
    if not changed:
        return 0
    ChannelAvailability.objects.bulk_create(
        [
            ChannelAvailability(channel=channel, sku_id=s, available=a, changed_at=now)
            for s, a in changed.items()
        ],
        update_conflicts=True,
        unique_fields=["channel", "sku"],
        update_fields=["available", "changed_at"],
        batch_size=5000,
    )
    if channel.availability_endpoint_id:
        _queue_message(channel, changed, now)
    return len(changed)


def _queue_message(channel: Channel, changed: dict[int, int], now) -> OutboxMessage:
    codes = dict(
        ChannelListing.objects.filter(channel=channel, sku_id__in=list(changed)).values_list(
            "sku_id", "channel_sku"
        )
    )
    items = {codes[sku_id]: available for sku_id, available in changed.items() if sku_id in codes}
    coalesce_key = f"availability:{channel.code}"
    # Many changes before delivery, one message: merge into the undelivered one, later
    # figures winning per channel SKU.
    pending = (
        OutboxMessage.objects.select_for_update()
        .filter(
            topic=AVAILABILITY_TOPIC,
            state=OutboxMessage.State.PENDING,
            dedupe_key__startswith=f"{coalesce_key}:",
        )
        .values_list("payload", flat=True)
        .first()
    )
    if pending:
        items = {**pending.get("items", {}), **items}
    return coalesce_message(
        topic=AVAILABILITY_TOPIC,
        endpoint=channel.availability_endpoint,
        payload={"channel": channel.code, "as_of": now.isoformat(), "items": items},
        coalesce_key=coalesce_key,
    )
