"""`bench ship`: 2,000 released orders across 2 nodes, from wave to truck, through the services.

Seeds two warehouses (each stocks its own 100 SKUs, slotted), a carrier with a rate card,
boxes, a channel with tracking and notification endpoints, and 2,000 orders of 1–3 lines
routed and released as ingestion does. Then, timed: build waves at each node; 4 pickers
(4 processes) confirm every pick by scan (whole pick lists each); 4 packers pack each
order in the suggested box and create its label (rate quote), and load the labelled
parcels a cage of 25 at a time (`confirm_shipments`: one manifest confirmation per cage).
Outbox deliveries and availability publications are queued for a worker (as in
production), not run inline. Finally the ledger is verified against the balances
(verify_inventory)."""

import multiprocessing
import time
from collections import defaultdict
from contextlib import contextmanager
from datetime import time as clock
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, connections, transaction
from django.utils import timezone

from erp import roles
from erp.benchmarks import register_benchmark
from erp.benchmarks.support import analyze, database_label
from erp.celery import app as celery_app
from erp.models import Channel, Endpoint, Location, OutboxMessage, Sku
from erp.roles import sync_role_groups, system_actor
from fulfillment.models import (
    Box,
    Carrier,
    CarrierService,
    ChannelFulfillmentPolicy,
    Package,
    PackageLine,
    PickConfirmation,
    PickList,
    PickTask,
    RateCard,
    Shipment,
    ShipmentLine,
    Slot,
    Wave,
    slot_sort_key,
)
from fulfillment.services import labels
from fulfillment.services.packing import pack_order, suggest_box
from fulfillment.services.picking import confirm_pick
from fulfillment.services.shipping import confirm_shipments
from fulfillment.services.waves import build_waves
from inventory.models import LotBalance, Reservation, StockBalance, StockLedgerEntry
from inventory.services.movements import receive_stock
from inventory.services.verification import find_balance_differences
from orders.models import Allocation, Order, OrderLine, ShippingZone
from orders.services.evaluation import evaluate_order
from orders.services.routing import destination_zone

ORDERS = 2000
WORKERS = 4  # pickers, then packers, working at once (processes, one connection each)
SKUS_PER_NODE = 100
CAGE = 25  # labelled parcels a packer loads on the truck per manifest confirmation
STOCK_PER_SKU = 1_000_000


@contextmanager
def _counting_queries():
    counter = {"queries": 0}

    def count(execute, sql, params, many, context):
        counter["queries"] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield counter


@contextmanager
def _deliveries_queued_for_a_worker():
    """Outbox deliveries and availability publications go to the broker after commit, as
    in production; without a broker they would run inline, inside the measurement."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = eager


def _picker():
    sync_role_groups()
    user, _ = get_user_model().objects.get_or_create(username="bench-ship")
    user.groups.add(*Group.objects.filter(name=roles.WAREHOUSE))
    return get_user_model().objects.get(pk=user.pk)


def _seed_nodes_and_stock(stamp: str, seeder):
    nodes = [
        Location.objects.create(
            code=f"SH{n}-{stamp}", name=f"ship bench node {n}", region=f"bench-{n}", priority=n
        )
        for n in range(2)
    ]
    skus_by_node = {}
    for index, node in enumerate(nodes):
        skus = Sku.objects.bulk_create(
            [
                Sku(
                    code=f"SH{index}-{stamp}-{n:03d}",
                    name="ship bench item",
                    barcode=f"9{stamp[-6:]}{index}{n:03d}",
                    weight_grams=150 + n % 7 * 50,
                    length_mm=120 + n % 5 * 20,
                    width_mm=80 + n % 3 * 10,
                    height_mm=40 + n % 4 * 10,
                )
                for n in range(SKUS_PER_NODE)
            ]
        )
        for sku in skus:
            receive_stock(
                sku=sku, location=node, quantity=STOCK_PER_SKU, actor=seeder, reference="bench"
            )
        Slot.objects.bulk_create(
            [
                Slot(sku=sku, location=node, code=code, sort_key=slot_sort_key(code))
                for sku, code in (
                    (sku, f"{'ABCDEFGH'[n % 8]}-{n // 8 + 1:02d}-{n % 3 + 1}")
                    for n, sku in enumerate(skus)
                )
            ]
        )
        skus_by_node[node.pk] = skus
    return nodes, skus_by_node


def _seed_channel(stamp: str, nodes):
    channel = Channel.objects.create(
        code=f"SH-{stamp}", name="ship bench shop", kind="b2b", currency="USD"
    )
    channel.eligible_locations.add(*nodes)
    endpoints = [
        Endpoint.objects.create(
            code=f"sh-{purpose}-{stamp}", name=f"bench {purpose}", url="http://127.0.0.1:9/"
        )
        for purpose in ("tracking", "mail")
    ]
    ChannelFulfillmentPolicy.objects.create(
        channel=channel, tracking_endpoint=endpoints[0], notification_endpoint=endpoints[1]
    )
    return channel


def _seed_carrier(stamp: str, nodes, zone: str):
    carrier = Carrier.objects.create(
        code=f"SH-{stamp}",
        name="Bench Parcels",
        tracking_url_template="https://track.example.com/{tracking}",
    )
    service = CarrierService.objects.create(
        carrier=carrier,
        code="GROUND",
        name="Bench Ground",
        service_level="standard",
        cutoff_time=clock(23, 59),
    )
    RateCard.objects.bulk_create(
        [
            RateCard(
                service=service,
                origin_region=node.region,
                zone=zone,
                min_weight_grams=0,
                max_weight_grams=30000,
                price=Decimal("6.50"),
                transit_days=2,
            )
            for node in nodes
        ]
    )
    for code, dims in [
        ("SH-S", (250, 200, 100)),
        ("SH-M", (400, 300, 200)),
        ("SH-L", (600, 400, 400)),
    ]:
        Box.objects.get_or_create(
            code=code,
            defaults={
                "name": f"bench {code}",
                "length_mm": dims[0],
                "width_mm": dims[1],
                "height_mm": dims[2],
                "max_weight_grams": 25000,
            },
        )


def _seed_orders(stamp: str, channel, nodes, skus_by_node, count: int, seeder):
    now = timezone.now()
    orders = Order.objects.bulk_create(
        [
            Order(
                channel=channel,
                external_id=f"SH-{stamp}-{n:05d}",
                order_number=f"SH{n:05d}",
                placed_at=now,
                ship_by=now + timedelta(days=2),
                currency="USD",
                payment_status="captured",
                customer_email=f"buyer{n}@example.com",
                ship_name="Bench Buyer",
                ship_line1="1 Main St",
                ship_city="Springfield",
                ship_region="IL",
                ship_postal_code="62701",
                ship_country="US",
                raw_payload={},
                payload_hash="bench",
            )
            for n in range(count)
        ]
    )
    lines = []
    for n, order in enumerate(orders):
        skus = skus_by_node[nodes[n % 2].pk]
        for index in range(n % 3 + 1):
            sku = skus[(n * 7 + index * 13) % len(skus)]
            lines.append(
                OrderLine(
                    order=order,
                    line_number=index + 1,
                    external_line_id=f"{n}-{index}",
                    channel_sku=sku.code,
                    sku=sku,
                    title="bench item",
                    quantity=1 + (n + index) % 2,
                    unit_price=Decimal("19.90"),
                )
            )
    OrderLine.objects.bulk_create(lines)
    for order in orders:
        with transaction.atomic():
            evaluate_order(order=order, actor=seeder, new=True)
    return orders


def _analyze():
    analyze(
        Order,
        OrderLine,
        Allocation,
        Reservation,
        StockBalance,
        LotBalance,
        StockLedgerEntry,
        Sku,
        Slot,
        Wave,
        PickList,
        PickTask,
        PickConfirmation,
        Package,
        PackageLine,
        Shipment,
        ShipmentLine,
        OutboxMessage,
    )


class _Phase:
    def __init__(self, name: str):
        self.name, self.operations, self.seconds, self.queries = name, 0, 0.0, 0

    def line(self) -> str:
        per = self.seconds / self.operations * 1000 if self.operations else 0
        queries = self.queries / self.operations if self.operations else 0
        return (
            f"{self.name:<10} {self.operations:>6} × {per:6.2f} ms = {self.seconds:6.1f} s, "
            f"{queries:5.1f} queries each"
        )


@contextmanager
def _measure(phase: _Phase):
    with _counting_queries() as counter:
        started = time.perf_counter()
        yield
        phase.seconds += time.perf_counter() - started
    phase.queries += counter["queries"]


def _in_parallel(chunks, work) -> list:
    """Run `work(chunk)` for each chunk in its own process, as production's web workers
    and scanners would, each with its own database connection; returns the results in
    chunk order."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    connections.close_all()  # each forked worker connects on its own

    def run(index, chunk):
        try:
            results.put((index, work(chunk), None))
        except BaseException as error:  # report, do not hang the parent
            results.put((index, None, f"{type(error).__name__}: {error}"))
        finally:
            connections.close_all()

    processes = [
        context.Process(target=run, args=(index, chunk)) for index, chunk in enumerate(chunks)
    ]
    for process in processes:
        process.start()
    collected = sorted((results.get() for _ in processes), key=lambda item: item[0])
    for process in processes:
        process.join()
    failures = [error for _, _, error in collected if error]
    if failures:
        raise RuntimeError(f"a worker failed: {failures[0]}")
    return [result for _, result, _ in collected]


def _pick_lists(picker):
    """One picker's share of the pick lists: every task scanned and confirmed."""

    def work(tasks):
        phase = _Phase("picks")
        for task in tasks:
            with _measure(phase):
                confirm_pick(
                    task_id=task.pk,
                    slot_code=task.slot_code,
                    barcode=task.sku.barcode,
                    quantity=task.quantity,
                    actor=picker,
                )
            phase.operations += 1
        return phase

    return work


def _pack_label_ship(picker):
    """One packer's share of the orders: box suggested, packed, labelled; the labelled
    parcels go on the truck a cage at a time (one manifest confirmation per cage)."""

    def work(orders):
        pack, label, ship = _Phase("pack"), _Phase("label"), _Phase("ship")
        cage = []

        def load_truck():
            with _measure(ship):
                confirm_shipments(shipment_ids=cage, actor=picker)
            ship.operations += len(cage)
            cage.clear()

        for node_id, order_id, units in orders:
            with _measure(pack):
                suggestion = suggest_box((sku, quantity) for _, sku, quantity in units)
                package = pack_order(
                    order_id=order_id,
                    location_id=node_id,
                    lines={line_id: quantity for line_id, _, quantity in units},
                    box_code=suggestion.box.code,
                    weight_grams=suggestion.items_weight_grams + suggestion.box.tare_grams,
                    actor=picker,
                )
            pack.operations += 1
            with _measure(label):
                shipment = labels.create_label(package_id=package.pk, actor=picker)
            label.operations += 1
            cage.append(shipment.pk)
            if len(cage) == CAGE:
                load_truck()
        if cage:
            load_truck()
        return pack, label, ship

    return work


def _merged(name: str, phases) -> _Phase:
    merged = _Phase(name)
    for phase in phases:
        merged.operations += phase.operations
        merged.seconds += phase.seconds
        merged.queries += phase.queries
    return merged


def _deal(items, hands: int) -> list[list]:
    return [chunk for chunk in (items[n::hands] for n in range(hands)) if chunk]


@register_benchmark(
    "ship", "2,000 released orders over 2 nodes: waves, scanned picks, pack, label, ship"
)
def run(out, orders: int = ORDERS, **options):
    seeder, picker = system_actor(), _picker()
    stamp = timezone.now().strftime("%H%M%S%f")
    out.write(f"database: {database_label()}")
    nodes, skus_by_node = _seed_nodes_and_stock(stamp, seeder)
    channel = _seed_channel(stamp, nodes)
    ShippingZone.objects.get_or_create(country="US", postal_prefix="", defaults={"zone": "bench"})
    sample = Order(ship_country="US", ship_postal_code="62701")
    _seed_carrier(
        stamp, nodes, destination_zone(sample, list(ShippingZone.objects.filter(country="US")))
    )
    seeded = time.perf_counter()
    created = _seed_orders(stamp, channel, nodes, skus_by_node, orders, seeder)
    released = Order.objects.filter(pk__in=[o.pk for o in created], state="released").count()
    out.write(
        f"seeded {released} released orders of {orders} over 2 nodes in "
        f"{time.perf_counter() - seeded:.0f} s; ANALYZE"
    )
    _analyze()
    waves = _Phase("waves")
    with _deliveries_queued_for_a_worker():
        began = time.perf_counter()
        for node in nodes:
            with _measure(waves):
                build_waves(location=node, actor=picker)
            waves.operations += 1
        tasks = list(
            PickTask.objects.filter(location__in=nodes)
            .select_related("sku")
            .order_by("pick_list_id", "sequence")
        )
        by_list = defaultdict(list)
        for task in tasks:
            by_list[task.pick_list_id].append(task)
        picked_at = time.perf_counter()
        picks = _merged(
            "picks",
            _in_parallel(
                [sum(hand, []) for hand in _deal(list(by_list.values()), WORKERS)],
                _pick_lists(picker),
            ),
        )
        packing_at = time.perf_counter()
        units = defaultdict(list)
        for task in tasks:
            units[(task.location_id, task.order_id)].append((task.line_id, task.sku, task.quantity))
        parcels = [(node_id, order_id, lines) for (node_id, order_id), lines in units.items()]
        shares = _in_parallel(_deal(parcels, WORKERS), _pack_label_ship(picker))
        ended = time.perf_counter()
    phases = [waves, picks] + [
        _merged(name, [share[index] for share in shares])
        for index, name in enumerate(("pack", "label", "ship"))
    ]
    for phase in phases:
        out.write(phase.line())
    wall = ended - began
    shipped = Order.objects.filter(pk__in=[o.pk for o in created], state="shipped").count()
    messages = OutboxMessage.objects.filter(endpoint__code__endswith=stamp).count()
    out.write(
        f"{WORKERS} pickers, then {WORKERS} packers in parallel: waves {picked_at - began:.1f} s, "
        f"picking {packing_at - picked_at:.1f} s, packing to shipping {ended - packing_at:.1f} s"
    )
    out.write(
        f"{shipped} orders shipped, {len(tasks)} lines picked, {messages} outbox messages, "
        f"{wall:.1f} s wall clock"
    )
    differences = find_balance_differences()
    out.write(f"verify_inventory: {len(differences)} differences")
    for difference in differences[:20]:
        out.write(f"  {difference}")
    return round(shipped / wall, 1), "orders/s"
