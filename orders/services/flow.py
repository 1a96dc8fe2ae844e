"""The order's life after ingestion: validate → hold or route → release; CS actions.

Every public function here is a service: it checks the actor's permission, locks the
order row, changes state through `timeline.set_state`, and leaves a timeline entry.
"""

from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from erp import events, fastsql
from erp.errors import Conflict, NotFound, ValidationFailed
from erp.roles import require_permission
from erp.services import approvals
from inventory.services.reservations import (
    lock_stock_for_routing,
    release_many,
    release_reservation,
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
from orders.services.sku_mapping import map_channel_skus
from orders.services.validation import find_problems

S = OrderState
OVERRIDABLE = {HoldReason.RISK_ABOVE_THRESHOLD, HoldReason.PAYMENT_NOT_CAPTURED, HoldReason.MANUAL}
SPLIT_APPROVAL_KIND = routing.SPLIT_APPROVAL_KIND
ORDER_CANCELLED = "orders.order_cancelled"
ROUTABLE = {S.READY, S.BACKORDERED, S.PARTIALLY_ALLOCATED, S.ALLOCATED, S.RELEASED}


def lock_order(order_id: int) -> Order:
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("channel")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise NotFound("No such order.")
    return order


def open_holds(order: Order) -> list[OrderHold]:
    return list(order.holds.filter(resolved_at__isnull=True))


def _place_holds(order: Order, problems, *, actor) -> None:
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


def _resolve(order: Order, reasons, *, actor, resolution: str) -> None:
    order.holds.filter(resolved_at__isnull=True, reason__in=list(reasons)).update(
        resolved_at=timezone.now(), resolved_by=actor, resolution=resolution[:500]
    )


def evaluate_order(
    *, order: Order, actor, new: bool = False, lines=None, substitutes=None
) -> Order:
    """Validate; hold with every reason found, or route, reserve and (when complete) release.

    `new` (a just-ingested order) skips the reads of holds and allocations it cannot have;
    ingestion also hands over the `lines` it just wrote (with their SKUs) and the SKUs'
    `substitutes` (sku id → substitute ids) the mapping read with them.
    """
    if lines is None:
        lines = list(order.lines.select_related("sku"))
    problems = find_problems(order, lines)
    if not new:
        passing = {
            HoldReason.ADDRESS_INVALID,
            HoldReason.TAX_DATA_MISSING,
            HoldReason.SKU_NOT_MAPPED,
            HoldReason.PAYMENT_NOT_CAPTURED,
            HoldReason.RISK_ABOVE_THRESHOLD,
            HoldReason.AWAITING_CHANNEL,
        } - {r for r, _ in problems}
        _resolve(order, passing, actor=actor, resolution="re-validated: passes now")
        blocking = any(
            h.reason in (HoldReason.MANUAL, HoldReason.SPLIT_NEEDS_APPROVAL)
            for h in open_holds(order)
        )
        if blocking and not problems:
            return order
    if problems:
        _place_holds(order, problems, actor=actor)
        return order
    steps = [(S.READY, "validated")] if order.state in (S.RECEIVED, S.ON_HOLD) else []
    return _route(order, actor=actor, lines=lines, steps=steps, new=new, substitutes=substitutes)


def _route(
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
    state = _refresh_line_states(order, lines=lines, allocated=routed.allocated if routed else None)
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


def _refresh_line_states(order: Order, *, lines=None, allocated=None) -> str:
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


@transaction.atomic
def release_order(*, order_id: int, actor, note: str = "") -> Order:
    """CS releases a held order: overridable holds (risk, payment, manual) end with the
    note; the order is validated again and routes if nothing else holds it. A partially
    allocated order is released to ship what is in stock."""
    require_permission(actor, "orders.release_order", action="release orders")
    order = lock_order(order_id)
    if order.state not in (S.ON_HOLD, S.PARTIALLY_ALLOCATED, S.BACKORDERED, S.ALLOCATED, S.READY):
        raise Conflict(
            f"A {order.get_state_display().lower()} order cannot be released.", field="state"
        )
    holds = open_holds(order)
    if any(h.reason == HoldReason.AWAITING_CHANNEL for h in holds):
        raise Conflict(
            f"{order.channel.name} has not priced this order yet; it cannot be released "
            "before the channel confirms it.",
            field="state",
            code="awaiting_channel",
        )
    if (
        any(
            h.reason in (HoldReason.RISK_ABOVE_THRESHOLD, HoldReason.PAYMENT_NOT_CAPTURED)
            for h in holds
        )
        and not note.strip()
    ):
        raise ValidationFailed(
            "Say why this risk or payment hold is overridden.", field="note", code="required"
        )
    _resolve(order, OVERRIDABLE, actor=actor, resolution=note or "released by customer service")
    _remap_lines(order)
    order.risk_score = (
        None
        if any(h.reason == HoldReason.RISK_ABOVE_THRESHOLD for h in holds)
        else order.risk_score
    )
    if any(h.reason == HoldReason.PAYMENT_NOT_CAPTURED for h in holds):
        order.payment_status = (
            "captured" if order.payment_status != "captured" else order.payment_status
        )
    timeline.note(
        order, "release", f"Released by {actor.get_username()}: {note}".strip(": "), actor=actor
    )
    evaluate_order(order=order, actor=actor)
    if order.state == S.PARTIALLY_ALLOCATED and not open_holds(order):
        timeline.set_state(
            order, S.RELEASED, actor=actor, message="released to ship what is in stock"
        )
    return order


def _remap_lines(order: Order) -> None:
    """Map lines left unmapped again (a listing was added since), by the ingestion rule."""
    unmapped = list(order.lines.filter(sku__isnull=True))
    if not unmapped:
        return
    mapping = map_channel_skus(
        order.channel, [(line.channel_sku, line.external_item_id) for line in unmapped]
    )
    found = {}
    for line in unmapped:
        sku = mapping.sku_for(line.channel_sku, line.external_item_id)
        if sku is not None:
            found[line.pk] = sku.pk
    fastsql.set_by_pk(OrderLine, "sku", found)


@transaction.atomic
def hold_order(*, order_id: int, actor, note: str) -> Order:
    """Put an order on a manual hold (CS suspects something); its reservations stay."""
    require_permission(actor, "orders.change_order", action="hold orders")
    if not note.strip():
        raise ValidationFailed("Say why the order is held.", field="note", code="required")
    order = lock_order(order_id)
    if order.state not in timeline.CANCELLABLE:
        raise Conflict("Only orders not yet shipped can be held.", field="state")
    _place_holds(order, [(HoldReason.MANUAL, note)], actor=actor)
    return order


@transaction.atomic
def cancel_order(*, order_id: int, actor, reason: str) -> Order:
    """Cancel an order that has not shipped: every reservation is released."""
    require_permission(actor, "orders.cancel_order", action="cancel orders")
    if not reason.strip():
        raise ValidationFailed("Give the cancellation reason.", field="reason", code="required")
    order = lock_order(order_id)
    return _cancel_locked(order, actor=actor, reason=reason)


def _cancel_locked(order: Order, *, actor, reason: str, cancelled_at=None) -> Order:
    if order.state == S.CANCELLED:
        return order
    if order.state not in timeline.CANCELLABLE:
        raise Conflict(
            f"A {order.get_state_display().lower()} order cannot be cancelled.",
            field="state",
            code="not_cancellable",
        )
    _release_allocations(Allocation.objects.filter(line__order=order, active=True), actor=actor)
    order.lines.exclude(state=LineState.SHIPPED).update(state=LineState.CANCELLED)
    _resolve(order, set(HoldReason.values), actor=actor, resolution="order cancelled")
    _cancel_pending_split_approval(order, actor=actor)
    timeline.set_state(order, S.CANCELLED, actor=actor, message=reason, cancelled_at=cancelled_at)
    # Fulfillment cancels the order's pick tasks in this transaction.
    events.publish(events.DomainEvent(ORDER_CANCELLED, {"order_id": order.pk}, actor_id=actor.pk))
    return order


def _release_allocations(allocations, *, actor) -> None:
    allocations = list(allocations)
    release_many(
        reservation_ids=[a.reservation_id for a in allocations if a.reservation_id], actor=actor
    )
    Allocation.objects.filter(pk__in=[a.pk for a in allocations]).update(active=False)


def _cancel_pending_split_approval(order, *, actor) -> None:
    from erp.models import ApprovalRequest

    for request in ApprovalRequest.objects.select_for_update().filter(
        subject_id=order.pk, kind=SPLIT_APPROVAL_KIND, state="pending"
    ):
        approvals.cancel_approval(request=request, actor=actor, note="order cancelled")


@transaction.atomic
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
        return _cancel_locked(order, actor=actor, reason=reason) and line
    if order.state in ROUTABLE:
        _route(order, actor=actor)
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
        _refresh_line_states(order, lines=[line])
    timeline.note(
        order,
        "line_cancelled",
        f"Line {line.line_number}: {quantity} cancelled — {reason}",
        actor=actor,
    )


ADDRESS_FIELDS = [
    "ship_name",
    "ship_company",
    "ship_line1",
    "ship_line2",
    "ship_city",
    "ship_region",
    "ship_postal_code",
    "ship_country",
    "ship_phone",
]


@transaction.atomic
def edit_ship_to(*, order_id: int, actor, address: dict) -> Order:
    """Correct the ship-to address before the order ships; validation runs again."""
    require_permission(actor, "orders.change_order", action="edit orders")
    unknown = sorted(set(address) - set(ADDRESS_FIELDS))
    if unknown:
        raise ValidationFailed(
            "This field is not recognised.", field=unknown[0], code="unknown_field"
        )
    order = lock_order(order_id)
    if order.state not in timeline.CANCELLABLE or order.state in (S.PICKING, S.PACKED):
        raise Conflict("The address can change only before picking starts.", field="state")
    changes = [
        f"{name[5:]}: {getattr(order, name)!r} → {value!r}"
        for name, value in address.items()
        if getattr(order, name) != value
    ]
    for name, value in address.items():
        setattr(order, name, (value or "").strip()[:255])
    order.ship_country = order.ship_country.upper()
    if len(order.ship_country) != 2 or not order.ship_country.isalpha():
        raise ValidationFailed(
            "Use the two-letter country code (ISO 3166-1), e.g. US.",
            field="ship_country",
            code="invalid",
        )
    order._history_user = actor
    order._change_reason = "ship-to edited"
    order.save(update_fields=list(address))
    del order._change_reason  # later saves in this call are not address edits
    timeline.note(order, "address", "Ship-to edited: " + "; ".join(changes), actor=actor)
    if order.state == S.ON_HOLD:
        evaluate_order(order=order, actor=actor)
    return order


@transaction.atomic
def reroute_order(*, order_id: int, actor) -> Order:
    """Drop the current allocations and route again (stock moved, a node closed)."""
    require_permission(actor, "orders.change_order", action="re-route orders")
    order = lock_order(order_id)
    if order.state not in ROUTABLE:
        raise Conflict(
            f"A {order.get_state_display().lower()} order cannot be re-routed.", field="state"
        )
    _release_allocations(Allocation.objects.filter(line__order=order, active=True), actor=actor)
    order.lines.filter(state=LineState.ALLOCATED).update(state=LineState.OPEN)
    timeline.note(order, "reroute", "Re-routed: allocations released", actor=actor)
    if order.state == S.RELEASED or order.state != S.READY:
        timeline.set_state(order, S.READY, actor=actor, message="re-routing")
    return _route(order, actor=actor)


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
        with transaction.atomic():
            order = lock_order(order_id)
            if order.state in (S.BACKORDERED, S.PARTIALLY_ALLOCATED, S.RELEASED) and not open_holds(
                order
            ):
                before = order.state
                _route(order, actor=actor)
                routed += order.state != before
    return routed


def _on_split_approved(*, request, actor) -> None:
    order = lock_order(request.subject_id)
    _resolve(order, {HoldReason.SPLIT_NEEDS_APPROVAL}, actor=actor, resolution="split approved")
    timeline.set_state(order, S.READY, actor=actor, message="split approved")
    _route(order, actor=actor, allow_costly_split=True)


def _on_split_rejected(*, request, actor) -> None:
    order = lock_order(request.subject_id)
    _resolve(
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
    _refresh_line_states(order, lines=[line])
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
        with transaction.atomic():
            line = OrderLine.objects.select_related("sku").get(pk=line_id)
            order = lock_order(line.order_id)
            line.refresh_from_db()
            if order.state not in IN_FULFILLMENT or line.state != LineState.BACKORDERED:
                continue
            routed += route_line_in_fulfillment(order=order, line=line, actor=actor) > 0
    return routed
