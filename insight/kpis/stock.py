"""Stock KPIs, each defined once: stockout frequency, lost-sales exposure, inventory turns,
stock aging, and available-to-sell accuracy.

The first four read the stock ledger (the append-only truth every balance adds up to) for
the sellable units of active SKUs at active shipping nodes: the balances now, and one
GROUP BY of each day's movements since the period began (the balance on any day is the
balance now less what moved after it), then arithmetic over the constant stretches between
movement days — never a query per SKU or per day, never a scan of older history. ATP history is not kept (reservations and
safety stock of past days are not recorded), so a stockout is the sellable on-hand balance
at zero, which is what the ledger does record; ATP itself is never recomputed here.

Available-to-sell accuracy is read live: the figure last published to each channel
(ChannelAvailability) against inventory.selectors.compute_availability now.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Exists, OuterRef, Q, Sum
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from erp import roles
from erp.models import Channel, ChannelListing
from insight.kpis import Filters, register_kpi
from insight.kpis.facts_query import ratio
from inventory.models import MovementKind, StockBalance, StockLedgerEntry, StockStatus
from inventory.selectors import published_against_now

W, CS, M, F_ = roles.WAREHOUSE, roles.CUSTOMER_SERVICE, roles.MANAGER, roles.FINANCE
STOCK_BREAKDOWNS = ("day", "week", "node", "family")
AGED_DAYS = 90  # on-hand units received longer ago than this count as aged stock
AGE_BUCKETS = ((0, 30), (31, 90), (91, 180), (181, None))
AGING_KPIS = ("aged_stock_rate", "stock_age_days")
AGE_HORIZON_DAYS = 365  # arrivals looked back for; older units count as this old
# A SKU at zero whose stock has not moved at a node for this long is no longer carried
# there: its days at zero are not stockouts.
CARRIED_DAYS = 90


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


# --- the ledger, day by day --------------------------------------------------------------------


@dataclass
class _Pair:
    """One SKU at one node: its sellable balance before the period, each day's net change
    and shipped units inside it, and the day it first held stock there."""

    node: str
    family: str
    opening: int = 0
    first_day: date | None = None
    moves: dict = field(default_factory=dict)  # day → net change
    shipped: dict = field(default_factory=dict)  # day → units shipped


def _bounds(day_from: date, day_to: date) -> tuple[datetime, datetime]:
    zone = timezone.get_default_timezone()
    start = datetime.combine(day_from, time.min, tzinfo=zone)
    end = datetime.combine(day_to + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def _scoped(rows, filters: Filters):
    """Sellable rows of active SKUs at active shipping nodes, of the node and family
    filtered on (a discontinued SKU standing at zero is no stockout)."""
    rows = rows.filter(
        status=StockStatus.SELLABLE,
        sku__active=True,
        location__active=True,
        location__can_ship=True,
    )
    if filters.node:
        rows = rows.filter(location__code=filters.node)
    if filters.family:
        rows = rows.filter(sku__product_family=filters.family)
    return rows


def _ledger_pairs(filters: Filters, since: datetime, *, held_before: bool, only: Q | None = None):
    """The sellable balance of each SKU × node now (one query; with `held_before`, whether
    the pair moved in the CARRIED_DAYS before `since`), and each SKU × node × day's net
    change, shipped units and arrivals since `since` (one GROUP BY over the ledger's
    occurred_at index). The balance is what the ledger adds up to, so the balance at any
    moment since `since` is the balance now less what moved after it: no scan of older
    history."""
    zone = timezone.get_default_timezone()
    balances = _scoped(StockBalance.objects.all(), filters).values(
        "sku_id", "location_id", "location__code", "sku__product_family", "on_hand"
    )
    if held_before:
        balances = balances.annotate(
            moved=Exists(
                StockLedgerEntry.objects.filter(
                    sku=OuterRef("sku_id"),
                    location=OuterRef("location_id"),
                    status=StockStatus.SELLABLE,
                    occurred_at__gte=since - timedelta(days=CARRIED_DAYS),
                    occurred_at__lt=since,
                )
            )
        )
    pairs = {
        (row["sku_id"], row["location_id"]): (row, [])
        for row in balances.order_by("location_id", "sku_id")
    }
    entries = StockLedgerEntry.objects.filter(occurred_at__gte=since)
    if only is not None:
        entries = entries.filter(only)
    moves = (
        _scoped(entries, filters)
        .annotate(day=TruncDate("occurred_at", tzinfo=zone))
        .values("sku_id", "location_id", "day")
        .annotate(
            units=Sum("quantity"),
            shipped=Sum("quantity", filter=Q(kind=MovementKind.SHIPMENT)),
            arrived=Sum("quantity", filter=Q(quantity__gt=0)),
        )
        .order_by()
    )
    for row in moves:
        if (row["sku_id"], row["location_id"]) in pairs:
            pairs[(row["sku_id"], row["location_id"])][1].append(row)
    return pairs.values()


def _period_pairs(filters: Filters) -> list[_Pair]:
    """Each SKU × node the node carries in the period — it held stock when the period
    began, or its stock moved in the CARRIED_DAYS before, or moves during the period (from
    its first move) — with its balance before the period and its moves day by day."""
    start, _ = _bounds(filters.date_from, filters.date_to)
    found = []
    for balance, moves in _ledger_pairs(filters, start, held_before=True):
        item = _Pair(node=balance["location__code"], family=balance["sku__product_family"])
        item.opening = balance["on_hand"] - sum(row["units"] for row in moves)
        if item.opening > 0 or balance["moved"]:
            item.first_day = filters.date_from
        for row in moves:
            if row["day"] > filters.date_to:
                continue
            item.moves[row["day"]] = row["units"]
            if row["shipped"]:
                item.shipped[row["day"]] = -row["shipped"]
            if item.first_day is None or row["day"] < item.first_day:
                item.first_day = row["day"]
        if item.first_day is not None:
            found.append(item)
    return found


def _stretches(item: _Pair, day_to: date):
    """(first day, last day, closing balance) of each stretch of days over which the pair's
    end-of-day balance stood still, from the day it first held stock to the period's end."""
    balance, day = item.opening, item.first_day
    for moved in sorted(item.moves):
        if moved > day:
            yield day, moved - timedelta(days=1), balance
        balance += item.moves[moved]
        day = moved
    yield day, day_to, balance


def _span(first: date, last: date) -> int:
    return (last - first).days + 1


class _Tally:
    """Sums per breakdown key; by day or week a stretch is spread over its days."""

    def __init__(self, filters: Filters, by: str | None):
        self.filters, self.by = filters, by
        self.sums: dict = defaultdict(lambda: defaultdict(Decimal))

    def _keys(self, item: _Pair, first: date, last: date):
        if self.by is None:
            yield "all", _span(first, last)
        elif self.by in ("node", "family"):
            yield getattr(item, self.by), _span(first, last)
        else:
            day = first
            while day <= last:
                yield (day if self.by == "day" else day - timedelta(days=day.weekday())), 1
                day += timedelta(days=1)

    def add(self, item: _Pair, first: date, last: date, **per_day) -> None:
        for key, days in self._keys(item, first, last):
            for name, amount in per_day.items():
                self.sums[key][name] += amount * days

    def rows(self) -> list[tuple]:
        if self.by is None:
            return [("all", self.sums["all"])]
        return sorted(self.sums.items(), key=lambda pair: pair[0])

    def days_in(self, key) -> int:
        """Calendar days of the period a key covers (the span on-hand is averaged over)."""
        if self.by == "day":
            return 1
        if self.by == "week":
            first = max(key, self.filters.date_from)
            return _span(first, min(key + timedelta(days=6), self.filters.date_to))
        return _span(self.filters.date_from, self.filters.date_to)


def _stock_days(filters: Filters, by: str | None) -> _Tally:
    """Per breakdown key: SKU × node-days observed, days at zero, on-hand unit-days, units
    shipped, and lost-sales exposure (each pair's in-stock velocity × its days at zero)."""
    tally = _Tally(filters, by)
    for item in _period_pairs(filters):
        stretches = list(_stretches(item, filters.date_to))
        in_stock = sum(_span(first, last) for first, last, units in stretches if units > 0)
        shipped = sum(item.shipped.values())
        velocity = Decimal(shipped) / in_stock if in_stock else Decimal(0)
        for first, last, units in stretches:
            out = 1 if units <= 0 else 0
            tally.add(
                item, first, last, observed=1, out=out, unit_days=max(units, 0), lost=velocity * out
            )
        for day, units in item.shipped.items():
            tally.add(item, day, day, shipped=units)
    return tally


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
    """SKU × node-days ending at zero sellable on hand ÷ SKU × node-days observed × 100
    (stock ledger, end-of-day balance, active SKUs at active shipping nodes). Observed: each
    day of the period a node carries the SKU — from the period's start if it held stock
    then or its stock moved in the 90 days before, else from its first move in the
    period."""
    return [
        _row(
            key, int(sums["out"]), int(sums["observed"]), ratio(sums["out"], sums["observed"], 100)
        )
        for key, sums in _stock_days(filters, by).rows()
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
    """Units likely lost to stockouts: Σ over SKU × node of velocity × days at zero, where
    velocity = units shipped in the period ÷ days in stock in the period (stock ledger;
    a SKU that never had stock in the period has no velocity). Numerator = the units,
    denominator = the SKU × node-days at zero."""
    return [
        _row(key, _quantize(sums["lost"]), int(sums["out"]), _quantize(sums["lost"]))
        for key, sums in _stock_days(filters, by).rows()
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
    days in the period), from the stock ledger at active shipping nodes; not annualised."""
    rows = []
    tally = _stock_days(filters, by)
    for key, sums in tally.rows():
        average = _quantize(sums["unit_days"] / tally.days_in(key), "0.01")
        turns = _quantize(sums["shipped"] / average, "0.01") if average else None
        rows.append(_row(key, int(sums["shipped"]), average, turns))
    return rows


# --- aging -----------------------------------------------------------------------------------


def _age_layers(filters: Filters) -> list[tuple[_Pair, int, int]]:
    """(pair, units, age in days) of the sellable units on hand at the end of the period,
    first in, first out: the units on hand are the latest to have arrived (positive sellable
    entries: receipts, transfers in, returns restocked, releases from inspection, found
    units). Units not traced to an arrival within AGE_HORIZON_DAYS count as that old."""
    _, end = _bounds(filters.date_from, filters.date_to)
    since = end - timedelta(days=AGE_HORIZON_DAYS)
    layers = []
    # Only what aging needs: what moved after the period (to step back to its closing
    # balance) and the arrivals before its end; the year's outgoing entries are not read.
    needed = Q(occurred_at__gte=end) | Q(quantity__gt=0)
    for balance, moves in _ledger_pairs(filters, since, held_before=False, only=needed):
        item = _Pair(node=balance["location__code"], family=balance["sku__product_family"])
        left = balance["on_hand"] - sum(
            row["units"] for row in moves if row["day"] > filters.date_to
        )
        arrivals = sorted(
            (
                (row["day"], row["arrived"])
                for row in moves
                if row["arrived"] and row["day"] <= filters.date_to
            ),
            reverse=True,
        )
        for day, units in arrivals:
            if left <= 0:
                break
            take = min(left, units)
            layers.append((item, take, (filters.date_to - day).days))
            left -= take
        if left > 0:
            layers.append((item, left, AGE_HORIZON_DAYS))
    return layers


def _aging_rows(filters: Filters, by: str | None, figure) -> list[dict]:
    sums: dict = defaultdict(lambda: [0, 0])  # key → [units, aged units or unit-days]
    for item, units, age in _age_layers(filters):
        key = "all" if by is None else getattr(item, by)
        sums[key][0] += units
        sums[key][1] += figure(units, age)
    if by is None and not sums:
        sums["all"] = [0, 0]
    return sums


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
    from the stock ledger)."""
    sums = _aging_rows(filters, by, lambda units, age: units if age > AGED_DAYS else 0)
    return [
        _row(key, aged, units, ratio(aged, units, Decimal(100)))
        for key, (units, aged) in sorted(sums.items())
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
    Σ units × days since they arrived at the node (first in, first out, stock ledger) ÷
    units on hand."""
    sums = _aging_rows(filters, by, lambda units, age: units * age)
    return [
        _row(key, unit_days, units, ratio(unit_days, units, Decimal(1)))
        for key, (units, unit_days) in sorted(sums.items())
    ]


def age_buckets(filters: Filters) -> list[dict]:
    """Sellable units on hand at the end of the period per node and age bucket (0–30,
    31–90, 91–180, over 180 days since arrival): the aging table behind the two figures."""
    table: dict = defaultdict(lambda: [0] * len(AGE_BUCKETS))
    for item, units, age in _age_layers(filters):
        for index, (low, high) in enumerate(AGE_BUCKETS):
            if age >= low and (high is None or age <= high):
                table[item.node][index] += units
    return [{"node": node, "units": units} for node, units in sorted(table.items())]


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
