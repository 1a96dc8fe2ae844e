"""`bench availability`: full ATS of one channel over 100,000 SKUs × 5 nodes."""

import time
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from erp.benchmarks import register_benchmark
from erp.benchmarks.support import analyze, database_label
from erp.models import Channel, ChannelListing, Location, Sku
from inventory import selectors
from inventory.models import AllocationRule, SafetyStock, StockBalance, StockLedgerEntry

SKUS = 100_000
NODES = 5
PREFIX = "AV-"


def _seed(actor) -> Channel:
    nodes = [
        Location.objects.get_or_create(
            code=f"{PREFIX}N{n}", defaults={"name": f"Bench node {n}", "region": "bench"}
        )[0]
        for n in range(NODES)
    ]
    channels = []
    for n, kind in enumerate(["shopify", "amazon", "ebay"]):
        channel, created = Channel.objects.get_or_create(
            code=f"{PREFIX}C{n}", defaults={"name": kind, "kind": kind}
        )
        if created:
            channel.eligible_locations.add(*nodes[: 3 + n])
        channels.append(channel)
    existing = Sku.objects.filter(code__startswith=PREFIX).count()
    if existing < SKUS:
        _seed_stock(nodes, channels, actor, start=existing)
    rules = [
        (channels[0], dict(buffer=2, cap=Decimal("0.9"), threshold=3)),
        (channels[1], dict(protected=5, max_units=50)),
        (channels[2], dict(buffer=1, cap=Decimal("0.8"))),
    ]
    for channel, values in rules:
        AllocationRule.objects.update_or_create(channel=channel, sku=None, defaults=values)
    analyze(
        Sku, ChannelListing, StockBalance, SafetyStock, AllocationRule, StockLedgerEntry, Location
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Channel.eligible_locations.through._meta.db_table}")
    return channels[0]


def _seed_stock(nodes, channels, actor, *, start: int) -> None:
    """Bulk-load SKUs, listings, and balances with the ledger entries they add up to."""
    now = timezone.now()
    batch = 10_000
    for first in range(start, SKUS, batch):
        with transaction.atomic():
            skus = Sku.objects.bulk_create(
                [
                    Sku(code=f"{PREFIX}{n:06d}", name=f"bench {n}")
                    for n in range(first, min(first + batch, SKUS))
                ]
            )
            ChannelListing.objects.bulk_create(
                [
                    ChannelListing(channel=c, sku=s, channel_sku=f"{c.code}-{s.code}")
                    for s in skus
                    for c in channels
                ]
            )
            balances, entries, safety = [], [], []
            for s in skus:
                for i, node in enumerate(nodes):
                    quantity = (s.pk * 7 + i * 13) % 40
                    if not quantity:
                        continue
                    balances.append(
                        StockBalance(
                            sku=s,
                            location=node,
                            status="sellable",
                            on_hand=quantity,
                            reserved=quantity // 10,
                        )
                    )
                    entries.append(
                        StockLedgerEntry(
                            sku=s,
                            location=node,
                            status="sellable",
                            quantity=quantity,
                            kind="receipt",
                            reference="bench seed",
                            actor=actor,
                            occurred_at=now,
                        )
                    )
                    if i == 0:
                        safety.append(SafetyStock(sku=s, location=node, quantity=1))
            StockBalance.objects.bulk_create(balances, batch_size=5000)
            StockLedgerEntry.objects.bulk_create(entries, batch_size=5000)
            SafetyStock.objects.bulk_create(safety, batch_size=5000)


@register_benchmark(
    "availability", "full ATS for one channel: 100,000 SKUs × 5 nodes, 3 channels with rules"
)
def run(out, rounds: int = 5, **options):
    from inventory.benchmarks.oversell import _bench_manager

    channel = _seed(_bench_manager())
    selectors.compute_availability(channel=channel)  # warm caches
    timings = []
    for _ in range(rounds):
        began = time.perf_counter()
        figures = selectors.compute_availability(channel=channel)
        timings.append(time.perf_counter() - began)
    best, median = min(timings), sorted(timings)[len(timings) // 2]
    out.write(f"database: {database_label()}")
    out.write(f"skus listed on the channel: {len(figures)}; nodes: {NODES}; channels with rules: 3")
    out.write(f"sum of ATS: {sum(f.available for f in figures.values())}")
    out.write(f"rounds: {rounds}; median {median * 1000:.0f} ms, best {best * 1000:.0f} ms")
    return round(len(figures) / median), "skus/s"
