"""The money and supplier KPIs: return cycle time, refund and write-off totals, supplier
on-time and fill rate, margin by channel. Defined once each, like insight.kpis.definitions.

Return cycle time is per-order data, so it reads the order facts (a cohort by the day the
orders were placed). Refunds, write-offs and purchase orders are few next to orders: they
are read live, through an indexed timestamp, in one GROUP BY each. Margin calls finance's
margin selector (the journal's postings), never a second formula."""

from datetime import datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, DateField, F, Q, Sum
from django.db.models.functions import Coalesce, Least, TruncDate, TruncWeek
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from erp import roles
from erp.models import Channel
from finance import selectors as finance
from insight.kpis import register_kpi
from insight.kpis.facts_query import fact_rows, ratio
from insight.models import OrderDayFact
from inventory.models import InventoryAdjustment
from inventory.models.documents import WRITE_OFF
from purchasing.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderState
from returns.models import POSTED_REFUND_STATES, Refund

HOURS = Decimal(1) / Decimal(3600)
CENTS = Decimal("0.01")
DATED = ("day", "week")
CS, M, F_, BUYER = roles.CUSTOMER_SERVICE, roles.MANAGER, roles.FINANCE, roles.BUYER
# POs whose receiving is over: wholly received, or closed (short or not).
RECEIVING_OVER = [PurchaseOrderState.RECEIVED, PurchaseOrderState.CLOSED]


def _link(name: str, params: dict) -> str:
    return f"{reverse(name)}?{urlencode({k: v for k, v in params.items() if v})}"


def _period(field: str, filters) -> Q:
    """`field` within the filtered calendar days (local time), as a range the index reads."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(filters.date_from, time.min, tzinfo=zone)
    end = datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=zone)
    return Q(**{f"{field}__gte": start, f"{field}__lt": end})


def _dated(field) -> dict:
    day = TruncDate(field, tzinfo=timezone.get_current_timezone())
    return {"day": day, "week": TruncWeek(day, output_field=DateField())}


def _grouped(rows, by, groups: dict, sums: dict, make) -> list[dict]:
    """One GROUP BY: the whole selection when `by` is None, else per group."""
    if by is None:
        return [make("all", rows.aggregate(**sums))]
    grouped = rows.annotate(group=groups[by]).values("group").annotate(**sums)
    return [make(row["group"], row) for row in grouped.order_by(F("group").asc(nulls_last=True))]


def _key(key):
    return key if key is not None else ""


def _total_row(key, sums) -> dict:
    """An amount: the sum (numerator and value), over how many documents (denominator)."""
    total = (sums["n"] or Decimal(0)).quantize(CENTS, rounding=ROUND_HALF_UP)
    return {"key": _key(key), "numerator": total, "denominator": sums["d"], "value": total}


def _rate_row(key, sums) -> dict:
    numerator, denominator = sums["n"] or 0, sums["d"] or 0
    return {
        "key": _key(key),
        "numerator": numerator,
        "denominator": denominator,
        "value": ratio(numerator, denominator, Decimal(100)),
    }


# --- return cycle time (order facts) ------------------------------------------------------------


def _rma_url(dates: tuple[str, str], **query):
    """The RMA list, filtered like the figure: `dates` name its date filters."""

    def url(filters, *, channel=None, node=None, day_from=None, day_to=None, **_):
        first, last = day_from or filters.date_from, day_to or filters.date_to
        params = {
            "channel": channel or filters.channel,
            dates[0]: first.isoformat(),
            dates[1]: last.isoformat(),
            **query,
        }
        return _link("returns:list", params)

    return url


@register_kpi(
    key="return_cycle_time",
    name="Return cycle time",
    unit="hours",
    breakdowns=("day", "week", "channel", "node"),
    good="low",
    roles=(CS, M, F_),
    drill=_rma_url(("placed_from", "placed_to"), state="closed"),
)
def return_cycle_time(filters, by=None):
    """Average hours from an RMA authorized to closed (refunded or settled): Σ (closed_at −
    authorized_at) ÷ RMAs closed, over the RMAs of orders placed in the period."""
    return fact_rows(
        OrderDayFact,
        filters,
        by,
        numerator="return_cycle_seconds",
        denominator="returns_closed",
        scale=HOURS,
    )


# --- refund and write-off totals (live) ---------------------------------------------------------


@register_kpi(
    key="refund_total",
    name="Refund total",
    unit="amount",
    breakdowns=("day", "week", "channel"),
    good="low",
    roles=(F_, M),
    drill=_rma_url(("refunded_from", "refunded_to")),
)
def refund_total(filters, by=None):
    """Σ amount of refunds posted in the period (posted by us or refunded by the channel),
    in the shop's money; the denominator counts the refunds. By the day they posted and by
    channel (a node filter does not apply)."""
    refunds = Refund.objects.filter(_period("posted_at", filters), state__in=POSTED_REFUND_STATES)
    if filters.channel:
        refunds = refunds.filter(channel__code=filters.channel)
    groups = {**_dated("posted_at"), "channel": F("channel__code")}
    sums = {"n": Sum("amount"), "d": Count("pk")}
    return _grouped(refunds, by, groups, sums, _total_row)


def write_offs_list(filters, *, channel=None, node=None, family=None, day_from=None, day_to=None):
    """The posted write-offs of the period, searched by the node."""
    return _link(
        "adjustment-list",
        {
            "state": InventoryAdjustment.State.POSTED,
            "kind": "write_off",
            "posted_from": (day_from or filters.date_from).isoformat(),
            "posted_to": (day_to or filters.date_to).isoformat(),
            "q": node or filters.node,
        },
    )


@register_kpi(
    key="write_off_total",
    name="Write-off total",
    unit="amount",
    breakdowns=("day", "week", "node", "family"),
    good="low",
    roles=(F_, M),
    drill=write_offs_list,
    bars_by="node",
)
def write_off_total(filters, by=None):
    """Σ value of write-offs posted in the period (adjustments removing stock as damaged,
    shrink or expired: |quantity| × the valuation unit cost the adjustment recorded, as
    inventory.services.adjustments values it); the denominator counts them. A channel
    filter does not apply."""
    rows = InventoryAdjustment.objects.filter(
        WRITE_OFF, _period("posted_at", filters), state=InventoryAdjustment.State.POSTED
    )
    if filters.node:
        rows = rows.filter(location__code=filters.node)
    if filters.family:
        rows = rows.filter(sku__product_family=filters.family)
    groups = {
        **_dated("posted_at"),
        "node": F("location__code"),
        "family": F("sku__product_family"),
    }
    return _grouped(rows, by, groups, {"n": Sum("value"), "d": Count("pk")}, _total_row)


# --- supplier on-time and fill rate (live) ------------------------------------------------------

SUPPLIER_BREAKDOWNS = ("day", "week", "supplier", "node")


def purchase_orders_list(
    filters, *, channel=None, node=None, supplier=None, day_from=None, day_to=None
):
    """Standard POs whose receiving ended in the period (of the supplier, when a bar)."""
    return _link(
        "purchasing:po-list",
        {
            "received_from": (day_from or filters.date_from).isoformat(),
            "received_to": (day_to or filters.date_to).isoformat(),
            "supplier": supplier,
            "q": node or filters.node,
        },
    )


def _supplier_groups(prefix: str, dated_field) -> dict:
    return {
        **_dated(dated_field),
        "supplier": F(f"{prefix}supplier__code"),
        "node": F(f"{prefix}destination__code"),
    }


@register_kpi(
    key="supplier_on_time_rate",
    name="Supplier on-time rate",
    unit="percent",
    breakdowns=SUPPLIER_BREAKDOWNS,
    good="high",
    roles=(M, BUYER),
    drill=purchase_orders_list,
    bars_by="supplier",
)
def supplier_on_time_rate(filters, by=None):
    """Standard POs wholly received on or before their expected date ÷ standard POs wholly
    received in the period × 100 (a PO without an expected date counts as on time, as in
    purchasing.services.performance). By the day the last units arrived, supplier and
    destination node; a channel filter does not apply."""
    pos = PurchaseOrder.objects.filter(
        _period("received_at", filters), kind=PurchaseOrder.Kind.STANDARD
    )
    if filters.node:
        pos = pos.filter(destination__code=filters.node)
    arrived = TruncDate("received_at", tzinfo=timezone.get_current_timezone())
    pos = pos.annotate(arrived=arrived)
    on_time = Q(expected_date__isnull=True) | Q(arrived__lte=F("expected_date"))
    sums = {"n": Count("pk", filter=on_time), "d": Count("pk")}
    return _grouped(pos, by, _supplier_groups("", "received_at"), sums, _rate_row)


@register_kpi(
    key="supplier_fill_rate",
    name="Supplier fill rate",
    unit="percent",
    breakdowns=SUPPLIER_BREAKDOWNS,
    good="high",
    roles=(M, BUYER),
    drill=purchase_orders_list,
    bars_by="supplier",
)
def supplier_fill_rate(filters, by=None):
    """Units received (up to the ordered quantity) ÷ units ordered × 100, over the lines of
    standard POs whose receiving ended in the period (wholly received, or closed short) —
    purchasing.services.performance's fill rate, by the day receiving ended (received, else
    closed), supplier and destination node; a channel filter does not apply."""
    ended = Coalesce("purchase_order__received_at", "purchase_order__closed_at")
    lines = PurchaseOrderLine.objects.filter(
        purchase_order__kind=PurchaseOrder.Kind.STANDARD,
        purchase_order__state__in=RECEIVING_OVER,
    ).alias(ended=ended)
    lines = lines.filter(_period("ended", filters))
    if filters.node:
        lines = lines.filter(purchase_order__destination__code=filters.node)
    sums = {
        "n": Sum(Least("quantity_received", "quantity_ordered")),
        "d": Sum("quantity_ordered"),
    }
    return _grouped(lines, by, _supplier_groups("purchase_order__", ended), sums, _rate_row)


# --- margin by channel (finance's margin selector) ----------------------------------------------


def margin_page(filters, *, channel=None, node=None, day_from=None, day_to=None, **_):
    """Finance's margin page per order, for the period and channel of the figure."""
    return _link(
        "finance:margin",
        {
            "by": "order",
            "date_from": (day_from or filters.date_from).isoformat(),
            "date_to": (day_to or filters.date_to).isoformat(),
            "channel": channel or filters.channel,
        },
    )


@register_kpi(
    key="margin_by_channel",
    name="Margin by channel",
    unit="percent",
    breakdowns=("channel",),
    good="high",
    roles=(F_, M),
    drill=margin_page,
)
def margin_by_channel(filters, by=None):
    """Margin ÷ revenue × 100, margin = revenue − refunds − COGS − marketplace fees −
    shipping cost, from the journal's postings dated in the period (finance.selectors.
    margin_rows, one query); the numerator is the margin, the denominator the revenue. By
    channel only; a node or family filter does not apply."""
    channel_id = None
    if filters.channel:
        channel_id = Channel.objects.filter(code=filters.channel).values_list("pk", flat=True)
        channel_id = channel_id.first() or -1
    rows = list(
        finance.margin_rows(
            group="channel",
            date_from=filters.date_from,
            date_to=filters.date_to,
            channel_id=channel_id,
        )
    )
    if by is None:
        return [_margin_row("all", finance.margin_total(rows))]
    return [_margin_row(row.label, row) for row in sorted(rows, key=lambda row: row.label)]


def _margin_row(key, row) -> dict:
    return {
        "key": key,
        "numerator": row.margin,
        "denominator": row.revenue,
        "value": row.margin_percent,
    }
