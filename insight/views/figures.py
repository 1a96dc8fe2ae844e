"""What a KPI tile shows: the headline figure, its threshold, the series over the period
and the bars by channel and node, every mark linked to the records behind it. Shared by the
dashboards and the KPI pages (one source for the figures)."""

from datetime import date, timedelta

from django.urls import reverse
from django.utils.http import urlencode

from insight import charts
from insight.kpis import Filters, Kpi
from insight.kpis.thresholds import is_crossed

UNIT_SUFFIX = {"percent": "%", "hours": "h", "units": "units", "turns": "×", "days": "days"}


def query_string(filters: Filters, bucket: str = "day", **extra) -> str:
    params = {
        "date_from": filters.date_from.isoformat(),
        "date_to": filters.date_to.isoformat(),
        "channel": filters.channel,
        "node": filters.node,
        "family": filters.family,
        "bucket": bucket if bucket != "day" else "",
        **extra,
    }
    return urlencode({key: value for key, value in params.items() if value})


def _bucket_range(key: date, bucket: str, filters: Filters) -> tuple[date, date]:
    end = key + timedelta(days=6) if bucket == "week" else key
    return max(key, filters.date_from), min(end, filters.date_to)


def kpi_panel(kpi: Kpi, filters: Filters, bucket: str, threshold=None, *, detail=True) -> dict:
    """Three GROUP BYs over the facts: the headline, the series, the bars by channel."""
    headline = kpi.rows(filters, None)[0]

    def drill(**scope):
        return kpi.drill(filters, **scope) if kpi.drill else ""

    series = None
    if bucket in kpi.breakdowns:
        series = charts.series(
            kpi.rows(filters, bucket),
            lambda key: drill(
                **dict(
                    zip(("day_from", "day_to"), _bucket_range(key, bucket, filters), strict=True)
                )
            ),
        )
    bars = charts.bars(kpi.rows(filters, kpi.bars_by), lambda key: drill(**{kpi.bars_by: key}))
    return {
        "kpi": kpi,
        "headline": headline,
        "suffix": UNIT_SUFFIX.get(kpi.unit, ""),
        "threshold": threshold,
        "crossed": threshold is not None
        and threshold.active
        and is_crossed(headline["value"], threshold),
        "drill_url": drill(),
        "series": series,
        "bars": bars,
        "bars_by": kpi.bars_by,
        "table_url": f"{reverse('insight:kpi', args=[kpi.key])}?{query_string(filters, bucket)}",
        "csv_url": f"{reverse('insight:kpi-csv', args=[kpi.key])}?"
        f"{query_string(filters, bucket, by=kpi.bars_by)}",
    }
