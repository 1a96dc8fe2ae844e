"""`bench kpis`: 1,000,000 orders with 3,000,000 lines over a year (their allocations,
parcels and a few short-stock timeline rows) and 3,000,000 sellable stock ledger entries
with the balances they add up to, loaded with COPY straight into the tables the KPI facts
are computed from. Then: the full build of the facts, the p95 of the dashboards' KPI
queries (each role's dashboard under several filters), and an incremental refresh after
a day's worth of changes (new orders, changed ones, shipments through the ledger)."""

import random
import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from erp.benchmarks import register_benchmark
from erp.benchmarks.support import analyze, database_label, percentile
from erp.fastsql import copy_rows
from erp.models import Channel, Location, Sku
from erp.roles import system_actor
from fulfillment.models import Carrier, Shipment
from insight.kpis import Filters, all_kpis
from insight.models import LineDayFact, OrderDayFact, StockDayFact
from insight.services.facts import refresh_facts
from insight.views.dashboards import DASHBOARDS
from inventory.models import StockBalance, StockLedgerEntry
from inventory.services.ledger import Movement, post_movements
from orders.models import Allocation, Order, OrderEvent, OrderLine

ORDERS = 1_000_000
LINES_PER_ORDER = 3
DAYS = 365
CHANNELS, NODES, FAMILIES, SKUS = 6, 5, 8, 240
TOUCHED = 2_000  # orders changed before the incremental refresh
# Ledger slots per order: about two in three become an entry (stockouts wait, slow movers
# skip), so the ledger ends with about as many entries as there are lines (3 M).
LEDGER_SLOTS_PER_ORDER = 4.6
# The KPIs read from the stock facts.
STOCK_KPIS = (
    "stockout_rate", "lost_sales_exposure", "inventory_turns", "aged_stock_rate",
    "stock_age_days",
)  # fmt: skip


def _copy(model, explicit: tuple[str, ...], rows) -> int:
    """COPY rows naming `explicit` fields; every other column takes its model default."""
    others = [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and field.name not in explicit and field.attname not in explicit
    ]
    defaults = tuple(
        "{}" if isinstance(field.get_default(), dict) else field.get_default() for field in others
    )
    names = (*explicit, *(field.name for field in others))
    return copy_rows(model, names, (tuple(row) + defaults for row in rows))


def _master_data(stamp: str):
    channels = [
        Channel.objects.create(code=f"K{stamp}C{n}", name=f"kpi bench {n}", kind="amazon")
        for n in range(CHANNELS)
    ]
    nodes = [
        Location.objects.create(code=f"K{stamp}N{n}", name=f"kpi node {n}", region="us-east")
        for n in range(NODES)
    ]
    skus = Sku.objects.bulk_create(
        [
            Sku(code=f"K{stamp}S{n}", name="kpi bench sku", product_family=f"fam-{n % FAMILIES}")
            for n in range(SKUS)
        ]
    )
    carrier = Carrier.objects.create(
        code=f"K{stamp}", name="kpi bench carrier", tracking_pattern=r"^B[0-9]+$"
    )
    return channels, nodes, skus, carrier


def _seed(stamp: str, orders: int):
    channels, nodes, skus, carrier = _master_data(stamp)
    actor = system_actor()
    rng = random.Random(16)
    now = timezone.now().replace(microsecond=0)
    start = now - timedelta(days=DAYS)
    span = DAYS * 86400
    plans = []
    for n in range(orders):
        placed = start + timedelta(seconds=(n * span) // orders)
        roll = rng.random()
        released = placed + timedelta(minutes=rng.randint(5, 600))
        shipped = released + timedelta(minutes=rng.randint(60, 4000))
        if roll < 0.03:
            state, released, shipped = "cancelled", None, None
        elif shipped > now - timedelta(hours=1) or roll > 0.97:
            state, shipped = "backordered", None
        else:
            state = "shipped"
        plans.append((n, placed, released, shipped, state))
    started = time.perf_counter()
    with transaction.atomic():
        _copy(
            Order,
            (
                "channel",
                "external_id",
                "order_number",
                "state",
                "placed_at",
                "ship_by",
                "currency",
                "payment_status",
                "raw_payload",
                "extra",
                "payload_hash",
                "received_at",
                "state_changed_at",
                "released_at",
                "shipped_at",
                "cancelled_at",
            ),
            (
                (
                    channels[n % CHANNELS].pk,
                    f"{stamp}-{n}",
                    f"{stamp}-{n}",
                    state,
                    placed,
                    placed + timedelta(hours=48),
                    "USD",
                    "captured",
                    "{}",
                    "{}",
                    "bench",
                    placed + timedelta(minutes=1),
                    shipped or released or placed,
                    released,
                    shipped,
                    placed + timedelta(hours=1) if state == "cancelled" else None,
                )
                for n, placed, released, shipped, state in plans
            ),
        )
    order_ids = list(
        Order.objects.filter(channel__in=channels).order_by("pk").values_list("pk", flat=True)
    )
    with transaction.atomic():
        _copy(
            OrderLine,
            (
                "order",
                "line_number",
                "external_line_id",
                "sku",
                "quantity",
                "quantity_shipped",
                "quantity_cancelled",
                "state",
            ),
            (
                (
                    order_id,
                    number,
                    str(number),
                    skus[(n * 7 + number) % SKUS].pk,
                    qty,
                    qty if state == "shipped" else 0,
                    qty if state == "cancelled" else 0,
                    {"shipped": "shipped", "cancelled": "cancelled"}.get(state, "backordered"),
                )
                for order_id, (n, _, _, _, state) in zip(order_ids, plans, strict=True)
                for number, qty in ((1, 1), (2, 2), (3, 1))[:LINES_PER_ORDER]
            ),
        )
    lines = OrderLine.objects.filter(order__channel__in=channels, state="shipped").order_by("pk")
    with transaction.atomic():
        _copy(
            Allocation,
            ("line", "location", "sku", "quantity", "active", "dropship", "created_at"),
            (
                (line_id, nodes[order_id % NODES].pk, sku_id, qty, True, False, now)
                for line_id, order_id, sku_id, qty in lines.values_list(
                    "pk", "order_id", "sku_id", "quantity"
                ).iterator(chunk_size=20000)
            ),
        )
        _copy(
            Shipment,
            (
                "order",
                "location",
                "carrier",
                "tracking_number",
                "state",
                "created_by",
                "created_at",
                "shipped_at",
            ),
            (
                (
                    order_id,
                    nodes[order_id % NODES].pk,
                    carrier.pk,
                    f"B{order_id}" if order_id % 50 else f"X{order_id}",
                    "shipped",
                    actor.pk,
                    shipped,
                    shipped,
                )
                for order_id, (_, _, _, shipped, state) in zip(order_ids, plans, strict=True)
                if state == "shipped"
            ),
        )
        _copy(
            OrderEvent,
            ("order", "kind", "from_state", "to_state", "message", "at"),
            (
                (order_id, "state", "allocated", "backordered", "bench", placed)
                for order_id, (n, placed, _, _, _) in zip(order_ids, plans, strict=True)
                if n % 17 == 0
            ),
        )
    analyze(Order, OrderLine, Allocation, Shipment, OrderEvent)
    return channels, nodes, skus, order_ids, time.perf_counter() - started


def _ledger_rows(nodes, skus, slots: int, actor_id: int, now):
    """The sellable ledger of every SKU × node over the year, `slots` movement slots shared
    out evenly in time: shipments of 1–3 units while in stock; at zero, a wait of a few
    slots (a stockout of up to a few days) and then a receipt of 20–60. Every tenth SKU is a
    slow mover that ships on one slot in ten, so its stock ages. Yields ledger tuples and,
    at the end of each pair, its balance."""
    rng = random.Random(17)
    pairs = [(sku.pk, node.pk) for sku in skus for node in nodes]
    per_pair = max(slots // len(pairs), 1)
    start, step = now - timedelta(days=DAYS), timedelta(days=DAYS) / per_pair
    for number, (sku_id, location_id) in enumerate(pairs):
        balance, wait, slow = 0, 0, number % 10 == 0
        offset = step * number / len(pairs)
        for slot in range(per_pair):
            when = start + offset + step * slot
            if balance == 0:
                if wait:
                    wait -= 1
                    continue
                units, kind = rng.randint(20, 60), "receipt"
                wait = rng.choice((0, 0, 2, 7, 14, 28))
            elif slow and rng.random() > 0.1:
                continue
            else:
                units, kind = -min(balance, rng.randint(1, 3)), "shipment"
            balance += units
            yield (sku_id, location_id, "sellable", units, kind, "bench", "", actor_id, when, when)
        yield (sku_id, location_id, balance)


def _seed_ledger(nodes, skus, slots: int) -> tuple[int, float]:
    """Write the ledger of _ledger_rows with COPY (in chunks) and the balances it adds up
    to; ANALYZE. Returns (entries written, seconds)."""
    started = time.perf_counter()
    fields = (
        "sku", "location", "status", "quantity", "kind", "reference", "reason", "actor",
        "occurred_at", "recorded_at",
    )  # fmt: skip
    written, chunk, balances = 0, [], []
    with transaction.atomic():
        rows = _ledger_rows(nodes, skus, slots, system_actor().pk, timezone.now())
        for row in rows:
            if len(row) == 3:
                sku_id, location_id, on_hand = row
                balances.append(
                    StockBalance(
                        sku_id=sku_id, location_id=location_id, status="sellable", on_hand=on_hand
                    )
                )
                continue
            chunk.append(row)
            if len(chunk) == 200_000:
                written += copy_rows(StockLedgerEntry, fields, chunk)
                chunk = []
        written += copy_rows(StockLedgerEntry, fields, chunk)
        StockBalance.objects.bulk_create(balances, batch_size=5000)
    analyze(StockLedgerEntry, StockBalance)
    return written, time.perf_counter() - started


def _dashboard_queries(channels, nodes, today) -> list[tuple[str, float]]:
    """Each role's dashboard under several filters: every KPI's headline, series and bars
    ((KPI key, milliseconds) per query)."""
    year = Filters(date_from=today - timedelta(days=DAYS - 1), date_to=today)
    variants = [
        (Filters.default(today), "day"),
        (year, "week"),
        (year.on(channel=channels[1].code), "week"),
        (Filters.default(today).on(node=nodes[2].code), "day"),
        (Filters(date_from=today - timedelta(days=89), date_to=today), "week"),
    ]
    timings = []
    for slug, (_, role) in DASHBOARDS.items():
        kpis = [kpi for kpi in all_kpis() if slug == "manager" or role in kpi.roles]
        for filters, bucket in variants:
            for kpi in kpis:
                # The queries the dashboard makes: headline, series, bars (kpi_panel).
                for by in (None, bucket if bucket in kpi.breakdowns else None, kpi.bars_by):
                    began = time.perf_counter()
                    kpi.rows(filters, by)
                    timings.append((kpi.key, (time.perf_counter() - began) * 1000))
    return timings


def _touch(stamp: str, channels, order_ids, count: int) -> None:
    """A day's changes: `count` new orders placed now, and as many older ones shipped."""
    now = timezone.now()
    Order.objects.bulk_create(
        [
            Order(
                channel=channels[n % CHANNELS],
                external_id=f"{stamp}-new-{n}",
                placed_at=now,
                currency="USD",
                payment_status="captured",
                raw_payload={},
                payload_hash="bench",
            )
            for n in range(count)
        ],
        batch_size=2000,
    )
    recent = order_ids[-count * 3 :: 3]
    Order.objects.filter(pk__in=recent, state="backordered").update(
        state="cancelled", cancelled_at=now, state_changed_at=now
    )
    OrderEvent.objects.bulk_create(
        [OrderEvent(order_id=pk, kind="state", to_state="cancelled") for pk in recent],
        batch_size=2000,
    )


def _ship_today(nodes, skus, count: int) -> None:
    """`count` one-unit shipments now from pairs in stock, posted through the ledger service
    twenty to a posting (as a wave ships)."""
    in_stock = list(
        StockBalance.objects.filter(location__in=nodes, sku__in=skus, on_hand__gt=0)
        .order_by("pk")
        .values_list("sku_id", "location_id", "on_hand")
    )
    moves = []
    for sku_id, location_id, on_hand in in_stock:
        moves.extend([Movement(sku_id, location_id, "sellable", -1)] * min(on_hand, 3))
    moves = moves[:count]
    actor = system_actor()
    for first in range(0, len(moves), 20):
        post_movements(movements=moves[first : first + 20], kind="shipment", actor=actor)


@register_benchmark("kpis", "KPI dashboards over 1,000,000 orders / 3,000,000 lines (p95)")
def run(out, orders: int = ORDERS, **options):
    stamp = f"{int(time.time()) % 10_000_000:07d}"
    channels, nodes, skus, order_ids, seeded = _seed(stamp, orders)
    out.write(f"database: {database_label()}")
    out.write(
        f"seeded {orders:,} orders, {orders * LINES_PER_ORDER:,} lines with allocations, "
        f"parcels and timeline rows over {DAYS} days in {seeded:.1f} s (COPY)"
    )
    entries, ledger_seconds = _seed_ledger(nodes, skus, int(orders * LEDGER_SLOTS_PER_ORDER))
    out.write(
        f"seeded {entries:,} sellable ledger entries of {len(skus) * len(nodes):,} SKU × "
        f"nodes over {DAYS} days in {ledger_seconds:.1f} s (COPY)"
    )
    full = refresh_facts(full=True)
    analyze(OrderDayFact, LineDayFact, StockDayFact)
    out.write(
        f"full build of the facts: {full.days} days in {full.duration_ms / 1000:.1f} s → "
        f"{OrderDayFact.objects.count():,} order facts, {LineDayFact.objects.count():,} line facts"
    )
    out.write(
        f"full build of the stock facts: {full.stock.days} days in "
        f"{full.stock.duration_ms / 1000:.1f} s → {StockDayFact.objects.count():,} stock facts"
    )
    today = timezone.localdate()
    _dashboard_queries(channels, nodes, today)  # warm the caches once
    timed = _dashboard_queries(channels, nodes, today)
    timings = [ms for _, ms in timed]
    p50, p95 = percentile(timings, 0.5), percentile(timings, 0.95)
    out.write(
        f"dashboard KPI queries: {len(timings)} timed, p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
        f"max {max(timings):.1f} ms"
    )
    stock = [ms for key, ms in timed if key in STOCK_KPIS]
    out.write(
        f"of which stock KPIs (over the stock facts): {len(stock)} timed, "
        f"p95 {percentile(stock, 0.95):.1f} ms, max {max(stock):.1f} ms"
    )
    touched = min(TOUCHED, max(orders // 10, 1))
    _touch(stamp, channels, order_ids, touched)
    _ship_today(nodes, skus, touched)
    incremental = refresh_facts()
    out.write(
        f"incremental refresh after {touched:,} new and {touched:,} changed orders: "
        f"{incremental.days} days re-computed in {incremental.duration_ms} ms"
    )
    out.write(
        f"incremental refresh of the stock facts after {touched:,} shipments today: "
        f"{incremental.stock.days} day(s) re-computed in {incremental.stock.duration_ms} ms"
    )
    return f"{p95:.0f}", "ms p95"
