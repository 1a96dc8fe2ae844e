"""In-process domain events.

`publish()` runs subscribers synchronously inside the caller's transaction, so an
operation and its consequences (postings, roll-ups, outbox rows) commit or roll back
together. Anything that leaves the process goes through `erp.services.outbox`.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone


@dataclass(frozen=True)
class DomainEvent:
    name: str
    payload: dict[str, Any]
    actor_id: int | None = None
    occurred_at: Any = field(default_factory=timezone.now)


_subscribers: dict[str, list[Callable[[DomainEvent], None]]] = defaultdict(list)


def subscribe(event_name: str):
    """Decorator: register `handler(event)` for `event_name` ("*" for every event)."""

    def register(handler):
        if handler not in _subscribers[event_name]:
            _subscribers[event_name].append(handler)
        return handler

    return register


def unsubscribe(event_name: str, handler: Callable[[DomainEvent], None]) -> None:
    """Remove a handler registered with `subscribe` (tests, feature switches)."""
    if handler in _subscribers.get(event_name, ()):
        _subscribers[event_name].remove(handler)


def publish(event: DomainEvent) -> None:
    """Run every subscriber of `event.name`, then the "*" subscribers, in the caller's
    transaction: a subscriber's exception propagates and rolls the operation back.

    savepoint=False joins the caller's transaction without a savepoint, so a caller
    cannot catch a subscriber's failure and commit half of the consequences; called
    outside a transaction, the subscribers still commit or roll back together.
    """
    with transaction.atomic(savepoint=False):
        for handler in [*_subscribers.get(event.name, ()), *_subscribers.get("*", ())]:
            handler(event)


def subscribers(event_name: str) -> list[Callable]:
    return list(_subscribers.get(event_name, ()))
