"""The stock facts: each day × node × SKU family's sellable stock, kept current from the
stock ledger so the stock KPIs read a few hundred rows whatever the ledger's size.

One rule per figure, per SKU × node (a "pair") and day, from its end-of-day sellable
balance on the ledger (active SKUs at active shipping nodes):

- carried: the pair holds stock at the day's end, or it stands at zero and its stock moved
  within CARRIED_DAYS (a SKU at zero that has not moved for longer is no longer carried);
- out: carried and at zero at the day's end;
- on hand: its end-of-day units; shipped: the units its shipments took that day;
- age: each unit on hand is as old as the day it arrived at the node (a positive sellable
  entry: receipt, transfer in, restock, release, found), first in first out — the units
  on hand are the latest to arrive; counted by bucket (0–30, 31–90, 91–180, over 180 days)
  and as Σ units × age, an age being AGE_CAP days at most (and units not traced to an
  arrival that old);
- lost: for a pair out that day, its in-stock velocity when it ran out — units shipped over
  the VELOCITY_DAYS up to and including the day its stock last moved, ÷ the days of those
  that began or ended with stock.

A refresh re-computes from the day after the last final one to today: the balance at the
start is the balance now less what moved since (the ledger is what balances add up to),
the pairs at zero carry their state over (StockoutState), and only the pairs running out
read a few weeks of history for their velocity. Entries recorded late for a final day
(a backdated movement) make the next refresh rebuild everything; so does `full`.
"""

import bisect
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Min, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from erp.models import Sku
from insight.models import FactRefresh, StockDayFact, StockPairState
from inventory.models import MovementKind, StockBalance, StockLedgerEntry, StockStatus

WATERMARK = "stock"
CARRIED_DAYS = 90
VELOCITY_DAYS = 28
# A day is final once it ended this long ago: writers commit after taking their timestamp.
OVERLAP = timedelta(minutes=5)
SIX_PLACES = Decimal("0.000001")
AGE_CAP = 365
AGE_BUCKETS = (
    ("age_0_30", 0, 30),
    ("age_31_90", 31, 90),
    ("age_91_180", 91, 180),
    ("age_over_180", 181, None),
)
FIGURES = ("carried", "out", "on_hand", "shipped", "lost", *(name for name, _, _ in AGE_BUCKETS))
# Σ units × age on day i (counted from the first day computed) = const + slope × i.
METRICS = (*FIGURES, "age_const", "age_slope")


@dataclass(frozen=True)
class StockRefreshResult:
    days: int
    full: bool
    duration_ms: int


def _zone():
    return timezone.get_default_timezone()


def _start_of(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=_zone())


def _scope(rows):
    """Sellable rows of active SKUs at active shipping nodes."""
    return rows.filter(
        status=StockStatus.SELLABLE,
        sku__active=True,
        location__active=True,
        location__can_ship=True,
    )


def _daily_moves(since: date, pairs: set | None = None, until: date | None = None):
    """((sku, location), (day, net units, units shipped, units arrived)) per pair and day
    from `since`, ordered
    by pair then day: one GROUP BY over the ledger's occurred_at index."""
    entries = StockLedgerEntry.objects.filter(occurred_at__gte=_start_of(since))
    if until is not None:
        entries = entries.filter(occurred_at__lt=_start_of(until))
    if pairs is not None:
        entries = entries.filter(
            sku_id__in={sku for sku, _ in pairs}, location_id__in={loc for _, loc in pairs}
        )
    rows = (
        _scope(entries)
        .annotate(day=TruncDate("occurred_at", tzinfo=_zone()))
        .values_list("sku_id", "location_id", "day")
        .annotate(
            net=Sum("quantity"),
            shipped=Sum("quantity", filter=Q(kind=MovementKind.SHIPMENT)),
            arrived=Sum("quantity", filter=Q(quantity__gt=0)),
        )
        .order_by("sku_id", "location_id", "day")
    )
    for sku_id, location_id, day, net, shipped, arrived in rows:
        if pairs is None or (sku_id, location_id) in pairs:
            yield (sku_id, location_id), (day, net, -(shipped or 0), arrived or 0)


class _Days:
    """Per node × family, one difference array per figure over the days being computed:
    a stretch of days adds its amount at its first day and takes it off after its last."""

    def __init__(self, first: date, last: date):
        self.first, self.length = first, (last - first).days + 1
        self.diffs: dict = defaultdict(lambda: {name: defaultdict(int) for name in METRICS})

    def add(self, key, first: date, last: date, **amounts) -> None:
        start = max((first - self.first).days, 0)
        stop = min((last - self.first).days, self.length - 1)
        if stop < start:
            return
        diffs = self.diffs[key]
        for name, amount in amounts.items():
            diffs[name][start] += amount
            diffs[name][stop + 1] -= amount

    def add_layer(self, key, arrived: date | None, first: date, last: date, units: int) -> None:
        """`units` that arrived on `arrived` (None: untraced, as old as AGE_CAP), on hand at
        the end of each day from `first` to `last`: into their age buckets and Σ unit-age."""
        if arrived is None:
            self.add(key, first, last, age_over_180=units, age_const=units * AGE_CAP)
            return
        for name, low, high in AGE_BUCKETS:
            start = max(first, arrived + timedelta(days=low))
            end = last if high is None else min(last, arrived + timedelta(days=high))
            self.add(key, start, end, **{name: units})
        capped = arrived + timedelta(days=AGE_CAP)
        # age on day i = i + (first computed − arrived): linear until capped, then AGE_CAP.
        self.add(
            key,
            first,
            min(last, capped - timedelta(days=1)),
            age_slope=units,
            age_const=units * (self.first - arrived).days,
        )
        self.add(key, max(first, capped), last, age_const=units * AGE_CAP)

    def facts(self) -> list[StockDayFact]:
        found = []
        for (node_id, family), diffs in self.diffs.items():
            running = dict.fromkeys(METRICS, 0)
            for index in range(self.length):
                for name in METRICS:
                    running[name] += diffs[name].get(index, 0)
                if running["carried"] or running["shipped"]:
                    figures = {name: running[name] for name in FIGURES}
                    figures["lost"] = Decimal(figures["lost"]).quantize(SIX_PLACES)
                    found.append(
                        StockDayFact(
                            day=self.first + timedelta(days=index),
                            node_id=node_id,
                            family=family,
                            age_unit_days=running["age_const"] + running["age_slope"] * index,
                            **figures,
                        )
                    )
        return found


@dataclass
class _Pair:
    """One SKU at one node: its balance at the end of the day before the days computed,
    its moves day by day (history before them first, when it was read), and the state it
    carries over into them (arrival layers, or at zero its last move and velocity)."""

    key: tuple
    opening: int
    moves: list  # [(day, net, shipped, arrived)], sorted
    history_opening: int = 0  # the balance before the first of `moves`
    layers: list = field(default_factory=list)  # [(arrival day or None, units)], oldest first
    last_move: date | None = None
    velocity: Decimal = Decimal(0)


class _History:
    """A pair's end-of-day balance and shipped units at each move day (history included),
    built once per pair, so each velocity is two bisects and VELOCITY_DAYS steps."""

    def __init__(self, pair: _Pair):
        self.opening = pair.history_opening
        self.days, self.ends, self.shipped = [], [], [0]  # shipped: running Σ
        balance = pair.history_opening
        for day, net, shipped, _ in pair.moves:
            balance += net
            self.days.append(day)
            self.ends.append(balance)
            self.shipped.append(self.shipped[-1] + shipped)

    def _end_of(self, day: date) -> int:
        index = bisect.bisect_right(self.days, day) - 1
        return self.ends[index] if index >= 0 else self.opening

    def velocity(self, upto: date) -> Decimal:
        """Units shipped over the VELOCITY_DAYS ending `upto` ÷ those days that began or
        ended with stock."""
        first = upto - timedelta(days=VELOCITY_DAYS - 1)
        low = bisect.bisect_left(self.days, first)
        shipped = self.shipped[bisect.bisect_right(self.days, upto)] - self.shipped[low]
        stocked, previous = 0, self._end_of(first - timedelta(days=1))
        day = first
        while day <= upto:
            current = self._end_of(day)
            stocked += previous > 0 or current > 0
            previous, day = current, day + timedelta(days=1)
        if not stocked:
            return Decimal(0)
        return (Decimal(shipped) / stocked).quantize(SIX_PLACES, rounding=ROUND_HALF_UP)


class _Walk:
    """One pair's days from `first` to `last`, added to `out`; `kept` is its state at the
    end of `keep_on` (None when it neither holds stock nor is carried at zero then)."""

    def __init__(self, pair: _Pair, key, out: "_Days", first: date, last: date):
        self.pair, self.key, self.out, self.last = pair, key, out, last
        self.units, self.day = pair.opening, first
        self.last_move, self.velocity = pair.last_move, pair.velocity
        # Each layer: [arrival day or None, units, first day it has held those units].
        self.layers = [[arrived, units, first] for arrived, units in pair.layers if units > 0]
        self._fit(first)
        self.kept = None

    def _close(self, layer, until: date) -> None:
        if layer[1] > 0 and until >= layer[2]:
            self.out.add_layer(self.key, layer[0], layer[2], until, layer[1])

    def _fit(self, day: date) -> None:
        """Units leave first in, first out: trim the oldest layers to the balance at the end
        of `day`; units beyond every traced arrival are an untraced layer."""
        excess = sum(layer[1] for layer in self.layers) - max(self.units, 0)
        while excess > 0:
            oldest = self.layers[0]
            take = min(excess, oldest[1])
            self._close(oldest, day - timedelta(days=1))
            oldest[1], oldest[2], excess = oldest[1] - take, day, excess - take
            if not oldest[1]:
                self.layers.pop(0)
        if excess < 0:
            self.layers.insert(0, [None, -excess, day])

    def _stretch(self, end: date) -> None:
        """The days from self.day to `end`, over which the balance stood still."""
        if self.units > 0:
            self.out.add(self.key, self.day, end, carried=1, on_hand=self.units)
        elif self.last_move is not None:
            until = min(end, self.last_move + timedelta(days=CARRIED_DAYS))
            self.out.add(self.key, self.day, until, carried=1, out=1, lost=self.velocity)

    def keep(self, keep_on: date) -> None:
        sku_id, location_id = self.pair.key
        if self.units > 0:
            layers = [[arrived and arrived.isoformat(), units] for arrived, units, _ in self.layers]
            self.kept = StockPairState(sku_id=sku_id, location_id=location_id, layers=layers)
        elif self.last_move and (keep_on - self.last_move).days <= CARRIED_DAYS:
            self.kept = StockPairState(
                sku_id=sku_id,
                location_id=location_id,
                last_move=self.last_move,
                velocity=self.velocity,
            )

    def run(self, keep_on: date | None) -> "_Walk":
        history = _History(self.pair)
        for moved, net, shipped, arrived in self.pair.moves:
            if moved < self.day:
                continue
            if moved > self.last:
                break
            if keep_on is not None and moved > keep_on and self.kept is None:
                self.keep(keep_on)
                keep_on = None
            if moved > self.day:
                self._stretch(moved - timedelta(days=1))
            self.units += net
            self.last_move, self.day = moved, moved
            if shipped:
                self.out.add(self.key, moved, moved, shipped=shipped)
            if arrived:
                self.layers.append([moved, arrived, moved])
            self._fit(moved)
            if self.units <= 0:
                self.velocity = history.velocity(moved)
        if keep_on is not None:
            self.keep(keep_on)
        self._stretch(self.last)
        for layer in self.layers:
            self._close(layer, self.last)
        return self


def _pairs(first: date, *, full: bool) -> list[_Pair]:
    """Every pair in scope with something to count from `first`: its balance then (the
    balance now less what moved since), its moves, and the state it carries over."""
    balances = _scope(StockBalance.objects.all()).values_list("sku_id", "location_id", "on_hand")
    moves: dict = defaultdict(list)
    for key, move in _daily_moves(first):
        moves[key].append(move)
    states = {} if full else {(s.sku_id, s.location_id): s for s in StockPairState.objects.all()}
    pairs = []
    for sku_id, location_id, on_hand in balances:
        key = (sku_id, location_id)
        since = moves.get(key, [])
        opening = on_hand - sum(move[1] for move in since)
        pair = _Pair(key=key, opening=opening, moves=since, history_opening=opening)
        state = states.get(key)
        if state is not None and opening > 0:
            pair.layers = [
                (date.fromisoformat(arrived) if arrived else None, units)
                for arrived, units in state.layers
            ]
        elif state is not None and state.last_move is not None:
            pair.last_move, pair.velocity = state.last_move, state.velocity
        if opening > 0 or pair.last_move is not None or since:
            pairs.append(pair)
    if not full:
        _read_history(pairs, first)
    return pairs


def _read_history(pairs: list[_Pair], first: date) -> None:
    """The VELOCITY_DAYS before `first` of the pairs that stand at zero after a move from
    `first` on (their velocity reads them): one query for those pairs only."""
    running_out = set()
    for pair in pairs:
        units = pair.opening
        for move in pair.moves:
            units += move[1]
            if units <= 0:
                running_out.add(pair.key)
                break
    if not running_out:
        return
    history: dict = defaultdict(list)
    since = first - timedelta(days=VELOCITY_DAYS)
    for key, move in _daily_moves(since, running_out, until=first):
        history[key].append(move)
    for pair in pairs:
        before = history.get(pair.key)
        if before:
            pair.moves = before + pair.moves
            pair.history_opening = pair.opening - sum(move[1] for move in before)


def _compute(first: date, last: date, keep_on: date | None, *, full: bool):
    """The facts of `first`…`last` and each pair's state at the end of `keep_on`."""
    pairs = _pairs(first, full=full)
    family_of = dict(
        Sku.objects.filter(pk__in={pair.key[0] for pair in pairs}).values_list(
            "pk", "product_family"
        )
    )
    days = _Days(first, last)
    kept = []
    for pair in pairs:
        walk = _Walk(pair, (pair.key[1], family_of[pair.key[0]]), days, first, last).run(keep_on)
        if walk.kept is not None:
            kept.append(walk.kept)
    return days.facts(), kept


def _first_ledger_day() -> date | None:
    first = StockLedgerEntry.objects.aggregate(first=Min("occurred_at"))["first"]
    return timezone.localtime(first, _zone()).date() if first else None


def refresh_stock_facts(*, full: bool = False, now: datetime | None = None) -> StockRefreshResult:
    """Bring the stock facts up to today (see the module's docstring). Refreshes take turns
    on the watermark row; the facts and the carried-over state change in one transaction."""
    began = time.perf_counter()
    now = now or timezone.now()
    today = timezone.localtime(now, _zone()).date()
    final = timezone.localtime(now - OVERLAP, _zone()).date() - timedelta(days=1)
    with transaction.atomic():
        state, _ = FactRefresh.objects.get_or_create(name=WATERMARK)
        state = FactRefresh.objects.select_for_update().get(pk=state.pk)
        newest = StockLedgerEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        if not full and state.final_day is not None:
            # An entry recorded since the last refresh for a day already final.
            full = StockLedgerEntry.objects.filter(
                pk__gt=state.last_ledger_id,
                occurred_at__lt=_start_of(state.final_day + timedelta(days=1)),
            ).exists()
        if full or state.final_day is None:
            full, first = True, min(_first_ledger_day() or today, today)
        else:
            first = min(state.final_day + timedelta(days=1), today)
        keep_on = final if final >= first else None
        facts, kept = _compute(first, today, keep_on, full=full)
        StockDayFact.objects.filter(day__gte=date.min if full else first).delete()
        StockDayFact.objects.bulk_create(facts, batch_size=5000)
        if keep_on is not None or full:
            StockPairState.objects.all().delete()
            StockPairState.objects.bulk_create(kept, batch_size=5000)
            state.final_day = keep_on or first - timedelta(days=1)
        duration = int((time.perf_counter() - began) * 1000)
        state.last_ledger_id, state.refreshed_to, state.last_run_at = newest, now, timezone.now()
        state.last_duration_ms, state.last_days = duration, (today - first).days + 1
        state.save()
    return StockRefreshResult(days=state.last_days, full=full, duration_ms=duration)
