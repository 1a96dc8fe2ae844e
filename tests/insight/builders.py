"""Orders with every timestamp the KPIs read, written as the services leave them."""

from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import User

from fulfillment.models import Shipment
from orders.models import Allocation, Order, OrderEvent, OrderLine
from tests.factories.fulfillment import CarrierFactory
from tests.factories.orders import OrderFactory

MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def at(day: int, hours: float = 0) -> datetime:
    """`day` days after Monday 2 November 2026 09:00 UTC, plus `hours`."""
    return MONDAY + timedelta(days=day, hours=hours)


def order(
    channel,
    node,
    *,
    placed: datetime,
    lines,
    state="received",
    released_after=None,
    shipped_after=None,
    ship_by_after=None,
    tracking="1Z0001",
    carrier=None,
    short=False,
    cancelled=False,
):
    """`lines`: (sku, quantity, shipped, cancelled, line state). Times in hours after
    `placed` (received = placed)."""
    record = OrderFactory(
        channel=channel,
        state="cancelled" if cancelled else state,
        placed_at=placed,
        ship_by=placed + timedelta(hours=ship_by_after) if ship_by_after is not None else None,
    )
    stamps = {"received_at": placed}
    if released_after is not None:
        stamps["released_at"] = placed + timedelta(hours=released_after)
    if shipped_after is not None:
        stamps["shipped_at"] = placed + timedelta(hours=shipped_after)
    if cancelled:
        stamps["cancelled_at"] = placed + timedelta(hours=1)
    Order.objects.filter(pk=record.pk).update(**stamps)
    for number, (sku, quantity, shipped, cancelled_units, line_state) in enumerate(lines, 1):
        line = OrderLine.objects.create(
            order=record,
            line_number=number,
            external_line_id=f"{record.pk}-{number}",
            sku=sku,
            quantity=quantity,
            quantity_shipped=shipped,
            quantity_cancelled=cancelled_units,
            state=line_state,
        )
        if node is not None:
            Allocation.objects.create(line=line, location=node, sku=sku, quantity=quantity)
    if short:
        OrderEvent.objects.create(order=record, kind="state", to_state="backordered")
    if shipped_after is not None:
        Shipment.objects.create(
            order=record,
            location=node,
            carrier=carrier or CarrierFactory(code="UPS"),
            tracking_number=tracking,
            state=Shipment.State.SHIPPED,
            created_by=User.objects.get_or_create(username="shipper")[0],
            shipped_at=placed + timedelta(hours=shipped_after),
        )
    record.refresh_from_db()
    return record
