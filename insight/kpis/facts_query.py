"""Reading a KPI off the fact tables: one GROUP BY over the filtered days, whatever the
number of orders behind them."""

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F, Sum
from django.db.models.functions import TruncWeek

from insight.kpis import Filters
from insight.models import LineDayFact

GROUP_FIELDS = {
    "day": "day",
    "week": "week",
    "channel": "channel__code",
    "node": "node__code",
    "family": "family",
}


def facts(model, filters: Filters):
    rows = model.objects.filter(day__gte=filters.date_from, day__lte=filters.date_to)
    if filters.channel:
        rows = rows.filter(channel__code=filters.channel)
    if filters.node:
        rows = rows.filter(node__code=filters.node)
    if filters.family and model is LineDayFact:
        rows = rows.filter(family=filters.family)
    return rows


def ratio(numerator, denominator, scale: Decimal) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) * scale / Decimal(denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def fact_rows(
    model, filters: Filters, by: str | None, *, numerator, denominator, scale=Decimal(100)
) -> list[dict]:
    """Σ numerator ÷ Σ denominator × scale, for the whole selection or per `by` group."""
    rows = facts(model, filters)
    sums = {"n": Sum(numerator), "d": Sum(denominator)}
    if by is None:
        totals = rows.aggregate(**sums)
        return [_row("all", totals["n"] or 0, totals["d"] or 0, scale)]
    if by == "week":
        rows = rows.annotate(week=TruncWeek("day"))
    field = GROUP_FIELDS[by]
    grouped = rows.values(field).annotate(**sums).order_by(F(field).asc(nulls_last=True))
    return [_row(row[field], row["n"] or 0, row["d"] or 0, scale) for row in grouped]


def _row(key, numerator, denominator, scale) -> dict:
    return {
        "key": key if key is not None else "",
        "numerator": numerator,
        "denominator": denominator,
        "value": ratio(numerator, denominator, scale),
    }
