"""`bench replenish`: proposals for 50,000 SKUs × 3 nodes from 90 days of shipments.

Seeds set-based (INSERT … SELECT over generate_series): SKUs, one preferred supplier item
each (lead time 7/14/21 days, MOQ and pack 1/6/12), about a million shipment entries over
90 days with the receipts and balances they add up to. Then ANALYZE and one full
replenishment run through the service (the reads, the arithmetic and the writes of every
proposal line). The headline is SKU × node rows evaluated per second.
"""

import time
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from erp.benchmarks import opening_stock_loaded, register_benchmark
from erp.benchmarks.support import analyze, database_label
from erp.models import Location, Sku
from inventory.models import StockBalance, StockLedgerEntry
from purchasing.models import (
    Proposal,
    ProposalLine,
    PurchaseOrderLine,
    ReplenishmentSettings,
    Supplier,
    SupplierItem,
)
from purchasing.services import replenishment

SKUS = 50_000
NODES = 3
DAYS = 90
PREFIX = "RP-"


def _execute(sql: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _seed(actor) -> list[Location]:
    nodes = [
        Location.objects.get_or_create(
            code=f"{PREFIX}N{n}", defaults={"name": f"Replenish node {n}", "region": "bench"}
        )[0]
        for n in range(NODES)
    ]
    supplier, _ = Supplier.objects.get_or_create(
        code=f"{PREFIX}SUP", defaults={"name": "Replenish bench supplier"}
    )
    if Sku.objects.filter(code__startswith=PREFIX).count() >= SKUS:
        return nodes
    now = timezone.now()
    with transaction.atomic():
        batch = 10_000
        for first in range(0, SKUS, batch):
            Sku.objects.bulk_create(
                [
                    Sku(code=f"{PREFIX}{n:06d}", name=f"replenish {n}", unit_cost=Decimal("5"))
                    for n in range(first, min(first + batch, SKUS))
                ],
                ignore_conflicts=True,
            )
        skus = "SELECT id FROM erp_sku WHERE code LIKE %s"
        _execute(
            f"""
            INSERT INTO purchasing_supplieritem
                (created_at, updated_at, supplier_id, sku_id, supplier_sku, unit_cost,
                 lead_time_days, moq, pack_multiple, preferred, qa_hold, active)
            SELECT %s, %s, %s, s.id, 'B-' || s.id, 3.5000,
                   7 * (1 + s.id %% 3), (ARRAY[1, 6, 12])[1 + s.id %% 3],
                   (ARRAY[1, 6, 12])[1 + s.id %% 3], true, false, true
            FROM ({skus}) s
            ON CONFLICT DO NOTHING
            """,
            [now, now, supplier.pk, f"{PREFIX}%"],
        )
        node_ids = [node.pk for node in nodes]
        # About one day in thirteen per SKU × node ships 1–4 units (~1.04M entries).
        _execute(
            f"""
            INSERT INTO inventory_stockledgerentry
                (sku_id, location_id, status, quantity, kind, reference, reason, actor_id,
                 occurred_at, recorded_at)
            SELECT s.id, l.id, 'sellable', -(1 + (s.id * 7 + d * 3 + l.id) %% 4), 'shipment',
                   'bench', '', %s, %s - make_interval(days => d, hours => (s.id %% 20)::int), %s
            FROM ({skus}) s
            CROSS JOIN unnest(%s::int[]) AS l(id)
            CROSS JOIN generate_series(0, {DAYS - 1}) AS d
            WHERE (s.id * 31 + d * 17 + l.id * 7) %% 13 = 0
            """,
            [actor.pk, now, now, f"{PREFIX}%", node_ids],
        )
        # Receipts 120 days ago of what shipped plus 0–39 units still on hand.
        _execute(
            f"""
            INSERT INTO inventory_stockledgerentry
                (sku_id, location_id, status, quantity, kind, reference, reason, actor_id,
                 occurred_at, recorded_at)
            SELECT s.id, l.id, 'sellable',
                   COALESCE(shipped.units, 0) + 1 + (s.id * 13 + l.id) %% 40, 'receipt',
                   'bench', '', %s, %s - interval '120 days', %s
            FROM ({skus}) s
            CROSS JOIN unnest(%s::int[]) AS l(id)
            LEFT JOIN (
                SELECT sku_id, location_id, -SUM(quantity) AS units
                FROM inventory_stockledgerentry
                WHERE kind = 'shipment' AND location_id = ANY(%s) GROUP BY 1, 2
            ) shipped ON shipped.sku_id = s.id AND shipped.location_id = l.id
            """,
            [actor.pk, now, now, f"{PREFIX}%", node_ids, node_ids],
        )
        _execute(
            """
            INSERT INTO inventory_stockbalance
                (sku_id, location_id, status, on_hand, reserved, updated_at)
            SELECT sku_id, location_id, 'sellable', SUM(quantity), 0, %s
            FROM inventory_stockledgerentry
            WHERE location_id = ANY(%s) GROUP BY 1, 2
            ON CONFLICT DO NOTHING
            """,
            [now, node_ids],
        )
    return nodes


@register_benchmark(
    "replenish", "reorder proposals for 50,000 SKUs × 3 nodes from 90 days of shipments"
)
def run(out, **options):
    from inventory.benchmarks.oversell import _bench_manager

    actor = _bench_manager()
    began = time.perf_counter()
    _seed(actor)
    opening_stock_loaded(actor)  # the seeded shelves go on the books as opening stock
    seeded = time.perf_counter() - began
    analyze(Sku, Location, SupplierItem, StockLedgerEntry, StockBalance, PurchaseOrderLine)
    analyze(Proposal, ProposalLine)
    entries = StockLedgerEntry.objects.filter(
        kind="shipment", location__code__startswith=PREFIX
    ).count()
    ReplenishmentSettings.current()
    params = replenishment.Parameters.of(ReplenishmentSettings.current())
    out.write(f"database: {database_label()}")
    out.write(f"seeded in {seeded:.1f}s: {entries:,} shipment entries")
    began = time.perf_counter()
    computed = replenishment.compute(as_of=timezone.now(), params=params)
    compute_seconds = time.perf_counter() - began
    out.write(
        f"compute only: {computed.pairs:,} SKU × node rows in {compute_seconds:.2f}s "
        f"({computed.pairs / compute_seconds:,.0f}/s), {len(computed.plans):,} to order"
    )
    began = time.perf_counter()
    result = replenishment.run_replenishment(actor=actor)
    seconds = time.perf_counter() - began
    out.write(
        f"full run (reads, arithmetic, {result.lines_proposed:,} proposal lines written): "
        f"{result.pairs_evaluated:,} rows in {seconds:.2f}s"
    )
    return round(result.pairs_evaluated / seconds), "skus/s"
