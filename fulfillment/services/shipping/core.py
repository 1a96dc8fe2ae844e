"""The consequences of a parcel leaving, whatever reported it: stock, allocations, lines,
the order's state, the outbox and the domain event, in the caller's transaction."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.utils import timezone

from erp import events, fastsql
from erp.errors import Conflict
from erp.services.outbox import enqueue_messages
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
from orders.services.shipments import (
    OrderParcel,
    ShippedUnits,
    completes_order,
    record_shipments,
)

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


@dataclass
class Parcel:
    """A shipment of one (locked) order: the portions that leave, the order's lines."""

    order: Order
    shipment: Shipment
    portions: list[Portion]
    lines: list[OrderLine]


def ship(order: Order, shipment: Shipment, portions: list[Portion], lines, actor) -> Shipment:
    """Ship `portions` of `order` (locked by the caller, with its `lines`) as `shipment`."""
    ship_many([Parcel(order, shipment, portions, lines)], actor=actor)
    return shipment


def ship_many(parcels: list[Parcel], *, actor) -> None:
    """Ship parcels (their orders locked by the caller, with their lines; parcels of one
    order share its line objects) in a fixed number of statements: stock leaves through
    one posting (each ledger entry naming its shipment), shipment lines in one insert,
    the shipments and orders in one UPDATE each with their history, every tracking upload
    and notification in one outbox insert, and one `fulfillment.shipment_confirmed` per
    parcel.

    Each channel's upload is formatted before anything is written: an upload the channel
    would refuse fails the confirmation."""
    if not parcels:
        return
    now = timezone.now()
    policies = {
        policy.channel_id: policy
        for policy in ChannelFulfillmentPolicy.objects.filter(
            channel_id__in={parcel.order.channel_id for parcel in parcels}
        ).select_related("tracking_endpoint", "notification_endpoint")
    }
    messages, order_parcels, consumptions, shipment_lines = [], [], [], []
    shipped_so_far = defaultdict(list)  # per order: earlier parcels of this batch
    for parcel in parcels:
        order, shipment, portions = parcel.order, parcel.shipment, parcel.portions
        shipped = [ShippedUnits(p.line, p.allocation, p.quantity) for p in portions]
        completes = completes_order(parcel.lines, shipped_so_far[order.pk] + shipped)
        shipped_so_far[order.pk] += shipped
        policy = policies.get(order.channel_id)
        messages += _messages(order, shipment, portions, parcel.lines, now, completes, policy)
        consumptions += [
            Consumption(
                p.allocation.reservation_id,
                p.quantity,
                p.lot_id,
                tuple(p.serials),
                shipment.number,
            )
            for p in portions
            if p.allocation.reservation_id  # drop-ship units were never our stock
        ]
        shipment_lines += [
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
        order_parcels.append(
            OrderParcel(
                order,
                parcel.lines,
                shipped,
                now,
                f"Shipment {shipment.number} left {shipment.location.code} with "
                f"{shipment.carrier.code} {shipment.tracking_number}; "
                + ("everything shipped." if completes else "the rest is still to ship."),
            )
        )
        shipment.state, shipment.shipped_by, shipment.shipped_at = (
            Shipment.State.SHIPPED,
            actor,
            now,
        )
    if consumptions:
        consume_reservations(consumptions=consumptions, actor=actor, reference="shipment")
    fastsql.insert(shipment_lines, returning=False)
    fastsql.update_many_with_history(
        [parcel.shipment for parcel in parcels], ["state", "shipped_by", "shipped_at"], actor=actor
    )
    record_shipments(order_parcels, actor=actor)
    if messages:
        enqueue_messages(messages)
    for parcel in parcels:
        events.publish(
            events.DomainEvent(
                SHIPMENT_CONFIRMED,
                event_payload(parcel.order, parcel.shipment, parcel.portions),
                actor.pk,
            )
        )


def _messages(order, shipment, portions, lines, now, completes, policy) -> list[dict]:
    """The channel's tracking upload and our own e-mail to the customer, if any."""
    notify_ourselves = bool(
        policy and policy.notify_customer and policy.notification_endpoint and order.customer_email
    )
    notice = notice_for(order, shipment, portions, now, completes, policy, notify_ourselves)
    messages = []
    if policy and policy.tracking_endpoint:
        messages.append(
            {"endpoint": policy.tracking_endpoint, **tracking_message(order, notice, shipment)}
        )
    if notify_ourselves:
        messages.append(
            {
                "topic": NOTIFICATION_TOPIC,
                "endpoint": policy.notification_endpoint,
                "payload": notification(order, notice, lines),
                "dedupe_key": f"{NOTIFICATION_TOPIC}:{shipment.number}",
            }
        )
    return messages
