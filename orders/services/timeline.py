"""Order state changes: one function, an explicit transition table, a timeline row each."""

from contextlib import contextmanager
from contextvars import ContextVar

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


def check_transition(order: Order, to_state: str) -> None:
    """The transition table's answer for one order: a typed refusal when it may not move."""
    if to_state not in TRANSITIONS[order.state]:
        raise Conflict(
            f"Order {order} is {order.get_state_display().lower()} and cannot become "
            f"{OrderState(to_state).label.lower()}.",
            field="state",
            code="invalid_transition",
        )


def _enter(order: Order, to_state: str, now, cancelled_at=None) -> set[str]:
    """Set the state and the timestamps the state carries; returns the fields written."""
    fields = {"state", "state_changed_at"}
    order.state, order.state_changed_at = to_state, now
    if to_state == S.RELEASED:
        order.released_at = now
        fields.add("released_at")
    if to_state == S.CANCELLED:
        order.cancelled_at = cancelled_at or now  # the channel's time, when it sent one
        fields.add("cancelled_at")
    if to_state in (S.SHIPPED, S.PARTIALLY_SHIPPED):
        order.shipped_at = order.shipped_at or now  # the parcel's time, set by the caller
        fields.add("shipped_at")
    return fields


def advance(order: Order, steps: list[tuple[str, str]], *, actor, cancelled_at=None) -> None:
    """Apply several transitions (each `(to_state, message)`) with one UPDATE, one history
    row and one insert of timeline rows: ingestion walks received → ready → allocated →
    released in a single request. `cancelled_at` is when the channel cancelled the order,
    when it says so (else the order is cancelled now)."""
    now = timezone.now()
    events, fields = [], set()
    for to_state, message in steps:
        from_state = order.state
        if from_state == to_state and to_state != S.ON_HOLD:
            continue
        check_transition(order, to_state)
        fields |= _enter(order, to_state, now, cancelled_at)
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
        fastsql.update_with_history(order, sorted(fields), actor=actor)
    _write(order, events)


def advance_each(
    changes: list[tuple[Order, list[tuple[str, str | None, str]]]],
    *,
    actor,
    also: tuple[str, ...] = (),
) -> None:
    """Several orders (locked by the caller), each with its own timeline entries, in order:
    `(kind, to_state, message)` — kind "state" moves the order to `to_state`, any other
    kind is a note that keeps the state. One UPDATE with history rows for all the orders
    and one insert of timeline rows, through the same transition table and timestamps as
    `advance` (a truck's parcels). `also`: fields the caller set on the orders to write."""
    if not changes:
        return
    now = timezone.now()
    events, fields = [], set(also)
    for order, entries in changes:
        for kind, to_state, message in entries:
            from_state = order.state
            if kind == "state":
                if from_state == to_state and to_state != S.ON_HOLD:
                    continue
                check_transition(order, to_state)
                fields |= _enter(order, to_state, now)
            else:
                to_state = from_state
            events.append(
                OrderEvent(
                    order=order,
                    kind=kind,
                    from_state=from_state,
                    to_state=to_state,
                    message=message[:500],
                    actor=actor,
                )
            )
    if fields:
        fastsql.update_many_with_history(
            [order for order, _ in changes], sorted(fields), actor=actor
        )
    if events:
        fastsql.insert(events, returning=False)


def advance_many(*, orders: list[Order], to_state: str, actor, message: str) -> None:
    """Move many orders (locked by the caller) to `to_state` with a fixed number of
    queries — one UPDATE, one insert of history rows, one of timeline rows — through the
    same transition table and timestamps as `advance` (waves release orders in bulk)."""
    if not orders:
        return
    for order in orders:
        check_transition(order, to_state)
    now = timezone.now()
    events = [
        OrderEvent(
            order=order,
            kind="state",
            from_state=order.state,
            to_state=to_state,
            message=message[:500],
            actor=actor,
        )
        for order in orders
    ]
    fields = set()
    for order in orders:
        fields |= _enter(order, to_state, now)
    fastsql.update_many_with_history(orders, sorted(fields), actor=actor)
    fastsql.insert(events, returning=False)


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


# Timeline rows held back by `batched_events`, per order id, for the block's duration: a
# context variable (each thread and task its own), not an attribute on the order.
_batched: ContextVar[dict[int, list[OrderEvent]] | None] = ContextVar(
    "timeline_batch", default=None
)


def _write(order: Order, events: list[OrderEvent]) -> None:
    batch = _batched.get()
    if batch is not None and order.pk in batch:
        batch[order.pk].extend(events)
    else:
        fastsql.insert(events, returning=False)


@contextmanager
def batched_events(order: Order):
    """Keep the timeline rows written for `order` inside the block and insert them at its
    end with one statement (ingestion writes received → ready → allocated → released)."""
    batch = dict(_batched.get() or {})
    batch[order.pk] = []
    token = _batched.set(batch)
    try:
        yield
        fastsql.insert(batch[order.pk], returning=False)
    finally:
        _batched.reset(token)
