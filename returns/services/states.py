"""The RMA's life: one function changes its state, through an explicit transition table.

authorized → partially_received → received → inspected → closed, or cancelled before
anything arrives. Receipts and inspections call `advance` to move the RMA as far as its
units allow; closing and cancelling are explicit decisions (services/rmas.py).
"""

from django.db.models import Sum
from django.utils import timezone

from erp.errors import Conflict
from returns import selectors
from returns.models import Rma, RmaState

S = RmaState
TRANSITIONS: dict[str, set[str]] = {
    S.AUTHORIZED: {S.PARTIALLY_RECEIVED, S.RECEIVED, S.CLOSED, S.CANCELLED},
    S.PARTIALLY_RECEIVED: {S.RECEIVED, S.CLOSED},
    S.RECEIVED: {S.INSPECTED},
    S.INSPECTED: {S.CLOSED},
    S.CLOSED: set(),
    S.CANCELLED: set(),
}
_STAMPS = {
    S.RECEIVED: "received_at",
    S.INSPECTED: "inspected_at",
    S.CLOSED: "closed_at",
    S.CANCELLED: "cancelled_at",
}


def set_state(rma: Rma, state: str, *, actor, reason: str = "") -> None:
    """Move the (locked) RMA to `state`, stamp the time, and record who and why in its
    history."""
    if state == rma.state:
        return
    if state not in TRANSITIONS[rma.state]:
        raise Conflict(
            f"{rma.number} is {rma.get_state_display().lower()}; it cannot become "
            f"{RmaState(state).label.lower()}.",
            field="state",
            code="invalid_transition",
        )
    now = timezone.now()
    rma.state, rma.state_changed_at = state, now
    if state in _STAMPS:
        setattr(rma, _STAMPS[state], now)
    rma._history_user = actor
    rma._change_reason = reason or f"→ {state}"
    rma.save()


def advance(rma: Rma, *, actor) -> None:
    """After a receipt or an inspection: as far as the units allow, never backwards."""
    totals = rma.lines.aggregate(authorized=Sum("quantity"), received=Sum("quantity_received"))
    authorized, received = totals["authorized"] or 0, totals["received"] or 0
    if received == 0 and not rma.received_items.exists():
        return
    if received < authorized:
        target = S.PARTIALLY_RECEIVED
    elif selectors.units_awaiting_inspection(rma.pk):
        target = S.RECEIVED
    else:
        target = S.INSPECTED
    if rma.state == S.AUTHORIZED and target == S.INSPECTED:
        set_state(rma, S.RECEIVED, actor=actor, reason="every unit arrived")
    if target in TRANSITIONS[rma.state]:
        reasons = {
            S.PARTIALLY_RECEIVED: "part of the units arrived",
            S.RECEIVED: "every unit arrived",
            S.INSPECTED: "every unit inspected",
        }
        set_state(rma, target, actor=actor, reason=reasons[target])
