"""Channels with sync traffic in known states, for the sync-health tests."""

from dataclasses import dataclass
from datetime import timedelta
from itertools import count

from django.utils import timezone

from erp.models import OutboxMessage
from orders.models import IngestionError
from tests.factories import ChannelFactory, EndpointFactory, OrderFactory
from tests.factories.fulfillment import ChannelFulfillmentPolicyFactory
from tests.factories.returns import ReturnPolicyFactory

_keys = count()


def message(endpoint, topic, *, state="pending", age_minutes=0, payload=None, **fields):
    """An outbox row created `age_minutes` ago in the given state."""
    created = timezone.now() - timedelta(minutes=age_minutes)
    row = OutboxMessage.objects.create(
        topic=topic,
        endpoint=endpoint,
        payload=payload or {},
        dedupe_key=f"test:{topic}:{next(_keys)}",
        state=state,
        created_at=created,
        **fields,
    )
    return row


@dataclass
class SyncedChannel:
    channel: object
    availability: object
    tracking: object
    refunds: object

    def availability_message(self, **kwargs):
        kwargs.setdefault("payload", {"channel": self.channel.code, "items": {}})
        return message(self.availability, "inventory.availability", **kwargs)

    def tracking_message(self, **kwargs):
        return message(self.tracking, f"tracking.{self.channel.kind}", **kwargs)

    def refund_message(self, **kwargs):
        return message(self.refunds, f"refund.{self.channel.kind}", **kwargs)

    def failed(self, make, *, age_minutes=90, error="HTTP 500: boom"):
        now = timezone.now()
        return make(
            state="failed",
            age_minutes=age_minutes,
            failed_at=now - timedelta(minutes=5),
            last_error=error,
            attempts=8,
        )


def synced_channel(code: str, kind: str = "shopify") -> SyncedChannel:
    availability = EndpointFactory(code=f"{code.lower()}-availability")
    tracking = EndpointFactory(code=f"{code.lower()}-tracking")
    refunds = EndpointFactory(code=f"{code.lower()}-refunds")
    channel = ChannelFactory(code=code, kind=kind, availability_endpoint=availability)
    ChannelFulfillmentPolicyFactory(channel=channel, tracking_endpoint=tracking)
    ReturnPolicyFactory(channel=channel, refund_endpoint=refunds)
    return SyncedChannel(channel, availability, tracking, refunds)


def received_order(channel, *, minutes_ago: int):
    order = OrderFactory(channel=channel)
    type(order).objects.filter(pk=order.pk).update(
        received_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return order


def refused_payload(channel, *, minutes_ago: int, message="Unknown SKU", resolved=False):
    row = IngestionError.objects.create(
        channel_code=channel.code,
        code="sku_unmapped",
        field="lines[0].sku",
        message=message,
        raw_body="{}",
        body_size=2,
        resolved_at=timezone.now() if resolved else None,
    )
    IngestionError.objects.filter(pk=row.pk).update(
        received_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return row
