"""Demo sync traffic, so channel sync health shows something on first sign-in: one
channel's tracking uploads dead-lettered hours ago (stale, red), a refused order payload
on another, and delivered availability and tracking for the rest."""

from datetime import timedelta

from django.utils import timezone

from erp.models import Channel, OutboxMessage
from fulfillment.models import ChannelFulfillmentPolicy
from inventory.services.availability import AVAILABILITY_TOPIC
from orders.models import IngestionError

FAILED_ERROR = "HTTP 401: the channel refused our credentials (token expired)."


def _message(dedupe_key: str, **fields) -> None:
    OutboxMessage.objects.get_or_create(dedupe_key=dedupe_key, defaults=fields)


def seed_sync_health(users) -> str:
    now = timezone.now()
    policies = {
        policy.channel_id: policy.tracking_endpoint
        for policy in ChannelFulfillmentPolicy.objects.filter(
            tracking_endpoint__isnull=False
        ).select_related("tracking_endpoint")
    }
    channels = [channel for channel in Channel.objects.order_by("code") if channel.pk in policies]
    for index, channel in enumerate(channels):
        tracking = policies[channel.pk]
        failing = index == 0
        for number in range(3):
            created = now - timedelta(hours=5 - number)
            _message(
                f"demo:tracking.{channel.kind}:{channel.code}:{number}",
                topic=f"tracking.{channel.kind}",
                endpoint=tracking,
                payload={"format": channel.kind, "demo": True},
                created_at=created,
                **(
                    {
                        "state": OutboxMessage.State.FAILED,
                        "attempts": 8,
                        "failed_at": created + timedelta(hours=1),
                        "last_error": FAILED_ERROR,
                    }
                    if failing
                    else {
                        "state": OutboxMessage.State.DELIVERED,
                        "attempts": 1,
                        "delivered_at": created + timedelta(seconds=4),
                    }
                ),
            )
        if channel.availability_endpoint_id:
            _message(
                f"demo:availability:{channel.code}",
                topic=AVAILABILITY_TOPIC,
                endpoint_id=channel.availability_endpoint_id,
                payload={"channel": channel.code, "as_of": now.isoformat(), "items": {}},
                state=OutboxMessage.State.DELIVERED,
                attempts=1,
                created_at=now - timedelta(minutes=3),
                delivered_at=now - timedelta(minutes=3),
            )
    if len(channels) > 1 and not IngestionError.objects.filter(code="demo_unmapped").exists():
        IngestionError.objects.create(
            channel_code=channels[1].code,
            code="demo_unmapped",
            field="lines[0].sku",
            message="Channel SKU DEMO-UNKNOWN is not listed on this channel.",
            raw_body='{"lines": [{"sku": "DEMO-UNKNOWN", "quantity": 1}]}',
            body_size=51,
        )
    return f"sync history for {len(channels)} channels (the first one failing)"
