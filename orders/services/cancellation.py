"""Cancelling an order or part of a line before it ships: reservations are released through
the inventory reservation service, fulfillment hears `orders.order_cancelled` in the same
transaction (pick tasks cancelled, labels voided). Units the warehouse already holds
(on a pick list, picked, packed, shipped) are never cancelled from under it."""

from django.db import transaction
from django.db.models import Sum

from erp import events
from erp.errors import Conflict, NotFound, ValidationFailed
from erp.roles import require_permission
from erp.services import approvals
from inventory.services.reservations import (
    lock_stock_for_routing,
    release_reservation,
)
from orders.models import (
    Allocation,
    HoldReason,
    LineState,
    Order,
    OrderLine,
    OrderState,
)
from orders.services import timeline
from orders.services.evaluation import (
    ROUTABLE,
    SPLIT_APPROVAL_KIND,
    refresh_line_states,
    release_allocations,
    resolve_holds,
    route,
)
from orders.services.in_fulfillment import IN_FULFILLMENT
from orders.services.locking import lock_order

S = OrderState
ORDER_CANCELLED = "orders.order_cancelled"


@transaction.atomic(durable=True)
def cancel_order(*, order_id: int, actor, reason: str) -> Order:
    """Cancel an order that has not shipped: every reservation is released."""
    require_permission(actor, "orders.cancel_order", action="cancel orders")
    if not reason.strip():
        raise ValidationFailed("Give the cancellation reason.", field="reason", code="required")
    order = lock_order(order_id)
    return cancel_locked(order, actor=actor, reason=reason)


@transaction.atomic(savepoint=False)  # in the caller's transaction: ingestion, an edit
def cancel_locked(order: Order, *, actor, reason: str, cancelled_at=None) -> Order:
    if order.state == S.CANCELLED:
        return order
    if order.state not in timeline.CANCELLABLE:
        raise Conflict(
            f"A {order.get_state_display().lower()} order cannot be cancelled.",
            field="state",
            code="not_cancellable",
        )
    release_allocations(Allocation.objects.filter(line__order=order, active=True), actor=actor)
    order.lines.exclude(state=LineState.SHIPPED).update(state=LineState.CANCELLED)
    resolve_holds(order, set(HoldReason.values), actor=actor, resolution="order cancelled")
    _cancel_pending_split_approval(order, actor=actor)
    timeline.set_state(order, S.CANCELLED, actor=actor, message=reason, cancelled_at=cancelled_at)
    # Fulfillment cancels the order's pick tasks in this transaction.
    events.publish(events.DomainEvent(ORDER_CANCELLED, {"order_id": order.pk}, actor_id=actor.pk))
    return order


def _cancel_pending_split_approval(order, *, actor) -> None:
    from erp.models import ApprovalRequest

    for request in ApprovalRequest.objects.select_for_update().filter(
        subject_id=order.pk, kind=SPLIT_APPROVAL_KIND, state="pending"
    ):
        approvals.cancel_approval(request=request, actor=actor, note="order cancelled")


@transaction.atomic(durable=True)
def cancel_line(*, line_id: int, actor, quantity: int, reason: str) -> OrderLine:
    """Cancel part or all of a line; its reservations shrink to what is still wanted."""
    require_permission(actor, "orders.cancel_order", action="cancel order lines")
    line = OrderLine.objects.filter(pk=line_id).first()
    if line is None:
        raise NotFound("No such order line.")
    order = lock_order(line.order_id)
    line.refresh_from_db()
    if order.state not in timeline.CANCELLABLE:
        raise Conflict(
            "Lines of a shipped or cancelled order cannot be cancelled.",
            field="state",
            code="not_cancellable",
        )
    if not isinstance(quantity, int) or quantity <= 0 or quantity > line.open_quantity:
        raise ValidationFailed(
            f"Cancel between 1 and {line.open_quantity} units.",
            field="quantity",
            code="out_of_range",
        )
    keep = line.quantity - line.quantity_cancelled - quantity
    whole_order = (
        keep == 0
        and not line.quantity_shipped
        and not order.lines.exclude(pk=line.pk).exclude(state=LineState.CANCELLED).exists()
    )
    if not whole_order:  # the whole order is cancelled as cancel_order does, labels voided
        check_not_below_committed(order, line, keep, field="quantity")
    cancel_line_units(order=order, line=line, quantity=quantity, actor=actor, reason=reason)
    if not order.lines.exclude(state=LineState.CANCELLED).exists():
        return cancel_locked(order, actor=actor, reason=reason) and line
    if order.state in ROUTABLE:
        route(order, actor=actor)
    return line


def committed_units(order: Order, lines: list[OrderLine]) -> dict[int, int]:
    """Units of each line the warehouse holds: shipped, and, once the order is in
    fulfillment, allocated (an allocation holds what is still to ship; its units are on
    a pick list, picked or packed)."""
    committed = {line.pk: line.quantity_shipped for line in lines}
    if order.state in IN_FULFILLMENT:
        allocated = (
            order.lines.filter(pk__in=list(committed), allocations__active=True)
            .values("pk")
            .annotate(units=Sum("allocations__quantity"))
            .values_list("pk", "units")
        )
        for line_id, units in allocated:
            committed[line_id] += units
    return committed


def check_not_below_committed(
    order: Order, line: OrderLine, keep: int, *, field: str, committed: dict | None = None
) -> None:
    """A line may not be cut below what the warehouse holds (a CS cancellation, a channel
    edit): those units are on a pick list, picked, packed or shipped. Cancelling the whole
    order is the other way (pick tasks cancelled, labels voided)."""
    held = (committed or committed_units(order, [line])).get(line.pk, 0)
    if keep < held:
        raise ValidationFailed(
            f"Line {line.line_number} ({line.channel_sku or line.external_line_id}): "
            f"{keep} would be left, but {held} are already picked, packed, shipped or on a "
            "pick list. Settle it in the warehouse or as a return.",
            field=field,
            code="below_fulfilled",
        )


@transaction.atomic(savepoint=False)
def cancel_line_units(*, order: Order, line: OrderLine, quantity: int, actor, reason: str) -> None:
    """Cancel `quantity` open units of `line` (the caller holds the order lock and has
    checked the quantity): the line's reservations shrink to what is still wanted, newest
    allocation first, through the inventory reservation service, and the timeline
    records it. Re-routing the order is the caller's choice."""
    wanted = line.open_quantity - quantity
    allocations = list(line.allocations.filter(active=True).order_by("-pk"))
    surplus = sum(a.quantity for a in allocations) - wanted
    if surplus > 0:
        # All the SKUs' sellable balances first, in primary-key order as routing locks
        # them, so a release never waits on a routing that waits on it.
        lock_stock_for_routing(channel=order.channel, sku_ids=[a.sku_id for a in allocations])
    for allocation in allocations:
        if surplus <= 0:
            break
        units = min(surplus, allocation.quantity)
        if allocation.reservation_id:
            release_reservation(
                reservation_id=allocation.reservation_id, quantity=units, actor=actor
            )
        if units == allocation.quantity:
            allocation.active = False  # keeps what it held, like a shipped allocation
        else:
            allocation.quantity -= units
        allocation.save(update_fields=["quantity", "active"])
        surplus -= units
    line.quantity_cancelled += quantity
    if line.open_quantity == 0:
        line.state = LineState.CANCELLED
    line.save(update_fields=["quantity_cancelled", "state"])
    if line.state != LineState.CANCELLED:
        refresh_line_states(order, lines=[line])
    timeline.note(
        order,
        "line_cancelled",
        f"Line {line.line_number}: {quantity} cancelled — {reason}",
        actor=actor,
    )
