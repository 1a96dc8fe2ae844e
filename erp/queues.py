"""Exception-queue registry: each app registers the queues its staff work.

A queue is a named selector (a queryset of the rows needing attention), the role that
owns it, an SLA in hours, the field that ages a row, and the template of one row.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, Min, QuerySet
from django.utils import timezone


@dataclass(frozen=True)
class ExceptionQueue:
    key: str
    name: str
    owner_role: str
    sla_hours: int
    selector: Callable[[], QuerySet]
    age_field: str
    row_template: str
    columns: tuple[str, ...]
    search_fields: tuple[str, ...] = ()
    description: str = ""
    filters: dict[str, Callable[[QuerySet, str], QuerySet]] = field(default_factory=dict)

    def summary(self) -> dict:
        """Count and oldest age in one query."""
        figures = (
            self.selector().order_by().aggregate(count=Count("pk"), oldest=Min(self.age_field))
        )
        oldest = figures["oldest"]
        age = timezone.now() - oldest if oldest else None
        return {
            "queue": self,
            "count": figures["count"],
            "oldest_age": age,
            "breached": bool(age and age > timedelta(hours=self.sla_hours)),
        }


_registry: dict[str, ExceptionQueue] = {}


def register_queue(queue: ExceptionQueue) -> ExceptionQueue:
    _registry[queue.key] = queue
    return queue


def get_queue(key: str) -> ExceptionQueue | None:
    return _registry.get(key)


def all_queues() -> list[ExceptionQueue]:
    return sorted(_registry.values(), key=lambda queue: (queue.owner_role, queue.name))
