"""Every KPI, defined once. Each selector's docstring is its formula (shown on the
dashboards and in the API); facts are cohorts by the day the orders were placed."""

from decimal import Decimal

from django.db.models import Count, F, Func, Q
from django.db.models.functions import TruncDate, TruncWeek
from django.urls import reverse
from django.utils.http import urlencode

from erp import roles
from insight.kpis import register_kpi
from insight.kpis.facts_query import fact_rows, ratio
from insight.models import LineDayFact, OrderDayFact
from inventory.models import CycleCountLine

HOURS = Decimal(1) / Decimal(3600)
ORDER_BREAKDOWNS = ("day", "week", "channel", "node")
LINE_BREAKDOWNS = (*ORDER_BREAKDOWNS, "family")
W, CS, M, F_ = roles.WAREHOUSE, roles.CUSTOMER_SERVICE, roles.MANAGER, roles.FINANCE


def orders_list(**query):
    """The order list, filtered like the figure (orders placed in the period)."""

    def url(filters, *, channel=None, node=None, day_from=None, day_to=None):
        params = {
            "channel": channel or filters.channel,
            "placed_from": (day_from or filters.date_from).isoformat(),
            "placed_to": (day_to or filters.date_to).isoformat(),
            **query,
        }
        return f"{reverse('orders:list')}?{urlencode({k: v for k, v in params.items() if v})}"

    return url


@register_kpi(
    key="release_time",
    name="Order release time",
    unit="hours",
    breakdowns=ORDER_BREAKDOWNS,
    good="low",
    roles=(CS, M),
    drill=orders_list(state="released"),
)
def release_time(filters, by=None):
    """Average hours from received to released: Σ (released_at − received_at) ÷ orders
    released, over orders placed in the period."""
    return fact_rows(
        OrderDayFact, filters, by, numerator="release_seconds", denominator="released", scale=HOURS
    )


@register_kpi(
    key="ship_cycle_time",
    name="Release-to-ship cycle time",
    unit="hours",
    breakdowns=ORDER_BREAKDOWNS,
    good="low",
    roles=(W, M),
    drill=orders_list(state="shipped"),
)
def ship_cycle_time(filters, by=None):
    """Average hours from released to shipped: Σ (shipped_at − released_at) ÷ orders shipped
    after a release, over orders placed in the period."""
    return fact_rows(
        OrderDayFact,
        filters,
        by,
        numerator="ship_seconds",
        denominator="cycle_shipped",
        scale=HOURS,
    )


@register_kpi(
    key="on_time_shipment_rate",
    name="On-time shipment rate",
    unit="percent",
    breakdowns=ORDER_BREAKDOWNS,
    good="high",
    roles=(W, CS, M),
    drill=orders_list(state="shipped"),
)
def on_time_shipment_rate(filters, by=None):
    """Shipped on or before their ship-by ÷ shipped orders that had a ship-by × 100."""
    return fact_rows(OrderDayFact, filters, by, numerator="on_time", denominator="due")


@register_kpi(
    key="valid_tracking_rate",
    name="Valid-tracking rate",
    unit="percent",
    breakdowns=ORDER_BREAKDOWNS,
    good="high",
    roles=(W, M),
    drill=orders_list(state="shipped"),
)
def valid_tracking_rate(filters, by=None):
    """Shipped orders whose every shipped parcel carries a tracking number matching its
    carrier's pattern ÷ shipped orders × 100."""
    return fact_rows(OrderDayFact, filters, by, numerator="valid_tracking", denominator="shipped")


@register_kpi(
    key="cancellation_rate",
    name="Cancellation rate",
    unit="percent",
    breakdowns=ORDER_BREAKDOWNS,
    good="low",
    roles=(CS, M),
    drill=orders_list(state="cancelled"),
)
def cancellation_rate(filters, by=None):
    """Cancelled orders ÷ orders placed × 100."""
    return fact_rows(OrderDayFact, filters, by, numerator="cancelled", denominator="orders")


@register_kpi(
    key="oversell_rate",
    name="Oversell rate",
    unit="percent",
    breakdowns=ORDER_BREAKDOWNS,
    good="low",
    roles=(CS, M),
    drill=orders_list(hold="insufficient_stock"),
)
def oversell_rate(filters, by=None):
    """Orders that could not be fully allocated when they arrived (ever backordered or
    partially allocated, or held for insufficient stock) ÷ orders placed × 100."""
    return fact_rows(OrderDayFact, filters, by, numerator="oversold", denominator="orders")


@register_kpi(
    key="fill_rate",
    name="Fill rate",
    unit="percent",
    breakdowns=LINE_BREAKDOWNS,
    good="high",
    roles=(W, M),
    drill=orders_list(),
)
def fill_rate(filters, by=None):
    """Units shipped ÷ units ordered × 100, over lines of orders placed in the period."""
    return fact_rows(LineDayFact, filters, by, numerator="units_shipped", denominator="units")


@register_kpi(
    key="backorder_rate",
    name="Backorder percentage",
    unit="percent",
    breakdowns=LINE_BREAKDOWNS,
    good="low",
    roles=(W, CS, M),
    drill=orders_list(state="backordered"),
)
def backorder_rate(filters, by=None):
    """Open units of backordered lines ÷ units ordered × 100 (what still waits on stock)."""
    return fact_rows(LineDayFact, filters, by, numerator="units_backordered", denominator="units")


@register_kpi(
    key="return_rate",
    name="Return rate",
    unit="percent",
    breakdowns=LINE_BREAKDOWNS,
    good="low",
    roles=(CS, M, F_),
    drill=orders_list(state="shipped"),
)
def return_rate(filters, by=None):
    """Units on live RMAs (a closed RMA counts what arrived) ÷ units shipped × 100 — the
    returns figures' rate (returns.selectors.return_figures), by day, node and family."""
    return fact_rows(
        LineDayFact, filters, by, numerator="units_returned", denominator="units_shipped"
    )


@register_kpi(
    key="recoverable_rate",
    name="Recoverable percentage",
    unit="percent",
    breakdowns=LINE_BREAKDOWNS,
    good="high",
    roles=(CS, M, F_),
    drill=orders_list(state="shipped"),
)
def recoverable_rate(filters, by=None):
    """Returned units restocked as sellable ÷ returned units inspected × 100 (inspections
    whose write-off was rejected do not count)."""
    return fact_rows(
        LineDayFact, filters, by, numerator="units_restocked", denominator="units_inspected"
    )


def counts_list(filters, *, channel=None, node=None, day_from=None, day_to=None):
    """The closed counts, searched by the node (the count list has no date filter)."""
    params = {"state": "closed", "q": node or filters.node}
    return f"{reverse('count-list')}?{urlencode({k: v for k, v in params.items() if v})}"


COUNT_GROUPS = {
    "day": TruncDate("count__closed_at"),
    "week": TruncWeek("count__closed_at"),
    "node": F("count__location__code"),
    "family": F("sku__product_family"),
}


@register_kpi(
    key="inventory_accuracy",
    name="Inventory accuracy",
    unit="percent",
    breakdowns=("day", "week", "node", "family"),
    good="high",
    roles=(W, M, F_),
    drill=counts_list,
    bars_by="node",
)
def inventory_accuracy(filters, by=None):
    """Counted lines within their count's tolerance (|counted − expected| ≤ tolerance) ÷
    counted lines × 100, over cycle counts closed in the period (the rule of
    inventory.selectors.inventory_accuracy, set-based). Read live: counts are few."""
    zone_start, zone_end = filters.date_from, filters.date_to
    lines = CycleCountLine.objects.filter(
        count__state="closed",
        counted__isnull=False,
        count__closed_at__date__gte=zone_start,
        count__closed_at__date__lte=zone_end,
    )
    if filters.node:
        lines = lines.filter(count__location__code=filters.node)
    if filters.family:
        lines = lines.filter(sku__product_family=filters.family)
    lines = lines.annotate(miss=Func(F("counted") - F("expected"), function="ABS"))
    sums = {"n": Count("pk", filter=Q(miss__lte=F("count__tolerance"))), "d": Count("pk")}
    if by is None:
        totals = lines.aggregate(**sums)
        return [_count_row("all", totals)]
    grouped = lines.annotate(group=COUNT_GROUPS[by]).values("group").annotate(**sums)
    return [_count_row(row["group"], row) for row in grouped.order_by("group")]


def _count_row(key, sums) -> dict:
    return {
        "key": key if key is not None else "",
        "numerator": sums["n"],
        "denominator": sums["d"],
        "value": ratio(sums["n"], sums["d"], Decimal(100)),
    }
