"""Demo history for the KPI dashboards: six weeks of orders on every active channel, each
with the timestamps the services would have left (received, released, shipped, cancelled),
their lines, allocations and parcels, then one full refresh of the facts. Written set-based
(a few bulk inserts) so `seed_demo` stays fast; idempotent by the KPI-DEMO- prefix.

The orders end shipped or cancelled (a few recent ones wait on stock), so no queue or
router acts on them later; a share of the shipped ones came back and were inspected (their
units went to quarantine or back on the shelf in the demo story, not through the ledger:
the returns demo of the returns app shows the real flow), each closed and refunded. A unit
is written off every few days (through the adjustment service) and each supplier's purchase
orders arrive over the weeks, so the money and supplier KPIs have history too; the margin
by channel reads the postings finance's demo made."""

import random
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from erp import roles
from erp.errors import DomainError, ValidationFailed
from erp.models import Channel, ChannelListing, Location, Sku
from erp.services import approvals
from fulfillment.models import Carrier, Shipment
from fulfillment.services.labels import tracking_number_for
from insight.models import KpiThreshold
from insight.services.facts import refresh_facts
from insight.stock_demo import seed_stock_history
from inventory.models import CycleCount, InventoryAdjustment, StockBalance
from inventory.services.adjustments import WRITE_OFF_KIND, request_adjustment
from inventory.services.counts import close_count, create_count, record_count
from orders.models import Allocation, Order, OrderEvent, OrderLine
from purchasing.models import PurchaseOrder, PurchaseOrderLine, Supplier
from returns.models import (
    Inspection,
    ReceivedItem,
    Refund,
    ReturnReason,
    ReturnReceipt,
    Rma,
    RmaLine,
)

PREFIX = "KPI-DEMO-"
DAYS = 42
TRACKING_BASE = 800_000
THRESHOLDS = [
    ("on_time_shipment_rate", "95", "below"),
    ("valid_tracking_rate", "98", "below"),
    ("cancellation_rate", "3", "above"),
    ("release_time", "4", "above"),
]


def seed_insight(users) -> str:
    if Order.objects.filter(external_id__startswith=PREFIX).exists():
        return "already seeded"
    manager = users[roles.MANAGER]
    with transaction.atomic():
        orders = _seed_orders(manager)
        for key, value, direction in THRESHOLDS:
            if not KpiThreshold.objects.filter(key=key).exists():
                threshold = KpiThreshold(key=key, value=value, direction=direction)
                threshold._history_user, threshold._change_reason = manager, "Demo targets"
                threshold.save()
    counts = _counts(users.get(roles.WAREHOUSE), random.Random(17))
    write_offs = _write_offs(users.get(roles.WAREHOUSE) or manager, random.Random(18))
    purchase_orders = _purchase_orders(manager, random.Random(19))
    stocked = seed_stock_history(manager, random.Random(20), DAYS)
    refreshed = refresh_facts(full=True)
    return (
        f"{orders} orders over {DAYS} days of KPI history, {counts} cycle counts, "
        f"{write_offs} write-offs, {purchase_orders} received purchase orders, "
        f"stock history of {stocked} SKU × node pairs; facts for {refreshed.days} days"
    )


WRITE_OFF_EVERY = 3  # days
WRITE_OFF_REASONS = ["damage", "damage", "shrink", "expired"]


def _write_offs(actor, rng) -> int:
    """A unit written off every few days at the stocked nodes, through the adjustment
    service (valued as it values them) on SKUs cheap enough to post at once; the posting day
    is moved back into the weeks shown."""
    # SKUs a one-unit write-off of posts at once (a dearer one would wait for approval).
    threshold = approvals.policy_for(WRITE_OFF_KIND).threshold
    stocked = list(
        StockBalance.objects.filter(
            status="sellable",
            on_hand__gt=3,
            sku__unit_cost__lte=threshold,
            sku__lot_tracked=False,
            sku__serial_tracked=False,
            location__active=True,
        )
        .select_related("sku", "location")
        .order_by("location_id", "sku_id")
    )
    if not stocked:
        return 0
    now, made = timezone.now(), 0
    for day in range(DAYS - 1, 0, -WRITE_OFF_EVERY):
        balance = rng.choice(stocked)
        try:
            adjustment = request_adjustment(
                sku=balance.sku,
                location=balance.location,
                quantity=-1,
                reason_code=rng.choice(WRITE_OFF_REASONS),
                actor=actor,
                note=f"{PREFIX}write-off",
            )
        except DomainError:
            continue
        if adjustment.state == InventoryAdjustment.State.POSTED:
            when = now - timedelta(days=day, hours=rng.uniform(0, 8))
            InventoryAdjustment.objects.filter(pk=adjustment.pk).update(
                created_at=when, posted_at=when
            )
            made += 1
    return made


PO_EVERY = 2  # days


def _purchase_orders(actor, rng) -> int:
    """Standard purchase orders received over the weeks from each active supplier, some
    late, some short (closed short): the supplier on-time and fill rates. Written as the
    receiving services leave them (the purchasing demo shows the real flow)."""
    suppliers = list(
        Supplier.objects.filter(active=True, dropship_location__isnull=True).order_by("code")
    )
    nodes = list(Location.objects.filter(active=True, kind=Location.Kind.WAREHOUSE))
    skus = list(Sku.objects.filter(active=True).order_by("code")[:40])
    if not (suppliers and nodes and skus):
        return 0
    now, plans = timezone.now(), []
    for number, day in enumerate(range(DAYS - 1, 0, -PO_EVERY), 1):
        supplier = suppliers[number % len(suppliers)]
        received = now - timedelta(days=day, hours=rng.uniform(0, 8))
        late = rng.random() < 0.2 + 0.15 * (number % len(suppliers))
        expected = timezone.localdate(received) + timedelta(
            days=-rng.randint(1, 4) if late else rng.randint(0, 3)
        )
        short = rng.random() < 0.25
        plans.append(
            (
                PurchaseOrder(
                    number=f"{PREFIX}PO-{number:03d}",
                    supplier=supplier,
                    destination=rng.choice(nodes),
                    currency=supplier.currency,
                    state="closed" if short else "received",
                    expected_date=expected,
                    requested_by=actor,
                    note="Demo purchase order",
                    state_changed_at=received,
                    sent_at=received - timedelta(days=10),
                    received_at=None if short else received,
                    closed_at=received if short else None,
                ),
                [
                    (sku, quantity, quantity - rng.randint(1, quantity) if short else quantity)
                    for sku, quantity in (
                        (rng.choice(skus), rng.choice([12, 24, 48]))
                        for _ in range(rng.randint(1, 3))
                    )
                ],
                expected,
            )
        )
    purchase_orders = PurchaseOrder.objects.bulk_create([plan[0] for plan in plans])
    PurchaseOrderLine.objects.bulk_create(
        [
            PurchaseOrderLine(
                purchase_order=purchase_order,
                line_number=line_number,
                sku=sku,
                quantity_ordered=ordered,
                quantity_received=received,
                unit_cost=sku.unit_cost,
                expected_date=expected,
            )
            for purchase_order, (_, lines, expected) in zip(purchase_orders, plans, strict=True)
            for line_number, (sku, ordered, received) in enumerate(lines, 1)
        ]
    )
    return len(purchase_orders)


COUNTS = 8
COUNT_LINES = 10


def _counts(counter, rng) -> int:
    """A cycle count every few days at the stocked nodes, through the count services (open,
    count each line, close: variances become adjustments, some waiting for approval); only
    the closing date is moved back into the weeks shown."""
    if counter is None:
        return 0
    stocked = (
        StockBalance.objects.filter(status="sellable", on_hand__gt=0, sku__lot_tracked=False)
        .values_list("location_id", "sku_id")
        .order_by("location_id", "sku_id")
    )
    by_node: dict[int, list[int]] = {}
    for location_id, sku_id in stocked:
        by_node.setdefault(location_id, []).append(sku_id)
    nodes = [node for node in Location.objects.filter(pk__in=list(by_node)) if node.active]
    if not nodes:
        return 0
    now = timezone.now()
    for number in range(COUNTS):
        node = nodes[number % len(nodes)]
        skus = rng.sample(by_node[node.pk], min(COUNT_LINES, len(by_node[node.pk])))
        count = create_count(location=node, scope="skus", sku_ids=skus, tolerance=1, actor=counter)
        for line in count.lines.select_related("sku"):
            miss = rng.choice([0, 0, 0, 0, 0, 1, -1, -2, 3])
            record_count(
                count_id=count.pk,
                sku_code_or_barcode=line.sku.code,
                counted=max(line.expected + miss, 0),
                actor=counter,
            )
        close_count(count_id=count.pk, actor=counter)
        closed = now - timedelta(days=DAYS - 2 - number * (DAYS // COUNTS), hours=3)
        CycleCount.objects.filter(pk=count.pk).update(created_at=closed, closed_at=closed)
    return COUNTS


def _usable_carriers() -> list[Carrier]:
    usable = []
    for carrier in Carrier.objects.filter(active=True).order_by("code"):
        try:
            tracking_number_for(carrier, TRACKING_BASE)
        except ValidationFailed:
            continue
        usable.append(carrier)
    return usable


def _seed_orders(manager) -> int:
    rng = random.Random(16)
    now = timezone.now()
    carriers = _usable_carriers()
    listings: dict[int, list] = {}
    for listing in ChannelListing.objects.filter(active=True).select_related("sku"):
        listings.setdefault(listing.channel_id, []).append(listing)
    channels = [
        (channel, list(channel.eligible_locations.filter(can_ship=True)))
        for channel in Channel.objects.filter(active=True, pk__in=list(listings))
    ]
    plans, number = [], 0
    for day in range(DAYS, 0, -1):
        for index, (channel, nodes) in enumerate(channels):
            if not nodes:
                continue
            for _ in range(rng.randint(3, 7)):
                number += 1
                placed = now - timedelta(days=day, hours=rng.uniform(0, 20))
                plans.append(_plan(rng, number, channel, index, nodes, listings, placed, now))
    _write(plans, carriers, manager)
    return len(plans)


def _plan(rng, number, channel, index, nodes, listings, placed, now) -> dict:
    roll = rng.random()
    release = timedelta(hours=rng.uniform(0.1, 2.5 + index * 1.5))
    ship = timedelta(hours=rng.uniform(3, 30 + index * 8))
    plan = {
        "order": Order(
            channel=channel,
            external_id=f"{PREFIX}{number:05d}",
            order_number=f"{PREFIX}{number:05d}",
            placed_at=placed,
            ship_by=placed + timedelta(hours=channel.ship_by_sla_hours),
            currency=channel.currency,
            payment_status="captured",
            raw_payload={},
            payload_hash="demo",
            ship_name="Demo Buyer",
            ship_country="US",
        ),
        "node": rng.choice(nodes),
        "lines": [
            (rng.choice(listings[channel.pk]), rng.randint(1, 3)) for _ in range(rng.randint(1, 3))
        ],
        "short": roll < 0.08,
        "valid_tracking": rng.random() > 0.03,
    }
    order = plan["order"]
    if roll > 0.96:
        order.state, order.cancelled_at = "cancelled", placed + timedelta(hours=1)
        plan["outcome"] = "cancelled"
    elif placed > now - timedelta(hours=30) and (plan["short"] or roll > 0.8):
        # A few of the last day's orders still wait on stock (the backorder figures).
        order.state, order.released_at = "backordered", placed + release
        plan["outcome"] = "waiting"
    else:
        ship = min(ship, now - timedelta(hours=1) - placed - release)
        order.state, order.released_at = "shipped", placed + release
        order.shipped_at = placed + release + ship
        plan["outcome"] = "shipped"
    order.state_changed_at = order.shipped_at or order.cancelled_at or order.released_at or placed
    return plan


def _write(plans: list[dict], carriers: list[Carrier], manager) -> None:
    orders = Order.objects.bulk_create([plan["order"] for plan in plans], batch_size=1000)
    # received_at is stamped on insert; the demo's orders arrived a minute after they were placed.
    Order.objects.filter(external_id__startswith=PREFIX).update(
        received_at=F("placed_at") + timedelta(minutes=1)
    )
    lines, events = [], []
    for plan, order in zip(plans, orders, strict=True):
        for number, (listing, quantity) in enumerate(plan["lines"], 1):
            outcome = plan["outcome"]
            lines.append(
                OrderLine(
                    order=order,
                    line_number=number,
                    external_line_id=f"{order.external_id}-{number}",
                    channel_sku=listing.channel_sku,
                    sku=listing.sku,
                    quantity=quantity,
                    quantity_shipped=quantity if outcome == "shipped" else 0,
                    quantity_cancelled=quantity if outcome == "cancelled" else 0,
                    unit_price=20,
                    state={"shipped": "shipped", "cancelled": "cancelled"}.get(
                        outcome, "backordered"
                    ),
                )
            )
        if plan["short"]:
            events.append(OrderEvent(order=order, kind="state", to_state="backordered"))
    lines = OrderLine.objects.bulk_create(lines, batch_size=2000)
    node_of = {plan["order"].pk: plan["node"] for plan in plans}
    Allocation.objects.bulk_create(
        [
            Allocation(
                line=line, location=node_of[line.order_id], sku=line.sku, quantity=line.quantity
            )
            for line in lines
            if line.state == "shipped"
        ],
        batch_size=2000,
    )
    OrderEvent.objects.bulk_create(events, batch_size=2000)
    shipments = []
    for sequence, plan in enumerate(plans):
        if plan["outcome"] != "shipped" or not carriers:
            continue
        carrier = carriers[sequence % len(carriers)]
        number = tracking_number_for(carrier, TRACKING_BASE + sequence)
        shipments.append(
            Shipment(
                order=plan["order"],
                location=plan["node"],
                carrier=carrier,
                tracking_number=number if plan["valid_tracking"] else f"X{number}",
                state=Shipment.State.SHIPPED,
                created_by=manager,
                shipped_by=manager,
                shipped_at=plan["order"].shipped_at,
            )
        )
    Shipment.objects.bulk_create(shipments, batch_size=1000)
    _returns([plan for plan in plans if plan["outcome"] == "shipped"], lines, manager)


def _returns(shipped: list[dict], lines: list[OrderLine], actor) -> None:
    """Every 12th shipped order sends its first line back a few days later, inspected:
    mostly restocked, some disposed (the return and recoverable figures)."""
    reasons = list(ReturnReason.objects.filter(active=True).order_by("code"))
    if not reasons:
        return
    first_line = {}
    for line in lines:
        first_line.setdefault(line.order_id, line)
    picked = [plan for index, plan in enumerate(shipped) if index % 12 == 5]
    rmas, rma_lines, receipts, items, inspections = [], [], [], [], []
    now = timezone.now()
    for index, plan in enumerate(picked):
        order = plan["order"]
        when = order.shipped_at + timedelta(days=3 + index % 5)
        # Closed (refunded) from a few hours to three days after the parcel arrived: the
        # return cycle time.
        closed = min(when + timedelta(hours=4 + (index % 5) * 17), now)
        rmas.append(
            Rma(
                number=f"{PREFIX}{order.pk}",
                channel=order.channel,
                order=order,
                state="closed",
                expected_by=when,
                created_by=actor,
                authorized_at=when - timedelta(days=2),
                first_received_at=when,
                received_at=when,
                inspected_at=when,
                closed_at=closed,
                state_changed_at=closed,
            )
        )
    rmas = Rma.objects.bulk_create(rmas)
    for index, (plan, rma) in enumerate(zip(picked, rmas, strict=True)):
        line = first_line[plan["order"].pk]
        rma_lines.append(
            RmaLine(
                rma=rma,
                order_line=line,
                sku=line.sku,
                quantity=line.quantity,
                quantity_received=line.quantity,
                reason=reasons[index % len(reasons)],
            )
        )
        receipts.append(
            ReturnReceipt(
                rma=rma, location=plan["node"], received_by=actor, received_at=rma.received_at
            )
        )
    rma_lines = RmaLine.objects.bulk_create(rma_lines)
    receipts = ReturnReceipt.objects.bulk_create(receipts)
    for rma, rma_line, receipt in zip(rmas, rma_lines, receipts, strict=True):
        items.append(
            ReceivedItem(
                receipt=receipt,
                rma=rma,
                rma_line=rma_line,
                sku=rma_line.sku,
                location=receipt.location,
                quantity=rma_line.quantity,
                received_at=rma.received_at,
            )
        )
    items = ReceivedItem.objects.bulk_create(items)
    for index, item in enumerate(items):
        damaged = index % 4 == 0
        inspections.append(
            Inspection(
                rma=item.rma,
                received_item=item,
                quantity=item.quantity,
                grade="damaged" if damaged else "like_new",
                disposition="quarantine" if damaged else "restock",
                inspected_by=actor,
                inspected_at=item.received_at,
            )
        )
    Inspection.objects.bulk_create(inspections)
    Refund.objects.bulk_create(
        [
            _refund(rma, rma_line, actor)
            for rma, rma_line in zip(rmas, rma_lines, strict=True)
            if rma.closed_at <= now
        ]
    )


def _refund(rma: Rma, rma_line: RmaLine, actor) -> Refund:
    """The refund that closed the RMA, posted when it closed (the refund total)."""
    amount = rma_line.order_line.unit_price * rma_line.quantity
    return Refund(
        number=f"{PREFIX}R{rma.pk}",
        rma=rma,
        order=rma.order,
        channel=rma.channel,
        state="posted",
        currency=rma.order.currency,
        items_amount=amount,
        computed_amount=amount,
        amount=amount,
        note="Demo refund",
        requested_by=actor,
        requested_at=rma.closed_at - timedelta(hours=1),
        posted_at=rma.closed_at,
    )
