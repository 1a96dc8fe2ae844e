"""Ledger history for replenishment tests: stock received, then weekly shipments."""

from datetime import timedelta

from django.utils import timezone

from inventory.models import MovementKind, StockStatus
from inventory.services.ledger import Movement, post_movements
from purchasing.services import replenishment

NOW = timezone.now().replace(microsecond=0)


def stock(sku, node, quantity, actor, *, status=StockStatus.SELLABLE):
    post_movements(
        movements=[Movement(sku.pk, node.pk, status, quantity)],
        kind=MovementKind.RECEIPT,
        actor=actor,
        occurred_at=NOW - timedelta(days=60),
    )


def ship_weekly(sku, node, weekly: list[int], actor):
    """Ship `weekly[i]` units in week i of the last len(weekly) weeks (oldest first), each
    in the middle of its week; stock is received first so balances stay true."""
    stock(sku, node, sum(weekly), actor)
    weeks = len(weekly)
    for index, units in enumerate(weekly):
        if units:
            post_movements(
                movements=[Movement(sku.pk, node.pk, StockStatus.SELLABLE, -units)],
                kind=MovementKind.SHIPMENT,
                actor=actor,
                occurred_at=NOW - timedelta(days=7 * (weeks - index) - 3.5),
            )


def run(actor):
    return replenishment.run_replenishment(actor=actor, as_of=NOW)
