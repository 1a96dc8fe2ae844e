"""The consequences of a parcel leaving, whatever reported it: stock, allocations, lines,
the order's state, the outbox and the domain event, in the caller's transaction."""

from dataclasses import dataclass, field

from django.utils import timezone

from erp import events
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
from orders.models import Allocation, Order, OrderLine, OrderState
from orders.services.shipments import ShippedUnits, completes_order, record_shipment

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
    shipped = [ShippedUnits(p.line, p.allocation, p.quantity) for p in portions]
    completes = completes_order(lines, shipped)
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
    shipment.state, shipment.shipped_by, shipment.shipped_at = Shipment.State.SHIPPED, actor, now
    shipment._history_user = actor
    shipment.save(update_fields=["state", "shipped_by", "shipped_at"])
    record_shipment(
        order=order,
        lines=lines,
        shipped=shipped,
        shipped_at=now,
        message=(
            f"Shipment {shipment.number} left {shipment.location.code} with "
            f"{shipment.carrier.code} {shipment.tracking_number}; "
            + ("everything shipped." if completes else "the rest is still to ship.")
        ),
        actor=actor,
    )
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
