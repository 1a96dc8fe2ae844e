"""The order's life after ingestion: validate → hold or route → release, and routing again
(re-route, stock arriving, a costly split decided).

Every service locks the order row first and changes state through `timeline`."""

from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from erp import fastsql
from erp.errors import Conflict
from erp.roles import require_permission
from erp.services import approvals
from inventory.services.reservations import (
    release_many,
)
from orders.models import (
    Allocation,
    HoldReason,
    LineState,
    Order,
    OrderHold,
    OrderLine,
    OrderState,
)
from orders.services import routing, timeline
from orders.services.locking import lock_order
from orders.services.validation import AddressCheck, find_problems

S = OrderState
SPLIT_APPROVAL_KIND = routing.SPLIT_APPROVAL_KIND
ROUTABLE = {S.READY, S.BACKORDERED, S.PARTIALLY_ALLOCATED, S.ALLOCATED, S.RELEASED}


def open_holds(order: Order) -> list[OrderHold]:
    return list(order.holds.filter(resolved_at__isnull=True))


def place_holds(order: Order, problems, *, actor) -> None:
    existing = {hold.reason for hold in open_holds(order)}
    new = [
        OrderHold(order=order, reason=reason, detail=detail[:500], created_by=actor)
        for reason, detail in problems
        if reason not in existing
    ]
    OrderHold.objects.bulk_create(new)
    for hold in new:
        timeline.note(
            order, "hold", f"Held: {hold.get_reason_display()} — {hold.detail}", actor=actor
        )
    timeline.set_state(order, S.ON_HOLD, actor=actor, message="; ".join(d for _, d in problems))


def resolve_holds(order: Order, reasons, *, actor, resolution: str) -> None:
    order.holds.filter(resolved_at__isnull=True, reason__in=list(reasons)).update(
        resolved_at=timezone.now(), resolved_by=actor, resolution=resolution[:500]
    )


def evaluate_order(
    *,
    order: Order,
    actor,
    new: bool = False,
    lines=None,
    substitutes=None,
    address_check: AddressCheck | None = None,
) -> Order:
    """Validate; hold with every reason found, or route, reserve and (when complete) release.

    `new` (a just-ingested order) skips the reads of holds and allocations it cannot have;
    ingestion also hands over the `lines` it just wrote (with their SKUs) and the SKUs'
    `substitutes` (sku id → substitute ids) the mapping read with them. `address_check`:
    the address validator's answer, taken before the caller's transaction.
    """
    if lines is None:
        lines = list(order.lines.select_related("sku"))
    problems = find_problems(order, lines, address_check=address_check)
    if not new:
        passing = {
            HoldReason.ADDRESS_INVALID,
            HoldReason.TAX_DATA_MISSING,
            HoldReason.SKU_NOT_MAPPED,
            HoldReason.PAYMENT_NOT_CAPTURED,
            HoldReason.RISK_ABOVE_THRESHOLD,
            HoldReason.AWAITING_CHANNEL,
        } - {r for r, _ in problems}
        resolve_holds(order, passing, actor=actor, resolution="re-validated: passes now")
        blocking = any(
            h.reason in (HoldReason.MANUAL, HoldReason.SPLIT_NEEDS_APPROVAL)
            for h in open_holds(order)
        )
        if blocking and not problems:
            return order
    if problems:
        place_holds(order, problems, actor=actor)
        return order
    steps = [(S.READY, "validated")] if order.state in (S.RECEIVED, S.ON_HOLD) else []
    return route(order, actor=actor, lines=lines, steps=steps, new=new, substitutes=substitutes)


def route(
    order: Order,
    *,
    actor,
    allow_costly_split: bool = False,
    lines=None,
    steps=None,
    substitutes=None,
    new: bool = False,
) -> Order:
    steps = list(steps or [])
    routed = routing.route_order(
        order=order,
        actor=actor,
        allow_costly_split=allow_costly_split,
        lines=lines,
        new=new,
        substitutes=substitutes,
    )
    decision = routed.decision if routed else None
    if decision and decision.plan == "split_pending_approval":
        timeline.advance(order, steps, actor=actor)
        _request_split_approval(order, decision, actor=actor)
        return order
    state = refresh_line_states(order, lines=lines, allocated=routed.allocated if routed else None)
    current = steps[-1][0] if steps else order.state
    if current != S.RELEASED and state != current:
        steps.append((state, decision.explanation if decision else ""))
        current = state
    if current == S.ALLOCATED and (new or not open_holds(order)):
        steps.append((S.RELEASED, "complete and low-risk: released"))
    timeline.advance(order, steps, actor=actor)
    return order


def _request_split_approval(order, decision, *, actor) -> None:
    extra = decision.extra_cost
    OrderHold.objects.get_or_create(
        order=order,
        reason=HoldReason.SPLIT_NEEDS_APPROVAL,
        resolved_at=None,
        defaults={"detail": decision.explanation[:500], "created_by": actor},
    )
    if order.state != S.ON_HOLD:
        timeline.set_state(order, S.ON_HOLD, actor=actor, message="split needs approval")
    from erp.models import ApprovalRequest

    if not ApprovalRequest.objects.filter(
        subject_id=order.pk, kind=SPLIT_APPROVAL_KIND, state="pending"
    ).exists():
        approvals.request_approval(
            kind=SPLIT_APPROVAL_KIND,
            subject=order,
            amount=extra,
            requested_by=actor,
            currency=order.currency,
            summary=f"Split {order} — {extra} extra shipping",
            note=decision.explanation,
        )


def refresh_line_states(order: Order, *, lines=None, allocated=None) -> str:
    """Set each open line allocated or backordered; return the order's allocation state."""
    if allocated is None:
        allocated = dict(
            Allocation.objects.filter(line__order=order, active=True)
            .values("line_id")
            .annotate(total=Sum("quantity"))
            .values_list("line_id", "total")
        )
    lines = lines if lines is not None else list(order.lines.all())
    complete, anything = True, False
    changes = {LineState.ALLOCATED: [], LineState.BACKORDERED: []}
    for line in lines:
        if line.state in (LineState.CANCELLED, LineState.SHIPPED):
            continue
        held = allocated.get(line.pk, 0)
        anything = anything or held > 0
        state = (
            LineState.ALLOCATED
            if line.sku_id and held >= line.open_quantity
            else LineState.BACKORDERED
        )
        complete = complete and state == LineState.ALLOCATED
        if line.state != state and line.sku_id:
            changes[state].append(line.pk)
            line.state = state
    fastsql.set_by_pk(
        OrderLine,
        "state",
        {line_id: state for state, line_ids in changes.items() for line_id in line_ids},
    )
    if complete:
        return S.ALLOCATED
    return S.PARTIALLY_ALLOCATED if anything else S.BACKORDERED


def release_allocations(allocations, *, actor) -> None:
    allocations = list(allocations)
    release_many(
        reservation_ids=[a.reservation_id for a in allocations if a.reservation_id], actor=actor
    )
    Allocation.objects.filter(pk__in=[a.pk for a in allocations]).update(active=False)


@transaction.atomic(durable=True)
def reroute_order(*, order_id: int, actor) -> Order:
    """Drop the current allocations and route again (stock moved, a node closed)."""
    require_permission(actor, "orders.change_order", action="re-route orders")
    order = lock_order(order_id)
    if order.state not in ROUTABLE:
        raise Conflict(
            f"A {order.get_state_display().lower()} order cannot be re-routed.", field="state"
        )
    release_allocations(Allocation.objects.filter(line__order=order, active=True), actor=actor)
    order.lines.filter(state=LineState.ALLOCATED).update(state=LineState.OPEN)
    timeline.note(order, "reroute", "Re-routed: allocations released", actor=actor)
    if order.state == S.RELEASED or order.state != S.READY:
        timeline.set_state(order, S.READY, actor=actor, message="re-routing")
    return route(order, actor=actor)


def route_backorders(*, sku_ids: list[int], actor) -> int:
    """Stock arrived: route waiting lines of these SKUs, oldest order first."""
    order_ids = list(
        Order.objects.filter(
            state__in=[S.BACKORDERED, S.PARTIALLY_ALLOCATED, S.RELEASED],
            lines__state=LineState.BACKORDERED,
            lines__sku_id__in=sku_ids,
        )
        .order_by("placed_at", "id")
        .values_list("pk", flat=True)
        .distinct()
    )
    routed = 0
    for order_id in order_ids:
        with transaction.atomic(durable=True):  # one order per transaction (a task)
            order = lock_order(order_id)
            if order.state in (S.BACKORDERED, S.PARTIALLY_ALLOCATED, S.RELEASED) and not open_holds(
                order
            ):
                before = order.state
                route(order, actor=actor)
                routed += order.state != before
    return routed


def _on_split_approved(*, request, actor) -> None:
    order = lock_order(request.subject_id)
    resolve_holds(
        order, {HoldReason.SPLIT_NEEDS_APPROVAL}, actor=actor, resolution="split approved"
    )
    timeline.set_state(order, S.READY, actor=actor, message="split approved")
    route(order, actor=actor, allow_costly_split=True)


def _on_split_rejected(*, request, actor) -> None:
    order = lock_order(request.subject_id)
    resolve_holds(
        order,
        {HoldReason.SPLIT_NEEDS_APPROVAL},
        actor=actor,
        resolution=f"split rejected: {request.decision_note}",
    )
    order.lines.filter(state=LineState.OPEN).update(state=LineState.BACKORDERED)
    timeline.set_state(
        order, S.READY, actor=actor, message="split rejected: wait for stock in one node"
    )
    timeline.set_state(order, S.BACKORDERED, actor=actor, message=request.decision_note)


approvals.register_approval_kind(
    SPLIT_APPROVAL_KIND,
    label="Costly split shipment",
    default_threshold=Decimal("15.00"),
    permission="orders.approve_split",
    on_approved=_on_split_approved,
    on_rejected=_on_split_rejected,
)
