"""Returns factories, and a builder for an order that shipped (what an RMA returns)."""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from fulfillment.models import Carrier, Shipment, ShipmentLine
from inventory.models import SerialNumber
from orders.models import LineState, Order, OrderLine, OrderState
from returns.models import ReturnPolicy, ReturnReason
from tests.factories.erp import ChannelFactory, LocationFactory, UserFactory
from tests.factories.orders import OrderFactory


class ReturnReasonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReturnReason
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"reason-{n}")
    label = factory.LazyAttribute(lambda reason: reason.code.replace("_", " ").capitalize())


class ReturnPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReturnPolicy
        django_get_or_create = ("channel", "product_family")

    channel = factory.SubFactory(ChannelFactory)
    product_family = ""
    window_days = 30
    refund_timing = "on_receipt"


@dataclass
class ShippedLine:
    sku: object
    quantity: int
    unit_price: Decimal = Decimal("20.00")
    tax: Decimal = Decimal("0")
    discount: Decimal = Decimal("0")
    serials: list[str] = field(default_factory=list)
    lot: object = None


def shipped_order(
    channel,
    lines: list[ShippedLine],
    *,
    location=None,
    shipped_days_ago: int = 3,
    shipping_total: Decimal = Decimal("0"),
    taxes_included: bool = False,
    **fields,
) -> Order:
    """An order every line of which shipped in one parcel `shipped_days_ago` days ago,
    with its totals as ingestion computes them and the serials and lots that left."""
    location = location or LocationFactory()
    shipped_at = timezone.now() - timedelta(days=shipped_days_ago)
    merchandise = sum((line.unit_price * line.quantity for line in lines), Decimal("0"))
    discount = sum((line.discount for line in lines), Decimal("0"))
    tax = sum((line.tax for line in lines), Decimal("0"))
    order = OrderFactory(
        channel=channel,
        state=OrderState.SHIPPED,
        placed_at=shipped_at - timedelta(days=1),
        shipped_at=shipped_at,
        shipping_total=shipping_total,
        tax_total=tax,
        discount_total=discount,
        taxes_included=taxes_included,
        total=merchandise - discount + shipping_total + (0 if taxes_included else tax),
        **fields,
    )
    carrier, _ = Carrier.objects.get_or_create(code="UPS", defaults={"name": "UPS"})
    shipment = Shipment.objects.create(
        order=order,
        location=location,
        carrier=carrier,
        tracking_number=f"1Z{order.pk:016d}",
        state=Shipment.State.SHIPPED,
        created_by=UserFactory(username="shipper"),
        shipped_at=shipped_at,
    )
    for number, line in enumerate(lines, start=1):
        order_line = OrderLine.objects.create(
            order=order,
            line_number=number,
            external_line_id=f"{order.pk}{number:03d}",  # numeric, as Shopify's and Walmart's
            channel_sku=line.sku.code,
            sku=line.sku,
            quantity=line.quantity,
            quantity_shipped=line.quantity,
            unit_price=line.unit_price,
            tax=line.tax,
            discount=line.discount,
            state=LineState.SHIPPED,
        )
        ShipmentLine.objects.create(
            shipment=shipment,
            line=order_line,
            sku=line.sku,
            quantity=line.quantity,
            lot=line.lot,
            serials=list(line.serials),
        )
        SerialNumber.objects.bulk_create(
            [
                SerialNumber(sku=line.sku, serial=serial, state=SerialNumber.State.SHIPPED)
                for serial in line.serials
            ]
        )
    return order
