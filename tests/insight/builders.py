"""Orders with every timestamp the KPIs read, written as the services leave them."""

from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import User

from fulfillment.models import Shipment
from orders.models import Allocation, Order, OrderEvent, OrderLine
from returns.models import Inspection, ReceivedItem, ReturnReceipt, Rma, RmaLine
from tests.factories.fulfillment import CarrierFactory
from tests.factories.orders import OrderFactory
from tests.factories.returns import ReturnReasonFactory

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


def returned(record, *, restocked: int, disposed: int, when: datetime):
    """An inspected RMA for the order's first line: `restocked + disposed` units back."""
    line = record.lines.order_by("line_number").first()
    user = User.objects.get_or_create(username="inspector")[0]
    units = restocked + disposed
    rma = Rma.objects.create(
        number=f"RMA-{record.pk}",
        channel=record.channel,
        order=record,
        state="inspected",
        expected_by=when + timedelta(days=7),
        created_by=user,
        authorized_at=when,
        state_changed_at=when,
    )
    rma_line = RmaLine.objects.create(
        rma=rma,
        order_line=line,
        sku=line.sku,
        quantity=units,
        quantity_received=units,
        reason=ReturnReasonFactory(code="damaged-in-transit"),
    )
    node = line.allocations.first().location
    receipt = ReturnReceipt.objects.create(
        rma=rma, location=node, received_by=user, received_at=when
    )
    item = ReceivedItem.objects.create(
        receipt=receipt,
        rma=rma,
        rma_line=rma_line,
        sku=line.sku,
        location=node,
        quantity=units,
        received_at=when,
    )
    for quantity, grade, disposition in (
        (restocked, "new", "restock"),
        (disposed, "damaged", "dispose"),
    ):
        if quantity:
            Inspection.objects.create(
                rma=rma,
                received_item=item,
                quantity=quantity,
                grade=grade,
                disposition=disposition,
                inspected_by=user,
                inspected_at=when,
            )
    return rma
