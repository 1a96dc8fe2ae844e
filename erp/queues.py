"""Exception-queue registry: each app registers the queues its staff work.

A queue is a named selector (a queryset of the rows needing attention), the role that
owns it, an SLA in hours (the registered default; a manager's `QueueSla` overrides it),
the field that ages a row, the template of one row, and the row actions that may also be
run on many selected rows at once (each through the same service as the single action).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, Min, QuerySet
from django.utils import timezone


@dataclass(frozen=True)
class RowAction:
    """An action on one queue row that the queue page also offers for selected rows.

    `run(object_id=..., actor=..., note=...)` is the very service the row's own button
    calls; it raises a DomainError to refuse one row.
    """

    key: str
    label: str
    run: Callable[..., object]
    permission: str
    needs_note: bool = False
    confirm: str = ""


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
    row_actions: tuple[RowAction, ...] = ()
    # The CSV export's columns (field paths); by default the id, the age and the
    # searchable fields.
    export_fields: tuple[str, ...] = ()

    def csv_fields(self) -> tuple[str, ...]:
        return self.export_fields or ("pk", self.age_field, *self.search_fields)

    def row_action(self, key: str) -> RowAction | None:
        return next((action for action in self.row_actions if action.key == key), None)

    def summary(self, sla_hours: int | None = None) -> dict:
        """Count and oldest age in one query; the SLA is the manager's override if any
        (pass it when summarising many queues, so the overrides are read once)."""
        if sla_hours is None:
            sla_hours = sla_hours_by_queue().get(self.key, self.sla_hours)
        figures = (
            self.selector().order_by().aggregate(count=Count("pk"), oldest=Min(self.age_field))
        )
        oldest = figures["oldest"]
        age = timezone.now() - oldest if oldest else None
        return {
            "queue": self,
            "count": figures["count"],
            "oldest_age": age,
            "sla_hours": sla_hours,
            "breached": bool(age and age > timedelta(hours=sla_hours)),
        }


_registry: dict[str, ExceptionQueue] = {}


def register_queue(queue: ExceptionQueue) -> ExceptionQueue:
    _registry[queue.key] = queue
    return queue


def get_queue(key: str) -> ExceptionQueue | None:
    return _registry.get(key)


def all_queues() -> list[ExceptionQueue]:
    return sorted(_registry.values(), key=lambda queue: (queue.owner_role, queue.name))


def sla_hours_by_queue() -> dict[str, int]:
    """The SLA hours managers set, by queue key (one query)."""
    from erp.models import QueueSla

    return dict(QueueSla.objects.values_list("queue_key", "sla_hours"))


def summaries(queues: list[ExceptionQueue] | None = None) -> list[dict]:
    """Every queue's summary, reading the SLA overrides once."""
    overrides = sla_hours_by_queue()
    return [
        queue.summary(sla_hours=overrides.get(queue.key, queue.sla_hours))
        for queue in (all_queues() if queues is None else queues)
    ]
