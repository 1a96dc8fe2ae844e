"""Demo data for keyed-in and replayed orders and for queue ownership: a phone channel
listing the B2B assortment, one phone order, one refused payload waiting to be replayed,
and a held order claimed by customer service."""

from django.db import transaction

from erp import roles
from erp.errors import ValidationFailed
from erp.models import Channel, ChannelListing, QueueClaim
from erp.services.queue_claims import claim_item
from orders.models import IngestionError, Order
from orders.queues import orders_on_hold
from orders.services.ingestion import record_ingestion_error
from orders.services.manual_orders import ManualLine, create_manual_order

REFUSED_BODY = """{
  "external_id": "PO-DEMO-REFUSED",
  "order_number": "B2B-REFUSED",
  "placed_at": "2026-11-20T09:30:00Z",
  "currency": "USD",
  "payment_status": "authorized",
  "ship_to": {"name": "Harbor Supply", "line1": "5 Dock St", "city": "Dallas",
              "region": "TX", "postal_code": "75201", "country": "US"},
  "lines": [{"sku": "%s", "quantity": 0, "unit_price": "19.90"}]
}"""


def _phone_channel(b2b: Channel) -> Channel:
    channel, created = Channel.objects.get_or_create(
        code="PHONE",
        defaults={
            "name": "Phone orders (customer service)",
            "kind": Channel.Kind.MANUAL,
            "currency": b2b.currency,
            "ship_by_sla_hours": 48,
        },
    )
    if created:
        channel.eligible_locations.set(b2b.eligible_locations.all())
        ChannelListing.objects.bulk_create(
            [
                ChannelListing(channel=channel, sku_id=sku_id, channel_sku=code)
                for sku_id, code in b2b.listings.filter(
                    active=True, sku__lot_tracked=False, sku__serial_tracked=False
                )
                .order_by("sku__code")
                .values_list("sku_id", "sku__code")[:40]
            ]
        )
    return channel


def seed_manual_orders(users) -> str:
    b2b = Channel.objects.filter(code="B2B").first()
    if b2b is None:
        return "no B2B channel"
    channel = _phone_channel(b2b)
    cs = users[roles.CUSTOMER_SERVICE]
    listing = channel.listings.order_by("channel_sku").first()
    if listing and not Order.objects.filter(channel=channel).exists():
        create_manual_order(
            channel_code=channel.code,
            kind="phone",
            reference="PH-DEMO-0001",
            lines=[ManualLine(listing.channel_sku, 1, "24.90")],
            ship_to={
                "name": "Grace Caller",
                "line1": "44 Elm St",
                "city": "Chicago",
                "region": "IL",
                "postal_code": "60601",
                "country": "US",
            },
            note="Called in; paid by card on the phone.",
            actor=cs,
        )
    if not IngestionError.objects.filter(raw_body__contains="PO-DEMO-REFUSED").exists():
        sku = b2b.listings.order_by("channel_sku").values_list("channel_sku", flat=True).first()
        record_ingestion_error(
            channel_code=b2b.code,
            raw_body=REFUSED_BODY % (sku or "UNKNOWN"),
            error=ValidationFailed(
                "Quantity must be a whole number of at least 1.",
                field="lines[0].quantity",
                code="invalid",
            ),
        )
    held = orders_on_hold().order_by("pk").values_list("pk", flat=True).first()
    if held and not QueueClaim.objects.exists():
        with transaction.atomic():
            claim_item(queue_key="orders-on-hold", object_id=held, actor=cs)
    return f"{Order.objects.filter(channel=channel).count()} phone orders"
