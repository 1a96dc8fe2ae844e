"""Order state changes: one function, an explicit transition table, a timeline row each."""

from contextlib import contextmanager

from django.utils import timezone

from erp import fastsql
from erp.errors import Conflict
from orders.models import Order, OrderEvent, OrderState

S = OrderState
_BEFORE_SHIPPING = {
    S.RECEIVED,
    S.ON_HOLD,
    S.READY,
    S.ALLOCATED,
    S.PARTIALLY_ALLOCATED,
    S.BACKORDERED,
    S.RELEASED,
    S.PICKING,
    S.PACKED,
}
TRANSITIONS: dict[str, set[str]] = {
    S.RECEIVED: {S.ON_HOLD, S.READY, S.CANCELLED},
    S.ON_HOLD: {S.READY, S.CANCELLED, S.ON_HOLD},
    S.READY: {S.ALLOCATED, S.PARTIALLY_ALLOCATED, S.BACKORDERED, S.ON_HOLD, S.CANCELLED},
    S.ALLOCATED: {S.RELEASED, S.ON_HOLD, S.READY, S.CANCELLED},
    S.PARTIALLY_ALLOCATED: {
        S.ALLOCATED,
        S.RELEASED,
        S.ON_HOLD,
        S.READY,
        S.BACKORDERED,
        S.CANCELLED,
    },
    S.BACKORDERED: {S.ALLOCATED, S.PARTIALLY_ALLOCATED, S.ON_HOLD, S.READY, S.CANCELLED},
    S.RELEASED: {S.PICKING, S.ON_HOLD, S.READY, S.CANCELLED, S.SHIPPED, S.PARTIALLY_SHIPPED},
    S.PICKING: {S.PACKED, S.CANCELLED, S.SHIPPED, S.PARTIALLY_SHIPPED},
    S.PACKED: {S.SHIPPED, S.PARTIALLY_SHIPPED, S.CANCELLED},
    S.PARTIALLY_SHIPPED: {S.SHIPPED, S.CLOSED},
    S.SHIPPED: {S.CLOSED},
    S.CLOSED: set(),
    S.CANCELLED: set(),
}
CANCELLABLE = _BEFORE_SHIPPING


def advance(order: Order, steps: list[tuple[str, str]], *, actor, cancelled_at=None) -> None:
    """Apply several transitions (each `(to_state, message)`) with one UPDATE, one history
    row and one insert of timeline rows: ingestion walks received → ready → allocated →
    released in a single request. `cancelled_at` is when the channel cancelled the order,
    when it says so (else the order is cancelled now)."""
    now = timezone.now()
    events, fields = [], {"state", "state_changed_at"}
    for to_state, message in steps:
        from_state = order.state
        if from_state == to_state and to_state != S.ON_HOLD:
            continue
        if to_state not in TRANSITIONS[from_state]:
            raise Conflict(
                f"An order that is {order.get_state_display().lower()} cannot become "
                f"{OrderState(to_state).label.lower()}.",
                field="state",
                code="invalid_transition",
            )
        order.state, order.state_changed_at = to_state, now
        if to_state == S.RELEASED:
            order.released_at = now
            fields.add("released_at")
        if to_state == S.CANCELLED:
            order.cancelled_at = cancelled_at or now
            fields.add("cancelled_at")
        events.append(
            OrderEvent(
                order=order,
                kind="state",
                from_state=from_state,
                to_state=to_state,
                message=message[:500],
                actor=actor,
            )
        )
    if not events:
        return
    if getattr(order, "skip_history_when_saving", False):
        fastsql.update(order, sorted(fields))  # a new order: no history row, no signal
    else:
        order._history_user = actor
        order.save(update_fields=sorted(fields))
    _write(order, events)


def set_state(order: Order, to_state: str, *, actor, message: str = "", cancelled_at=None) -> None:
    """Move `order` (locked by the caller) to `to_state` and record it on the timeline."""
    advance(order, [(to_state, message)], actor=actor, cancelled_at=cancelled_at)


def note(order: Order, kind: str, message: str, *, actor) -> None:
    _write(
        order,
        [
            OrderEvent(
                order=order,
                kind=kind,
                from_state=order.state,
                to_state=order.state,
                message=message[:500],
                actor=actor,
            )
        ],
    )


def _write(order: Order, events: list[OrderEvent]) -> None:
    buffer = getattr(order, "_event_buffer", None)
    if buffer is None:
        fastsql.insert(events, returning=False)
    else:
        buffer.extend(events)


@contextmanager
def batched_events(order: Order):
    """Keep the timeline rows written for `order` inside the block and insert them at its
    end with one statement (ingestion writes received → ready → allocated → released)."""
    order._event_buffer = []
    try:
        yield
        fastsql.insert(order._event_buffer, returning=False)
    finally:
        del order._event_buffer
