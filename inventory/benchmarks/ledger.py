"""`bench ledger`: post 200,000 movements through the services from worker processes (as
production's gunicorn and Celery workers would), then verify the ledger."""

import multiprocessing
import time

from django.db import connections
from django.utils import timezone

from erp.benchmarks import register_benchmark
from erp.benchmarks.support import analyze, database_label
from erp.models import Location, Sku
from inventory.models import StockBalance, StockLedgerEntry
from inventory.services.movements import change_status, receive_stock
from inventory.services.transfers import create_transfer, receive_transfer
from inventory.services.verification import find_balance_differences

TARGET_MOVES = 200_000
SKUS = 2_000


def _seed(stamp: str):
    nodes = [
        Location.objects.create(code=f"LG{n}-{stamp}", name=f"ledger bench {n}", region="bench")
        for n in range(2)
    ]
    skus = Sku.objects.bulk_create(
        [Sku(code=f"LG-{stamp}-{n:05d}", name="ledger bench") for n in range(SKUS)]
    )
    analyze(Sku, Location, StockBalance, StockLedgerEntry)
    return nodes, skus


def _cycle(skus, index, nodes, actor) -> int:
    """One round of typical floor work on five SKUs; returns ledger entries written."""
    batch = [skus[(index * 5 + k) % len(skus)] for k in range(5)]
    source, target = nodes[index % 2], nodes[(index + 1) % 2]
    for sku in batch:
        receive_stock(sku=sku, location=source, quantity=5, actor=actor, reference=f"ASN-{index}")
    change_status(
        sku=batch[0],
        location=source,
        quantity=1,
        from_status="sellable",
        to_status="inspection",
        actor=actor,
        reason="QA sample",
    )
    change_status(
        sku=batch[0],
        location=source,
        quantity=1,
        from_status="inspection",
        to_status="sellable",
        actor=actor,
        reason="QA passed",
    )
    transfer = create_transfer(
        from_location=source,
        to_location=target,
        actor=actor,
        lines=[{"sku": sku, "quantity": 2} for sku in batch],
    )
    receive_transfer(
        transfer_id=transfer.pk, actor=actor, received={line.pk: 2 for line in transfer.lines.all()}
    )
    return 5 + 2 + 2 + 10 + 10


def _worker(skus, nodes, actor, target: int, results, start) -> None:
    """Each worker process owns its own SKUs, as pickers on different aisles would, and
    opens its own connection (the parent closed its own before forking)."""
    try:
        start.wait()
        moves, index = 0, 0
        while moves < target:
            moves += _cycle(skus, index, nodes, actor)
            index += 1
        results.put((moves, index))
    finally:
        connections.close_all()


@register_benchmark(
    "ledger", "post 200,000 movements through the services from 4 processes, then verify_inventory"
)
def run(out, target: int = TARGET_MOVES, workers: int = 4, **options):
    from inventory.benchmarks.oversell import _bench_manager

    actor = _bench_manager()
    nodes, skus = _seed(timezone.now().strftime("%Y%m%d%H%M%S"))
    before = StockLedgerEntry.objects.count()
    share = len(skus) // workers
    context = multiprocessing.get_context("fork")
    results, start = context.Queue(), context.Event()
    connections.close_all()  # each forked worker connects on its own
    processes = [
        context.Process(
            target=_worker,
            args=(
                skus[n * share : (n + 1) * share],
                nodes,
                actor,
                target // workers,
                results,
                start,
            ),
        )
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    began = time.perf_counter()
    start.set()
    counts = [results.get() for _ in processes]
    elapsed = time.perf_counter() - began
    for process in processes:
        process.join()
    written = StockLedgerEntry.objects.count() - before
    analyze(StockBalance, StockLedgerEntry)
    verify_began = time.perf_counter()
    differences = find_balance_differences()
    verify_elapsed = time.perf_counter() - verify_began
    rounds = sum(index for _, index in counts)
    out.write(f"database: {database_label()}")
    out.write(f"workers: {workers} processes, each with its own connection and its own SKUs")
    out.write(
        f"service calls: {rounds * 14} ({rounds} rounds of 5 receipts, 2 status changes, "
        "a 5-line transfer and its receipt)"
    )
    out.write(f"ledger entries written: {written} in {elapsed:.1f} s")
    out.write(
        f"verify_inventory: {len(differences)} differences over "
        f"{StockLedgerEntry.objects.count()} entries in {verify_elapsed:.1f} s"
    )
    if differences:
        out.write("FAILED: balances differ from the ledger")
    return round(written / elapsed), "moves/s"
