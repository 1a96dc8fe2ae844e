"""In-process domain events.

`publish()` runs subscribers synchronously inside the caller's transaction, so an
operation and its consequences (postings, roll-ups, outbox rows) commit or roll back
together. Anything that leaves the process goes through `erp.services.outbox`.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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


def publish(event: DomainEvent) -> None:
    for handler in [*_subscribers.get(event.name, ()), *_subscribers.get("*", ())]:
        handler(event)


def subscribers(event_name: str) -> list[Callable]:
    return list(_subscribers.get(event_name, ()))
