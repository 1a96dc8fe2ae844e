"""What a parcel leaving or a short pick changes on the order (orders owns these rows):
allocations shrink by what shipped, lines count what shipped, the order becomes shipped or
partially shipped; a short pick's missing units leave their allocation and route again.
Fulfillment decides what left and calls these in its own transaction."""

from collections import defaultdict
from dataclasses import dataclass

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


def record_shipment(
    *,
    order: Order,
    lines: list[OrderLine],
    shipped: list[ShippedUnits],
    shipped_at,
    message: str,
    actor,
) -> bool:
    """Apply a parcel to the order (locked by the caller, with its `lines`): allocations
    shrink (an allocation holds what is still to ship at its node), lines count what
    shipped, and the order becomes shipped or partially shipped with the parcel on its
    timeline. Returns whether the order is now complete."""
    completes = completes_order(lines, shipped)
    _shrink_allocations(shipped)
    _count_shipped(lines, shipped)
    to_state = S.SHIPPED if completes else S.PARTIALLY_SHIPPED
    order.shipped_at = shipped_at  # set first: the state change's history row carries it
    if order.state == to_state:  # a further parcel of a partially shipped order
        timeline.note(order, "shipped", message, actor=actor)
    else:
        timeline.set_state(order, to_state, actor=actor, message=message)
    fastsql.update(order, ["shipped_at"])
    return completes


def _shrink_allocations(shipped: list[ShippedUnits]) -> None:
    units = defaultdict(int)
    allocations = {}
    for portion in shipped:
        units[portion.allocation.pk] += portion.quantity
        allocations[portion.allocation.pk] = portion.allocation
    for pk, quantity in units.items():
        allocation = allocations[pk]
        if quantity >= allocation.quantity:
            allocation.active = False
        else:
            allocation.quantity -= quantity
    fastsql.update_rows(Allocation, list(allocations.values()), ["quantity", "active"])


def _count_shipped(lines: list[OrderLine], shipped: list[ShippedUnits]) -> None:
    per_line = defaultdict(int)
    for portion in shipped:
        per_line[portion.line.pk] += portion.quantity
    changed = []
    for line in lines:
        if not per_line.get(line.pk):
            continue
        line.quantity_shipped += per_line[line.pk]
        if line.open_quantity <= 0:
            line.state = LineState.SHIPPED
        changed.append(line)
    fastsql.update_rows(OrderLine, changed, ["quantity_shipped", "state"])


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
