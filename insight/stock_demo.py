"""Demo stock history for the stock KPIs (stockouts, lost sales, turns, aging, ATS accuracy):
weeks of receipts and shipments through the one ledger service, dated in the past.

Fast movers at each shipping node receive a delivery, sell a few units a day, run out, and
are replenished a few days later (stockouts, lost-sales exposure, turns); every fourth pair
is a slow mover holding units received three to five months ago (aged stock). SKUs that
have lines waiting on a backorder get no history: new stock would route them, and the
orders demos keep those waiting on purpose. Availability is then published as the beat
task would, and two SKUs receive units afterwards that no channel has been told of yet
(available-to-sell accuracy below 100 %). Deterministic (seeded), written in a few dozen
postings (one per day and kind)."""

from collections import defaultdict
from datetime import timedelta

from django.utils import timezone

from inventory.models import MovementKind, StockBalance, StockStatus
from inventory.services.availability import publish_availability
from inventory.services.ledger import Movement, post_movements
from orders.selectors import backordered_sku_ids

PAIRS = 60
REFERENCE = "KPI-DEMO-STOCK"


def seed_stock_history(actor, rng, days: int) -> int:
    """Post the history; returns the SKU × node pairs that got one."""
    if actor is None:
        return 0
    pairs = list(
        StockBalance.objects.filter(
            status=StockStatus.SELLABLE,
            location__active=True,
            location__can_ship=True,
            sku__lot_tracked=False,
            sku__serial_tracked=False,
        )
        .values_list("sku_id", "location_id")
        .order_by("sku_id", "location_id")[: PAIRS * 2]
    )
    waiting = backordered_sku_ids({sku_id for sku_id, _ in pairs})
    pairs = [pair for pair in pairs if pair[0] not in waiting][:PAIRS]
    postings: dict[tuple[int, str], list[Movement]] = defaultdict(list)
    for index, (sku_id, location_id) in enumerate(pairs):
        plan = _slow_mover if index % 4 == 0 else _fast_mover
        for days_ago, kind, quantity in plan(rng, days):
            postings[(days_ago, kind)].append(
                Movement(sku_id, location_id, StockStatus.SELLABLE, quantity)
            )
    now = timezone.now()
    # Oldest first; on a day, deliveries before the day's shipments.
    order = {MovementKind.RECEIPT: 0, MovementKind.SHIPMENT: 1}
    for days_ago, kind in sorted(postings, key=lambda key: (-key[0], order[key[1]])):
        post_movements(
            movements=postings[(days_ago, kind)],
            kind=kind,
            actor=actor,
            reference=REFERENCE,
            reason="demo history",
            occurred_at=now - timedelta(days=days_ago, hours=12 - 4 * order[kind]),
        )
    publish_availability()
    for sku_id, location_id in pairs[1:3]:
        post_movements(
            movements=[Movement(sku_id, location_id, StockStatus.SELLABLE, 2)],
            kind=MovementKind.RECEIPT,
            actor=actor,
            reference=REFERENCE,
            reason="demo delivery not yet published",
        )
    return len(pairs)


def _fast_mover(rng, days: int):
    """(days ago, kind, signed units): a delivery, daily sales, running out, replenishment."""
    stock, arriving = 0, {days + 2: rng.randint(10, 20)}
    for days_ago in range(days + 2, 0, -1):
        if days_ago in arriving:
            delivered = arriving.pop(days_ago)
            stock += delivered
            yield days_ago, MovementKind.RECEIPT, delivered
        sold = min(rng.randint(0, 3), stock)
        if sold:
            stock -= sold
            yield days_ago, MovementKind.SHIPMENT, -sold
        if not stock and not arriving and days_ago > 3:
            arriving[days_ago - rng.randint(2, 5)] = rng.randint(10, 20)


def _slow_mover(rng, days: int):
    """An old delivery, selling a unit now and then."""
    stock = rng.randint(18, 30)
    yield rng.randint(100, 150), MovementKind.RECEIPT, stock
    for days_ago in range(days, 0, -1):
        if rng.random() < 0.1 and stock > 1:
            stock -= 1
            yield days_ago, MovementKind.SHIPMENT, -1
