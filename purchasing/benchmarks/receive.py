"""`bench receive`: 500 sent POs of 20 lines, every line received by scan through the services.

Seeds one dock node, 1,000 SKUs with a supplier's prices, a channel selling from the node,
and 200 one-line orders backordered on the first 200 SKUs (no stock anywhere). The POs are
seeded sent (rows written directly: the seeding is not what is measured). Then, timed:
4 dock workers, each on its own database connection, scan the POs' lines one by one —
`receive_goods` with the scanned barcode, as the scanner screen posts it: ledger receipt
through the inventory movement service, moving-average cost, `purchasing.goods_received`,
and the sellable-stock announcement whose backorder re-routing runs inline after each
commit (tasks eager), so the figure includes it. Finally the ledger is verified against the
balances and the backorders are counted.

The scenario seeds orders (to have backorders to re-route) through the orders app: only
this benchmark's setup does, never purchasing's code paths.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connections, transaction
from django.utils import timezone

from erp import roles
from erp.benchmarks import register_benchmark
from erp.benchmarks.support import analyze, database_label
from erp.celery import app as celery_app
from erp.models import Channel, Location, Sku
from erp.roles import sync_role_groups
from inventory.models import StockBalance, StockLedgerEntry
from inventory.services.verification import find_balance_differences
from purchasing.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderState,
    Receipt,
    ReceiptLine,
    Supplier,
    SupplierItem,
)
from purchasing.services.receiving import ScannedLine, receive_goods

POS, LINES_PER_PO, SKUS, BACKORDERS, WORKERS = 500, 20, 1000, 200, 4
UNITS = 6


def _user(stamp: str, role: str):
    sync_role_groups()
    user, _ = get_user_model().objects.get_or_create(username=f"bench-{role}-{stamp}")
    user.groups.add(*Group.objects.filter(name=role))
    return user


def _seed(stamp: str, buyer):
    node = Location.objects.create(code=f"RCV-{stamp}", name="receive bench dock", region="us-east")
    skus = Sku.objects.bulk_create(
        [
            Sku(
                code=f"RB-{stamp}-{n:05d}",
                name="receive bench",
                barcode=f"RB{stamp}{n:05d}",
                unit_cost=Decimal("5.00"),
                weight_grams=250,
            )
            for n in range(SKUS)
        ]
    )
    supplier = Supplier.objects.create(code=f"SUP-RB-{stamp}", name="Receive bench supplier")
    items = SupplierItem.objects.bulk_create(
        [
            SupplierItem(supplier=supplier, sku=sku, unit_cost=Decimal("3.10"), lead_time_days=5)
            for sku in skus
        ]
    )
    today = timezone.localdate()
    orders = PurchaseOrder.objects.bulk_create(
        [
            PurchaseOrder(
                number=f"PO-RB-{stamp}-{n:04d}",
                supplier=supplier,
                destination=node,
                currency="USD",
                state=PurchaseOrderState.SENT,
                requested_by=buyer,
                expected_date=today + timedelta(days=5),
                sent_at=timezone.now(),
            )
            for n in range(POS)
        ]
    )
    lines = []
    for index, order in enumerate(orders):
        for number in range(LINES_PER_PO):
            item = items[(index * LINES_PER_PO + number) % SKUS]
            lines.append(
                PurchaseOrderLine(
                    purchase_order=order,
                    line_number=number + 1,
                    sku_id=item.sku_id,
                    supplier_item=item,
                    quantity_ordered=UNITS,
                    unit_cost=item.unit_cost,
                    expected_date=today + timedelta(days=5),
                )
            )
    PurchaseOrderLine.objects.bulk_create(lines, batch_size=2000)
    return node, skus, orders


def _seed_backorders(stamp: str, node, skus, actor) -> list[int]:
    """200 one-line orders of the first SKUs, routed with no stock: backordered."""
    from orders.models import ChannelOrderPolicy, ShippingRate, ShippingZone
    from orders.services.evaluation import evaluate_order
    from tests.factories import OrderFactory, OrderLineFactory

    channel = Channel.objects.create(code=f"RB-{stamp}", name="receive bench shop", kind="shopify")
    channel.eligible_locations.add(node)
    ChannelOrderPolicy.objects.create(channel=channel)
    ShippingZone.objects.get_or_create(country="US", postal_prefix="6", defaults={"zone": "mid"})
    ShippingRate.objects.get_or_create(
        origin_region="us-east", zone="mid", defaults={"cost": Decimal("6.00"), "transit_days": 3}
    )
    ids = []
    for n in range(BACKORDERS):
        order = OrderFactory(channel=channel, external_id=f"RB-{stamp}-{n}")
        OrderLineFactory(order=order, sku=skus[n], quantity=2, line_number=1)
        with transaction.atomic():
            evaluate_order(order=order, actor=actor)
        ids.append(order.pk)
    return ids


def _scans(orders) -> list[list[ScannedLine]]:
    """Per PO, one scan per line: the SKU's barcode and the units on the pallet."""
    lines = PurchaseOrderLine.objects.filter(purchase_order__in=orders).select_related("sku")
    by_order: dict[int, list[ScannedLine]] = {}
    for line in lines.order_by("purchase_order_id", "line_number"):
        by_order.setdefault(line.purchase_order_id, []).append(
            ScannedLine(quantity=UNITS, scanned_code=line.sku.barcode)
        )
    return [by_order[order.pk] for order in orders]


def _worker(orders, scans, actor) -> int:
    received = 0
    try:
        for order, order_scans in zip(orders, scans, strict=True):
            for scan in order_scans:
                receive_goods(purchase_order=order, lines=[scan], actor=actor)
                received += 1
    finally:
        connections.close_all()
    return received


@register_benchmark(
    "receive",
    "500 POs × 20 lines received by scan through the services (ledger, cost, backorder re-routing)",
)
def run(out, **options):
    from orders.models import Order

    stamp = timezone.now().strftime("%H%M%S")
    buyer, dock = _user(stamp, roles.MANAGER), _user(stamp, roles.WAREHOUSE)
    out.write(f"database: {database_label()}")
    node, skus, orders = _seed(stamp, buyer)
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True  # backorder re-routing runs inline, measured
    try:
        backorders = _seed_backorders(stamp, node, skus, buyer)
        waiting = Order.objects.filter(pk__in=backorders, state="backordered").count()
        out.write(
            f"seeded: {POS} POs × {LINES_PER_PO} lines, {SKUS} SKUs, {waiting} backordered orders"
        )
        analyze(
            PurchaseOrder,
            PurchaseOrderLine,
            SupplierItem,
            Sku,
            StockBalance,
            StockLedgerEntry,
            Order,
        )
        scans = _scans(orders)
        shares = [(orders[n::WORKERS], scans[n::WORKERS]) for n in range(WORKERS)]
        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            received = sum(pool.map(lambda share: _worker(*share, dock), shares))
        elapsed = time.perf_counter() - began
    finally:
        celery_app.conf.task_always_eager = eager
    rerouted = Order.objects.filter(pk__in=backorders).exclude(state="backordered").count()
    receipts = Receipt.objects.filter(purchase_order__in=orders).count()
    units = sum(
        ReceiptLine.objects.filter(receipt__purchase_order__in=orders).values_list(
            "quantity", flat=True
        )
    )
    complete = PurchaseOrder.objects.filter(
        pk__in=[o.pk for o in orders], state=PurchaseOrderState.RECEIVED
    ).count()
    out.write(
        f"received: {received} lines ({units} units) in {receipts} receipts over {elapsed:.1f} s "
        f"by {WORKERS} workers; {complete} POs fully received; backorders re-routed: "
        f"{rerouted} of {waiting}"
    )
    differences = find_balance_differences()
    out.write(
        "ledger check: "
        + ("balances equal the ledger" if not differences else f"FAILED {differences[:3]}")
    )
    return round(received / elapsed, 1), "lines/s"
