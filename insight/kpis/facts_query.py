"""Reading a KPI off the fact tables: one GROUP BY over the filtered days, whatever the
number of orders behind them."""

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F, Sum
from django.db.models.functions import TruncWeek

from insight.kpis import Filters

GROUP_FIELDS = {
    "day": "day",
    "week": "week",
    "channel": "channel__code",
    "node": "node__code",
    "family": "family",
}


def facts(model, filters: Filters):
    """The fact rows of the period, of the channel, node and family filtered on (each filter
    where the fact has that dimension: order facts have no family, stock facts no channel)."""
    rows = model.objects.filter(day__gte=filters.date_from, day__lte=filters.date_to)
    fields = {field.name for field in model._meta.get_fields()}
    if filters.channel and "channel" in fields:
        rows = rows.filter(channel__code=filters.channel)
    if filters.node:
        rows = rows.filter(node__code=filters.node)
    if filters.family and "family" in fields:
        rows = rows.filter(family=filters.family)
    return rows


def grouped_sums(rows, by: str | None, sums: dict) -> list[tuple]:
    """(key, {name: Σ}) for the whole selection ("all") or per `by` group, in key order."""
    if by is None:
        return [("all", rows.aggregate(**sums))]
    if by == "week":
        rows = rows.annotate(week=TruncWeek("day"))
    field = GROUP_FIELDS[by]
    grouped = rows.values(field).annotate(**sums).order_by(F(field).asc(nulls_last=True))
    return [(row[field], row) for row in grouped]


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
    sums = {"n": Sum(numerator), "d": Sum(denominator)}
    return [
        _row(key, row["n"] or 0, row["d"] or 0, scale)
        for key, row in grouped_sums(facts(model, filters), by, sums)
    ]


def _row(key, numerator, denominator, scale) -> dict:
    return {
        "key": key if key is not None else "",
        "numerator": numerator,
        "denominator": denominator,
        "value": ratio(numerator, denominator, scale),
    }
