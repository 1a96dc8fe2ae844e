"""The writes to orders' rows that fulfillment makes: orders own them, fulfillment calls
these in its own transaction with the order locked (waves start picking, a package
completes the order, lines re-routed after a short pick or when stock arrives, the
warehouse's entries on the order's timeline). Shipments and short picks are in
`orders.services.shipments`."""

from django.db import transaction

from orders.models import (
    LineState,
    Order,
    OrderLine,
    OrderState,
)
from orders.services import routing, timeline
from orders.services.evaluation import refresh_line_states
from orders.services.locking import lock_order

S = OrderState


# Orders in the warehouse's hands: their lines may still be re-routed (a short pick, stock
# arriving for a backordered line), but the order keeps its fulfillment state.
IN_FULFILLMENT = {S.PICKING, S.PACKED, S.PARTIALLY_SHIPPED}


def advance_orders(*, orders: list[Order], to_state: str, actor, message: str) -> None:
    """Move many orders (locked by the caller) to `to_state` (timeline.advance_many)."""
    timeline.advance_many(orders=orders, to_state=to_state, actor=actor, message=message)


def route_line_in_fulfillment(
    *, order: Order, line: OrderLine, actor, avoid_location_id: int | None = None
) -> int:
    """Allocate what a line of an order already in fulfillment still needs (the caller
    holds the order lock) through the one planner: no substitution, never held for a
    split, the node a picker came up short at avoided. Returns the units allocated; the
    rest stays backordered."""
    allocated = 0
    if line.sku_id:
        routed = routing.route_order(
            order=order,
            actor=actor,
            lines=[line],
            allow_costly_split=True,
            allow_substitution=False,
            avoid_location_ids={avoid_location_id} if avoid_location_id else frozenset(),
        )
        allocated = routed.added.get(line.pk, 0) if routed else 0
    refresh_line_states(order, lines=[line])
    return allocated


def route_backorders_in_fulfillment(*, sku_ids: list[int], actor) -> int:
    """Stock arrived: allocate the backordered lines of orders already in fulfillment
    (picking, packed, partially shipped), oldest first. Returns the lines allocated."""
    line_ids = list(
        OrderLine.objects.filter(
            state=LineState.BACKORDERED, sku_id__in=sku_ids, order__state__in=IN_FULFILLMENT
        )
        .order_by("order__placed_at", "order_id", "pk")
        .values_list("pk", flat=True)
    )
    routed = 0
    for line_id in line_ids:
        with transaction.atomic(durable=True):  # one line per transaction (a task)
            line = OrderLine.objects.select_related("sku").get(pk=line_id)
            order = lock_order(line.order_id)
            line.refresh_from_db()
            if order.state not in IN_FULFILLMENT or line.state != LineState.BACKORDERED:
                continue
            routed += route_line_in_fulfillment(order=order, line=line, actor=actor) > 0
    return routed


# The kinds of entries the warehouse writes on an order's timeline.
WAREHOUSE_EVENTS = {"packed", "short_pick", "label", "label_voided"}


def mark_packed(*, order: Order, actor, message: str) -> None:
    """Every picked unit of the order (locked by the caller) is in a package."""
    timeline.set_state(order, S.PACKED, actor=actor, message=message)


def note_warehouse_event(*, order: Order, kind: str, message: str, actor) -> None:
    """A warehouse event on the order's timeline (a package, a label, a short pick)."""
    if kind not in WAREHOUSE_EVENTS:
        raise ValueError(f"Unknown warehouse event {kind!r}.")
    timeline.note(order, kind, message, actor=actor)
