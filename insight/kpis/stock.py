"""Stock KPIs, each defined once: stockout frequency, lost-sales exposure, inventory turns,
stock aging, and available-to-sell accuracy.

Stockouts, lost sales and turns read the stock facts (insight.models.StockDayFact, kept
current from the stock ledger by insight.services.stock_facts, whose docstring defines each
figure per SKU × node and day): one GROUP BY over the period's day × node × family rows,
whatever the ledger's size. ATP history is not kept (reservations and safety stock of past
days are not recorded), so a stockout is the sellable on-hand balance at zero, which is
what the ledger does record.

Aging reads the stock facts of the period's last day: the units on hand then by age bucket
and Σ units × age (first in, first out).

Available-to-sell accuracy is read live: the figure last published to each channel
(ChannelAvailability) against inventory.selectors.compute_availability now.
"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Sum
from django.urls import reverse
from django.utils.http import urlencode

from erp import roles
from erp.models import Channel, ChannelListing
from insight.kpis import Filters, register_kpi
from insight.kpis.facts_query import facts, grouped_sums, ratio
from insight.models import StockDayFact
from insight.services.stock_facts import AGE_BUCKETS as STOCK_AGE_BUCKETS
from inventory.selectors import published_against_now

W, CS, M, F_ = roles.WAREHOUSE, roles.CUSTOMER_SERVICE, roles.MANAGER, roles.FINANCE
STOCK_BREAKDOWNS = ("day", "week", "node", "family")
AGE_BUCKETS = tuple((low, high) for _, low, high in STOCK_AGE_BUCKETS)
AGE_FIELDS = tuple(name for name, _, _ in STOCK_AGE_BUCKETS)
AGING_KPIS = ("aged_stock_rate", "stock_age_days")


def _quantize(value: Decimal, places: str = "0.1") -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _row(key, numerator, denominator, value) -> dict:
    return {
        "key": key if key is not None else "",
        "numerator": numerator,
        "denominator": denominator,
        "value": value,
    }


# --- drill-downs -------------------------------------------------------------------------------


def node_stock(filters, *, channel=None, node=None, day_from=None, day_to=None):
    """The node's stock page (every SKU held there, per status, with ATP), or the stock
    overview across nodes; the SKU family filter applies. Stock pages show stock now."""
    code = node or filters.node
    params = urlencode({"family": filters.family}) if filters.family else ""
    base = reverse("stock-node", args=[code]) if code else reverse("stock-search")
    return f"{base}?{params}" if params else base


def out_of_stock(filters, *, channel=None, node=None, day_from=None, day_to=None):
    """The SKUs whose sellable stock is at zero now: at the node, or across nodes."""
    code = node or filters.node
    params = {"out": "1", "family": filters.family}
    base = reverse("stock-node", args=[code]) if code else reverse("stock-search")
    return f"{base}?{urlencode({k: v for k, v in params.items() if v})}"


def channel_availability(filters, *, channel=None, node=None, day_from=None, day_to=None):
    """The channel's availability page: each listed SKU's figure now beside what was last
    published, mismatches only; the index of channels when no channel is chosen."""
    code = channel or filters.channel
    if not code:
        return reverse("availability-index")
    params = {"mismatch": "1", "family": filters.family}
    query = urlencode({k: v for k, v in params.items() if v})
    return f"{reverse('stock-availability', args=[code])}?{query}"


# --- the stock facts, day by day -------------------------------------------------------------


def _span(first: date, last: date) -> int:
    return (last - first).days + 1


def _days_in(filters: Filters, by: str | None, key) -> int:
    """Calendar days of the period a key covers (the span on-hand is averaged over)."""
    if by == "day":
        return 1
    if by == "week":
        first = max(key, filters.date_from)
        return _span(first, min(key + timedelta(days=6), filters.date_to))
    return _span(filters.date_from, filters.date_to)


def _stock_days(filters: Filters, by: str | None) -> list[tuple]:
    """(key, sums) per breakdown key from the stock facts (insight.services.stock_facts,
    which defines each figure per SKU × node and day): SKU × node-days carried, days at zero,
    on-hand unit-days, units shipped and lost-sales exposure. One GROUP BY."""
    sums = {name: Sum(name) for name in ("carried", "out", "on_hand", "shipped", "lost")}
    return [
        (key, {name: row[name] or 0 for name in sums})
        for key, row in grouped_sums(facts(StockDayFact, filters), by, sums)
    ]


# --- stockouts, lost sales, turns ------------------------------------------------------------


@register_kpi(
    key="stockout_rate",
    name="Stockout frequency",
    unit="percent",
    breakdowns=STOCK_BREAKDOWNS,
    good="low",
    roles=(W, M),
    drill=out_of_stock,
    bars_by="node",
)
def stockout_rate(filters, by=None):
    """SKU × node-days ending at zero sellable on hand ÷ SKU × node-days carried × 100
    (stock facts, end-of-day sellable balance, active SKUs at active shipping nodes). A node
    carries a SKU on a day it ends with stock, or ends at zero within 90 days of
    the SKU's last movement there."""
    return [
        _row(key, int(sums["out"]), int(sums["carried"]), ratio(sums["out"], sums["carried"], 100))
        for key, sums in _stock_days(filters, by)
    ]


@register_kpi(
    key="lost_sales_exposure",
    name="Lost-sales exposure",
    unit="units",
    breakdowns=STOCK_BREAKDOWNS,
    good="low",
    roles=(W, CS, M),
    drill=out_of_stock,
    bars_by="node",
)
def lost_sales_exposure(filters, by=None):
    """Units likely lost to stockouts: Σ over the SKU × node-days at zero (carried) of the
    SKU's in-stock velocity when it ran out there — units shipped over the 28 days up to its
    last movement ÷ those days that began or ended with stock (stock facts). Numerator =
    the units, denominator = the SKU × node-days at zero."""
    return [
        _row(
            key,
            _quantize(Decimal(sums["lost"])),
            int(sums["out"]),
            _quantize(Decimal(sums["lost"])),
        )
        for key, sums in _stock_days(filters, by)
    ]


@register_kpi(
    key="inventory_turns",
    name="Inventory turns",
    unit="turns",
    breakdowns=STOCK_BREAKDOWNS,
    good="high",
    roles=(W, M, F_),
    drill=node_stock,
    bars_by="node",
)
def inventory_turns(filters, by=None):
    """Units shipped in the period ÷ average sellable units on hand (Σ end-of-day on hand ÷
    days in the period), from the stock facts at active shipping nodes; not annualised."""
    rows = []
    for key, sums in _stock_days(filters, by):
        average = _quantize(Decimal(sums["on_hand"]) / _days_in(filters, by, key), "0.01")
        turns = _quantize(sums["shipped"] / average, "0.01") if average else None
        rows.append(_row(key, int(sums["shipped"]), average, turns))
    return rows


# --- aging -----------------------------------------------------------------------------------


def _on_last_day(filters: Filters, by: str | None) -> list[tuple]:
    """(key, units, units over 90 days old, Σ units × age, units per age bucket) of the
    sellable units on hand at the end of the period's last day, per breakdown key, from
    that day's stock facts (first in, first out: insight.services.stock_facts). One query."""
    last_day = filters.on(date_from=filters.date_to)
    sums = {name: Sum(name) for name in (*AGE_FIELDS, "age_unit_days")}
    grouped = grouped_sums(facts(StockDayFact, last_day), by, sums)
    found = []
    for key, row in grouped:
        buckets = [row[name] or 0 for name in AGE_FIELDS]
        found.append((key, sum(buckets), sum(buckets[2:]), row["age_unit_days"] or 0, buckets))
    return found


@register_kpi(
    key="aged_stock_rate",
    name="Aged stock",
    unit="percent",
    breakdowns=("node", "family"),
    good="low",
    roles=(W, M, F_),
    drill=node_stock,
    bars_by="node",
)
def aged_stock_rate(filters, by=None):
    """Sellable units on hand at the end of the period received more than 90 days before
    it ÷ sellable units on hand × 100 (age since arrival at the node, first in first out,
    from the stock facts)."""
    return [
        _row(key, aged, units, ratio(aged, units, Decimal(100)))
        for key, units, aged, _, _ in _on_last_day(filters, by)
    ]


@register_kpi(
    key="stock_age_days",
    name="Average stock age",
    unit="days",
    breakdowns=("node", "family"),
    good="low",
    roles=(W, M, F_),
    drill=node_stock,
    bars_by="node",
)
def stock_age_days(filters, by=None):
    """Average days since arrival of the sellable units on hand at the end of the period:
    Σ units × days since they arrived at the node (first in, first out, 365 at most; stock
    facts) ÷ units on hand."""
    return [
        _row(key, unit_days, units, ratio(unit_days, units, Decimal(1)))
        for key, units, _, unit_days, _ in _on_last_day(filters, by)
    ]


def age_buckets(filters: Filters) -> list[dict]:
    """Sellable units on hand at the end of the period per node and age bucket (0–30,
    31–90, 91–180, over 180 days since arrival): the aging table behind the two figures."""
    return [
        {"node": node, "units": buckets}
        for node, units, _, _, buckets in _on_last_day(filters, "node")
        if units
    ]


# --- available-to-sell accuracy --------------------------------------------------------------


@register_kpi(
    key="ats_accuracy",
    name="Available-to-sell accuracy",
    unit="percent",
    breakdowns=("channel", "family"),
    good="high",
    roles=(W, CS, M),
    drill=channel_availability,
)
def ats_accuracy(filters, by=None):
    """Active listings (channel × SKU) whose figure last published to the channel equals
    the channel ATS computed now (inventory.selectors.compute_availability) ÷ active
    listings × 100; a listing never published counts as a mismatch. Read live at the
    instant asked: the period does not apply."""
    sums: dict = defaultdict(lambda: [0, 0])  # key → [matching, listings]
    for channel, family, _sku_id, published, computed in ats_comparison(filters):
        key = {None: "all", "channel": channel.code, "family": family}[by]
        sums[key][0] += published == computed
        sums[key][1] += 1
    if by is None and not sums:
        sums["all"] = [0, 0]
    return [
        _row(key, matching, listings, ratio(matching, listings, Decimal(100)))
        for key, (matching, listings) in sorted(sums.items())
    ]


def ats_comparison(filters: Filters):
    """(channel, family, sku_id, published or None, computed now) per active listing of
    the active channels: one query for the listings, then per channel
    inventory.selectors.published_against_now (a bounded set)."""
    listings = ChannelListing.objects.filter(active=True, channel__active=True)
    if filters.channel:
        listings = listings.filter(channel__code=filters.channel)
    if filters.family:
        listings = listings.filter(sku__product_family=filters.family)
    by_channel: dict[int, dict[int, str]] = defaultdict(dict)
    for channel_id, sku_id, family in listings.values_list(
        "channel_id", "sku_id", "sku__product_family"
    ).order_by("channel_id", "sku_id"):
        by_channel[channel_id][sku_id] = family
    channels = Channel.objects.in_bulk(list(by_channel)) if by_channel else {}
    for channel_id, skus in sorted(by_channel.items()):
        figures = published_against_now(channel=channels[channel_id], sku_ids=list(skus))
        for sku_id, family in skus.items():
            yield (channels[channel_id], family, sku_id, *figures[sku_id])
