"""The consequences of a parcel leaving, whatever reported it: stock, allocations, lines,
the order's state, the outbox and the domain event, in the caller's transaction."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.utils import timezone

from erp import events, fastsql
from erp.errors import Conflict
from erp.services.outbox import enqueue_message
from fulfillment.models import (
    ChannelFulfillmentPolicy,
    Shipment,
    ShipmentLine,
)
from fulfillment.services.shipping.messages import (
    NOTIFICATION_TOPIC,
    SHIPMENT_CONFIRMED,
    event_payload,
    notice_for,
    notification,
    tracking_message,
)
from inventory.services.reservations import Consumption, consume_reservations
from orders.models import Allocation, LineState, Order, OrderLine, OrderState
from orders.services import timeline

S = OrderState
SHIPPABLE = {S.RELEASED, S.PICKING, S.PACKED, S.PARTIALLY_SHIPPED}


@dataclass
class Portion:
    """Units of one order line from one allocation (and lot) in this parcel."""

    line: OrderLine
    allocation: Allocation
    quantity: int = 0
    lot_id: int | None = None
    serials: list[str] = field(default_factory=list)


def check_shippable(order: Order) -> None:
    if order.state == S.CANCELLED:
        raise Conflict(
            f"Order {order} was cancelled: it cannot ship.", field="order", code="cancelled"
        )
    if order.state not in SHIPPABLE:
        raise Conflict(
            f"Order {order} is {order.get_state_display().lower()}: it cannot ship.",
            field="order",
            code="not_shippable",
        )


def ship(order: Order, shipment: Shipment, portions: list[Portion], lines, actor) -> Shipment:
    """Ship `portions` of `order` (locked by the caller, with its `lines`) as `shipment`.

    The channel's upload is formatted before anything is written: an upload the channel
    would refuse fails the confirmation."""
    now = timezone.now()
    shipped_per_line = defaultdict(int)
    for portion in portions:
        shipped_per_line[portion.line.pk] += portion.quantity
    completes = all(
        line.open_quantity - shipped_per_line[line.pk] <= 0
        for line in lines
        if line.state != LineState.CANCELLED
    )
    policy = (
        ChannelFulfillmentPolicy.objects.filter(channel_id=order.channel_id)
        .select_related("tracking_endpoint", "notification_endpoint")
        .first()
    )
    notify_ourselves = bool(
        policy and policy.notify_customer and policy.notification_endpoint and order.customer_email
    )
    notice = notice_for(order, shipment, portions, now, completes, policy, notify_ourselves)
    tracking = (
        tracking_message(order, notice, shipment) if policy and policy.tracking_endpoint else None
    )
    consumptions = [
        Consumption(p.allocation.reservation_id, p.quantity, p.lot_id, tuple(p.serials))
        for p in portions
        if p.allocation.reservation_id  # drop-ship units were never our stock
    ]
    if consumptions:
        consume_reservations(consumptions=consumptions, actor=actor, reference=shipment.number)
    _shrink_allocations(portions)
    ShipmentLine.objects.bulk_create(
        [
            ShipmentLine(
                shipment=shipment,
                line=p.line,
                allocation=p.allocation,
                sku_id=p.allocation.sku_id,
                quantity=p.quantity,
                lot_id=p.lot_id,
                serials=p.serials,
            )
            for p in portions
        ]
    )
    _count_shipped(lines, shipped_per_line)
    shipment.state, shipment.shipped_by, shipment.shipped_at = Shipment.State.SHIPPED, actor, now
    shipment._history_user = actor
    shipment.save(update_fields=["state", "shipped_by", "shipped_at"])
    _advance_order(order, completes, shipment, actor, now)
    if tracking:
        enqueue_message(endpoint=policy.tracking_endpoint, **tracking)
    if notify_ourselves:
        enqueue_message(
            topic=NOTIFICATION_TOPIC,
            endpoint=policy.notification_endpoint,
            payload=notification(order, notice, lines),
            dedupe_key=f"{NOTIFICATION_TOPIC}:{shipment.number}",
        )
    events.publish(
        events.DomainEvent(SHIPMENT_CONFIRMED, event_payload(order, shipment, portions), actor.pk)
    )
    return shipment


def _shrink_allocations(portions: list[Portion]) -> None:
    """An allocation holds what is still to ship of its line at its node."""
    shipped = defaultdict(int)
    allocations = {}
    for portion in portions:
        shipped[portion.allocation.pk] += portion.quantity
        allocations[portion.allocation.pk] = portion.allocation
    for pk, units in shipped.items():
        allocation = allocations[pk]
        if units >= allocation.quantity:
            allocation.active = False
        else:
            allocation.quantity -= units
    write_rows(Allocation, list(allocations.values()), ["quantity", "active"])


def _count_shipped(lines: list[OrderLine], shipped_per_line) -> None:
    changed = []
    for line in lines:
        if not shipped_per_line.get(line.pk):
            continue
        line.quantity_shipped += shipped_per_line[line.pk]
        if line.open_quantity <= 0:
            line.state = LineState.SHIPPED
        changed.append(line)
    write_rows(OrderLine, changed, ["quantity_shipped", "state"])


def write_rows(model, rows, fields: list[str]) -> None:
    """One UPDATE per (locked) row, sent together (erp.fastsql.update_rows)."""
    fastsql.update_rows(model, rows, fields)


def _advance_order(order: Order, completes: bool, shipment, actor, now) -> None:
    to_state = S.SHIPPED if completes else S.PARTIALLY_SHIPPED
    message = (
        f"Shipment {shipment.number} left {shipment.location.code} with "
        f"{shipment.carrier.code} {shipment.tracking_number}; "
        + ("everything shipped." if completes else "the rest is still to ship.")
    )
    if order.state == to_state:  # a further parcel of a partially shipped order
        timeline.note(order, "shipped", message, actor=actor)
    else:
        # Set before the state change so its history row carries it; saved just below.
        order.shipped_at = now
        timeline.set_state(order, to_state, actor=actor, message=message)
    Order.objects.filter(pk=order.pk).update(shipped_at=now)
