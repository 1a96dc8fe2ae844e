"""Purchase-order state changes: one transition table, one `advance`, a timeline row each."""

from django.utils import timezone

from erp.errors import Conflict
from purchasing.models import PurchaseOrder, PurchaseOrderEvent, PurchaseOrderState

S = PurchaseOrderState
TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.SUBMITTED, S.CANCELLED},
    # A rejected approval sends the PO back to draft for the buyer to change.
    S.SUBMITTED: {S.APPROVED, S.DRAFT, S.CANCELLED},
    S.APPROVED: {S.SENT, S.CANCELLED},
    S.SENT: {S.PARTIALLY_RECEIVED, S.RECEIVED, S.CANCELLED, S.CLOSED},
    S.PARTIALLY_RECEIVED: {S.RECEIVED, S.CLOSED},
    S.RECEIVED: {S.CLOSED},
    S.CLOSED: set(),
    S.CANCELLED: set(),
}
RECEIVABLE = {S.SENT, S.PARTIALLY_RECEIVED, S.RECEIVED}
CANCELLABLE = {state for state, targets in TRANSITIONS.items() if S.CANCELLED in targets}
OPEN_INBOUND = {S.APPROVED, S.SENT, S.PARTIALLY_RECEIVED}
EDITABLE = {S.DRAFT}

# The timestamp field each state stamps when entered.
_STAMPS = {
    S.SUBMITTED: "submitted_at",
    S.APPROVED: "approved_at",
    S.SENT: "sent_at",
    S.RECEIVED: "received_at",
    S.CLOSED: "closed_at",
    S.CANCELLED: "cancelled_at",
}


def check_transition(purchase_order: PurchaseOrder, to_state: str) -> None:
    if to_state not in TRANSITIONS[purchase_order.state]:
        raise Conflict(
            f"{purchase_order.number} is {purchase_order.get_state_display().lower()} and "
            f"cannot become {S(to_state).label.lower()}.",
            field="state",
            code="invalid_transition",
        )


def advance(
    purchase_order: PurchaseOrder, to_state: str, *, actor, message: str = "", extra=()
) -> None:
    """Move `purchase_order` (locked by the caller) to `to_state`: the table's check, the
    state's timestamp, one history row (actor + message as reason), one timeline row.
    `extra` names other fields the caller changed and wants saved in the same UPDATE."""
    from_state = purchase_order.state
    if from_state == to_state:
        return
    check_transition(purchase_order, to_state)
    now = timezone.now()
    fields = {"state", "state_changed_at", *extra}
    purchase_order.state, purchase_order.state_changed_at = to_state, now
    stamp = _STAMPS.get(to_state)
    if stamp:
        setattr(purchase_order, stamp, now)
        fields.add(stamp)
    purchase_order._history_user = actor
    purchase_order._change_reason = message[:100] or None
    purchase_order.save(update_fields=sorted(fields))
    PurchaseOrderEvent.objects.create(
        purchase_order=purchase_order,
        kind="state",
        from_state=from_state,
        to_state=to_state,
        message=message[:500],
        actor=actor if getattr(actor, "pk", None) else None,
    )


def note(purchase_order: PurchaseOrder, kind: str, message: str, *, actor) -> None:
    """A timeline row that is not a state change (receipt, charge, escalation, send)."""
    PurchaseOrderEvent.objects.create(
        purchase_order=purchase_order,
        kind=kind,
        from_state=purchase_order.state,
        to_state=purchase_order.state,
        message=message[:500],
        actor=actor if getattr(actor, "pk", None) else None,
    )
