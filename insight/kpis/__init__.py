"""The KPI registry: every KPI defined once (insight.kpis.definitions; the money and supplier
figures in insight.kpis.money), each a selector whose docstring gives its formula, read by
the dashboards, the CSV export, the API and the digest alike.

A KPI's selector takes `Filters` and a breakdown (`by`: None for the headline figure, or one
of BREAKDOWNS it supports) and returns rows of {key, numerator, denominator, value}.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

BREAKDOWNS = ("day", "week", "channel", "node", "family", "supplier")
DEFAULT_DAYS = 28


@dataclass(frozen=True)
class Filters:
    """What every KPI is filtered by; dates are calendar days, both ends included."""

    date_from: date
    date_to: date
    channel: str = ""
    node: str = ""
    family: str = ""

    @classmethod
    def default(cls, today: date | None = None) -> "Filters":
        today = today or timezone.localdate()
        return cls(date_from=today - timedelta(days=DEFAULT_DAYS - 1), date_to=today)

    def on(self, **changes) -> "Filters":
        return replace(self, **changes)


@dataclass(frozen=True)
class Kpi:
    key: str
    name: str
    unit: str  # "percent", "hours" or a currency-free "amount"
    selector: Callable
    breakdowns: tuple[str, ...]
    good: str  # "high" or "low": which way is better (threshold default direction)
    drill: Callable | None = None  # (filters, *, channel, node, day_from, day_to) → url
    roles: tuple[str, ...] = field(default_factory=tuple)
    bars_by: str = "channel"  # what the dashboard's bars compare

    @property
    def formula(self) -> str:
        return " ".join((self.selector.__doc__ or "").split())

    def rows(self, filters: Filters, by: str | None = None) -> list[dict]:
        if by is not None and by not in self.breakdowns:
            raise ValueError(f"{self.name} breaks down by {', '.join(self.breakdowns)}.")
        return self.selector(filters, by)

    def value(self, filters: Filters) -> Decimal | None:
        rows = self.selector(filters, None)
        return rows[0]["value"] if rows else None


_registry: dict[str, Kpi] = {}


def register_kpi(*, key, name, unit, breakdowns, good, roles, drill=None, bars_by="channel"):
    def decorate(selector):
        _registry[key] = Kpi(
            key=key,
            name=name,
            unit=unit,
            selector=selector,
            breakdowns=tuple(breakdowns),
            good=good,
            drill=drill,
            roles=tuple(roles),
            bars_by=bars_by,
        )
        return selector

    return decorate


def all_kpis() -> list[Kpi]:
    _load()
    return list(_registry.values())


def get_kpi(key: str) -> Kpi | None:
    _load()
    return _registry.get(key)


def _load() -> None:
    from insight.kpis import definitions, money, stock  # noqa: F401  registers them
