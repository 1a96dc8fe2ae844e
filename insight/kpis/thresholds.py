"""KPIs past their thresholds: what the daily digest lists. A threshold is checked against
the KPI over the seven days ending on the day asked (a single placed day is too few orders
to judge, and its orders have not all shipped yet)."""

from datetime import date, timedelta
from decimal import Decimal

from insight.kpis import Filters, get_kpi
from insight.models import KpiThreshold

WINDOW_DAYS = 7


def is_crossed(value: Decimal | None, threshold: KpiThreshold) -> bool:
    if value is None:
        return False
    if threshold.direction == KpiThreshold.Direction.ABOVE:
        return value > threshold.value
    return value < threshold.value


def crossed(on_date: date) -> list[dict]:
    """Every active threshold whose KPI, over the week ending `on_date`, is past it."""
    filters = Filters(date_from=on_date - timedelta(days=WINDOW_DAYS - 1), date_to=on_date)
    found = []
    for threshold in KpiThreshold.objects.filter(active=True).order_by("key"):
        kpi = get_kpi(threshold.key)
        if kpi is None:
            continue
        value = kpi.value(filters)
        if is_crossed(value, threshold):
            found.append(
                {
                    "key": kpi.key,
                    "name": kpi.name,
                    "value": value,
                    "threshold": threshold.value,
                    "direction": threshold.direction,
                }
            )
    return found


def digest_lines(manager, now) -> list[str]:
    """The digest's "KPIs past threshold" section."""
    units = {"percent": " %", "hours": " h"}
    return [
        f"{row['name']}: {row['value']}{units.get(get_kpi(row['key']).unit, '')} "
        f"({row['direction']} {row['threshold']})"
        for row in crossed(now.date() if hasattr(now, "date") else now)
    ]
