"""`bench post`: post 20,000 shipments and 2,000 refunds through the event path (the
domain event each service publishes, its posting rule, `post_entry`, the database's
balance trigger at commit), one transaction per event as in production; then verify the
books (`verify_ledger`)."""

import random
import time
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from erp import events
from erp.benchmarks import register_benchmark
from erp.benchmarks.support import analyze, database_label
from erp.models import Channel, Location, Sku
from finance.models import JournalEntry, JournalLine
from finance.services.chart import ensure_chart_of_accounts
from finance.services.verification import ledger_differences
from fulfillment.models import Carrier, Shipment, ShipmentLine
from fulfillment.services.shipping.messages import SHIPMENT_CONFIRMED
from inventory.models import StockBalance, StockLedgerEntry
from inventory.services.ledger import Movement, post_movements
from inventory.services.movements import receive_stock
from orders.models import LineState, Order, OrderLine, OrderState
from returns.services.refunds import REFUND_POSTED

SHIPMENTS = 20_000
REFUNDS = 2_000
SKUS = 200


def _seed(stamp: str, shipments: int, actor):
    """SKUs with stock, three channels, and `shipments` shipped orders of one or two lines
    (written in bulk: what is measured is the posting, not the warehouse)."""
    node = Location.objects.create(code=f"PB-{stamp}", name="post bench", region="bench")
    channels = [
        Channel.objects.create(
            code=f"PB{n}-{stamp}"[:32], name=f"post bench {n}", kind=kind, fee_rate=Decimal(rate)
        )
        for n, (kind, rate) in enumerate(
            [("amazon", "0.15"), ("ebay", "0.1325"), ("shopify", "0.029")]
        )
    ]
    ensure_chart_of_accounts(channels)
    rng = random.Random(7)
    skus = Sku.objects.bulk_create(
        [
            Sku(
                code=f"PB-{stamp}-{n:04d}",
                name="post bench",
                unit_cost=Decimal(rng.randint(150, 4000)) / 100,
            )
            for n in range(SKUS)
        ]
    )
    per_sku = shipments * 3 // SKUS + 10
    for sku in skus:
        receive_stock(
            sku=sku, location=node, quantity=per_sku, actor=actor, reference=f"PB-{stamp}"
        )
    carrier, _ = Carrier.objects.get_or_create(code="PBX", defaults={"name": "bench carrier"})
    now = timezone.now()
    orders = Order.objects.bulk_create(
        [
            Order(
                channel=channels[n % 3],
                external_id=f"PB-{stamp}-{n}",
                order_number=f"PB-{n}",
                state=OrderState.SHIPPED,
                placed_at=now,
                currency=settings.BASE_CURRENCY,
                payment_status="captured",
                shipping_total=Decimal("4.99") if n % 2 else Decimal("0"),
                raw_payload={},
                payload_hash="bench",
                shipped_at=now,
            )
            for n in range(shipments)
        ],
        batch_size=2000,
    )
    lines = []
    for order in orders:
        for number in range(1 + (order.pk % 2)):
            sku = skus[rng.randrange(SKUS)]
            quantity = 1 + rng.randrange(2)
            lines.append(
                OrderLine(
                    order=order,
                    line_number=number + 1,
                    external_line_id=str(number + 1),
                    sku=sku,
                    quantity=quantity,
                    quantity_shipped=quantity,
                    unit_price=(sku.unit_cost * Decimal("2.5")).quantize(Decimal("0.01")),
                    tax=Decimal("0"),
                    state=LineState.SHIPPED,
                )
            )
    OrderLine.objects.bulk_create(lines, batch_size=2000)
    shipments_made = Shipment.objects.bulk_create(
        [
            Shipment(
                order=order,
                location=node,
                carrier=carrier,
                tracking_number=f"PB{stamp}{n:07d}",
                state=Shipment.State.SHIPPED,
                created_by=actor,
                shipped_by=actor,
                shipped_at=now,
                cost=Decimal("5.40"),
            )
            for n, order in enumerate(orders)
        ],
        batch_size=2000,
    )
    by_order = {shipment.order_id: shipment for shipment in shipments_made}
    ShipmentLine.objects.bulk_create(
        [
            ShipmentLine(
                shipment=by_order[line.order_id], line=line, sku=line.sku, quantity=line.quantity
            )
            for line in lines
        ],
        batch_size=2000,
    )
    # The units leave the shelves as the warehouse ships them (one movement per SKU here).
    leaving = {}
    for line in lines:
        leaving[line.sku_id] = leaving.get(line.sku_id, 0) + line.quantity
    for sku_id, quantity in leaving.items():
        post_movements(
            movements=[Movement(sku_id, node.pk, "sellable", -quantity)],
            kind="shipment",
            actor=actor,
            reference=f"PB-{stamp}",
        )
    analyze(Order, OrderLine, Shipment, ShipmentLine, StockBalance, StockLedgerEntry)
    analyze(JournalEntry, JournalLine)
    return node, orders, lines, shipments_made


def _shipment_payloads(orders, lines, shipments):
    lines_by_order = {}
    for line in lines:
        lines_by_order.setdefault(line.order_id, []).append(line)
    for order, shipment in zip(orders, shipments, strict=True):
        yield {
            "shipment_id": shipment.pk,
            "shipment": shipment.number,
            "source": "warehouse",
            "order_id": order.pk,
            "channel_id": order.channel_id,
            "location_id": shipment.location_id,
            "carrier": "PBX",
            "cost": str(shipment.cost),
            "currency": order.currency,
            "lines": [
                {
                    "line_id": line.pk,
                    "sku_id": line.sku_id,
                    "quantity": line.quantity,
                    "lot_id": None,
                    "unit_price": str(line.unit_price),
                    "dropship": False,
                }
                for line in lines_by_order[order.pk]
            ],
        }


def _refund_payloads(orders, lines, count: int, stamp: str):
    first_line = {}
    for line in lines:
        first_line.setdefault(line.order_id, line)
    for n, order in enumerate(orders[:count]):
        line = first_line[order.pk]
        amount = str(line.unit_price)
        yield {
            "refund_id": 10_000_000 + order.pk,
            "refund_number": f"PB-RF-{n:06d}",
            "rma_id": None,
            "rma_number": f"PB-RMA-{n:06d}",
            "order_id": order.pk,
            "channel": "",
            "currency": order.currency,
            "amount": amount,
            "items_amount": amount,
            "tax_amount": "0.00",
            "shipping_amount": "0.00",
            "restocking_fee": "0.00",
            "posted_at": timezone.now().isoformat(),
            "source": "channel",
        }


@register_benchmark(
    "post", "post 20,000 shipments and 2,000 refunds through the event path, then verify_ledger"
)
def run(out, shipments: int = SHIPMENTS, refunds: int = REFUNDS, **options):
    from inventory.benchmarks.oversell import _bench_manager

    actor = _bench_manager()
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    seed_began = time.perf_counter()
    _node, orders, lines, shipped = _seed(stamp, shipments, actor)
    seeded = time.perf_counter() - seed_began
    work = [(SHIPMENT_CONFIRMED, p) for p in _shipment_payloads(orders, lines, shipped)]
    work += [(REFUND_POSTED, p) for p in _refund_payloads(orders, lines, refunds, stamp)]
    before = JournalEntry.objects.count()
    began = time.perf_counter()
    for name, payload in work:
        # One transaction per event, as the confirming or refunding request has.
        with transaction.atomic():
            events.publish(events.DomainEvent(name, payload, actor_id=actor.pk))
    elapsed = time.perf_counter() - began
    posted = JournalEntry.objects.count() - before
    analyze(JournalEntry, JournalLine)
    verify_began = time.perf_counter()
    check = ledger_differences()
    verify_elapsed = time.perf_counter() - verify_began
    out.write(f"database: {database_label()}")
    out.write(f"seeded {shipments} shipped orders ({len(lines)} lines) in {seeded:.1f} s")
    out.write(
        f"events published: {len(work)} ({shipments} shipments, {refunds} refunds), "
        f"one transaction each, one process"
    )
    out.write(
        f"journal entries posted: {posted} with "
        f"{JournalLine.objects.filter(entry__id__gt=0).count()} lines in the journal, "
        f"{elapsed:.1f} s"
    )
    for line in check.lines():
        out.write(f"verify_ledger: {line}")
    out.write(f"verify_ledger took {verify_elapsed:.1f} s: {'ok' if check.clean else 'FAILED'}")
    return round(posted / elapsed), "entries/s"
