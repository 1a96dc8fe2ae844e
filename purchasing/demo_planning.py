"""Demo replenishment: four weeks of shipment history for some supplied SKUs at the two
warehouses (received first, so balances stay true), then one run, so the planner sees
proposals on first sign-in. Called at the end of `purchasing.demo.seed_purchasing`."""

from datetime import timedelta

from django.utils import timezone

from erp import roles
from erp.models import Location
from inventory.models import MovementKind, StockStatus
from inventory.services.ledger import Movement, post_movements
from purchasing.models import ReplenishmentRun, SupplierItem
from purchasing.services import replenishment

WEEK_SHAPE = (-2, 1, 3, -1)  # weekly variation around each SKU's rate (σ > 0)


def seed_replenishment(users) -> str:
    if ReplenishmentRun.objects.exists():
        return "already planned"
    buyer = users[roles.BUYER]
    nodes = list(Location.objects.filter(code__in=("WH-EAST", "WH-WEST")).order_by("code"))
    items = list(
        SupplierItem.objects.filter(preferred=True, active=True)
        .select_related("sku")
        .order_by("supplier__code", "sku__code")[:24]
    )
    now = timezone.now()
    for index, item in enumerate(items):
        for offset, node in enumerate(nodes):
            per_day = 1 + (index + offset) % 5
            weekly = [max(1, per_day * 7 + shape * (1 + index % 3)) for shape in WEEK_SHAPE]
            post_movements(
                movements=[Movement(item.sku_id, node.pk, StockStatus.SELLABLE, sum(weekly))],
                kind=MovementKind.RECEIPT,
                actor=buyer,
                reference="DEMO-HISTORY",
                occurred_at=now - timedelta(days=35),
            )
            for week, units in enumerate(weekly):
                post_movements(
                    movements=[Movement(item.sku_id, node.pk, StockStatus.SELLABLE, -units)],
                    kind=MovementKind.SHIPMENT,
                    actor=buyer,
                    reference="DEMO-HISTORY",
                    occurred_at=now - timedelta(days=7 * (4 - week) - 3, hours=index),
                )
    run = replenishment.run_replenishment(actor=buyer)
    return f"{run.lines_proposed} proposal lines from {run.pairs_evaluated} SKU × node rows"
