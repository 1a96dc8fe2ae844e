"""What a parcel leaving or a short pick changes on the order (orders owns these rows):
allocations shrink by what shipped, lines count what shipped, the order becomes shipped or
partially shipped; a short pick's missing units leave their allocation and route again.
Fulfillment decides what left and calls these in its own transaction."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from erp import fastsql
from inventory.services.reservations import release_reservation
from orders.models import Allocation, LineState, Order, OrderLine, OrderState
from orders.services import timeline

S = OrderState


@dataclass(frozen=True)
class ShippedUnits:
    """Units of one order line that left from one allocation."""

    line: OrderLine
    allocation: Allocation
    quantity: int


def completes_order(lines: list[OrderLine], shipped: list[ShippedUnits]) -> bool:
    """True when nothing of the order's open lines is left to ship after `shipped`."""
    per_line = defaultdict(int)
    for units in shipped:
        per_line[units.line.pk] += units.quantity
    return all(
        line.open_quantity - per_line[line.pk] <= 0
        for line in lines
        if line.state != LineState.CANCELLED
    )


@dataclass(frozen=True)
class OrderParcel:
    """A parcel as the order sees it: its (locked) order and lines, the units that left."""

    order: Order
    lines: list[OrderLine]
    shipped: list[ShippedUnits]
    shipped_at: datetime
    message: str


def record_shipment(
    *,
    order: Order,
    lines: list[OrderLine],
    shipped: list[ShippedUnits],
    shipped_at,
    message: str,
    actor,
) -> bool:
    """Apply one parcel to the order (see `record_shipments`). Returns whether the order is
    now complete."""
    [completes] = record_shipments(
        [OrderParcel(order, lines, shipped, shipped_at, message)], actor=actor
    )
    return completes


def record_shipments(parcels: list[OrderParcel], *, actor) -> list[bool]:
    """Apply parcels to their orders (locked by the caller, with their lines): allocations
    shrink (an allocation holds what is still to ship at its node), lines count what
    shipped, and each order becomes shipped or partially shipped with its parcels on its
    timeline. Parcels of one order apply in turn (pass the same line objects for them).
    A fixed number of statements however many parcels. Returns, per parcel, whether it
    completed its order."""
    completed, lines, allocations = [], {}, {}
    timeline_entries: dict[int, list] = {}
    orders: dict[int, Order] = {}
    state_after: dict[int, str] = {}
    for parcel in parcels:
        order = parcel.order
        completes = completes_order(parcel.lines, parcel.shipped)
        _shrink_allocations(parcel.shipped, allocations)
        _count_shipped(parcel.lines, parcel.shipped, lines)
        to_state = S.SHIPPED if completes else S.PARTIALLY_SHIPPED
        entries = timeline_entries.setdefault(order.pk, [])
        if state_after.get(order.pk, order.state) == to_state:  # a further parcel
            entries.append(("shipped", None, parcel.message))
        else:
            entries.append(("state", to_state, parcel.message))
        state_after[order.pk] = to_state
        order.shipped_at = parcel.shipped_at  # written with the state, in its history row
        orders[order.pk] = order
        completed.append(completes)
    fastsql.update_rows(Allocation, list(allocations.values()), ["quantity", "active"])
    fastsql.update_rows(OrderLine, list(lines.values()), ["quantity_shipped", "state"])
    timeline.advance_each(
        [(orders[pk], timeline_entries[pk]) for pk in sorted(orders)],
        actor=actor,
        also=("shipped_at",),
    )
    return completed


def _shrink_allocations(shipped: list[ShippedUnits], changed: dict) -> None:
    units = defaultdict(int)
    for portion in shipped:
        units[portion.allocation.pk] += portion.quantity
        changed[portion.allocation.pk] = portion.allocation
    for pk, quantity in units.items():
        allocation = changed[pk]
        if quantity >= allocation.quantity:
            allocation.active = False
        else:
            allocation.quantity -= quantity


def _count_shipped(lines: list[OrderLine], shipped: list[ShippedUnits], changed: dict) -> None:
    per_line = defaultdict(int)
    for portion in shipped:
        per_line[portion.line.pk] += portion.quantity
    for line in lines:
        if not per_line.get(line.pk):
            continue
        line.quantity_shipped += per_line[line.pk]
        if line.open_quantity <= 0:
            line.state = LineState.SHIPPED
        changed[line.pk] = line


def take_back_short_units(*, allocation_id: int, missing: int, actor) -> Allocation:
    """A picker found `missing` units fewer than allocated: the allocation shrinks (or ends)
    and its reservation gives the units back. The caller routes them again."""
    allocation = Allocation.objects.select_for_update().get(pk=allocation_id)
    if allocation.reservation_id:
        release_reservation(reservation_id=allocation.reservation_id, actor=actor, quantity=missing)
    if missing >= allocation.quantity:
        allocation.active = False
    else:
        allocation.quantity -= missing
    allocation.save(update_fields=["active", "quantity"])
    return allocation
