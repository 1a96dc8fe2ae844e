"""`bench ingest`: Shopify-format orders over HTTP into gunicorn, concurrency 8.

Each order is ingested, validated, routed and reserved (and released) in one request.
Then the batch form, then 200 single-unit orders racing for 50 units of one SKU.
"""

import copy
import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import httpx
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.authtoken.models import Token

from erp import roles
from erp.benchmarks import register_benchmark
from erp.benchmarks.support import analyze, database_label, gunicorn_server, percentile
from erp.models import Channel, ChannelListing, Location, Sku
from erp.roles import sync_role_groups
from inventory.models import AvailabilityDirty, Reservation, StockBalance, StockLedgerEntry
from inventory.services.movements import receive_stock
from orders.models import (
    Allocation,
    Order,
    OrderEvent,
    OrderLine,
    RoutingDecision,
    ShippingRate,
    ShippingZone,
)

ORDERS = 2000
WARM_UP = 1000
CONCURRENCY = 8
# A Shopify orders/create payload in the channel's real shape, carried with the benchmark.
SAMPLE = Path(__file__).resolve().parent / "payloads" / "shopify_order.json"


def _sample() -> dict:
    data = json.loads(SAMPLE.read_text())
    return data.get("order", data)


def _token() -> tuple[str, object]:
    sync_role_groups()
    user, _ = get_user_model().objects.get_or_create(username="bench-ingest")
    user.groups.add(*Group.objects.filter(name__in=[roles.INTEGRATION]))
    return Token.objects.get_or_create(user=user)[0].key, get_user_model().objects.get(pk=user.pk)


def _seed(stamp: str, sku_count: int, quantity: int, actor):
    node = Location.objects.create(
        code=f"IG-{stamp}", name="ingest bench node", region="bench-east"
    )
    channel = Channel.objects.create(
        code=f"IG-{stamp}", name="ingest bench shop", kind="shopify", currency="USD"
    )
    channel.eligible_locations.add(node)
    ShippingZone.objects.get_or_create(country="US", postal_prefix="", defaults={"zone": "bench"})
    ShippingRate.objects.get_or_create(
        origin_region="bench-east",
        zone="bench",
        defaults={"cost": Decimal("5.00"), "transit_days": 3},
    )
    skus = Sku.objects.bulk_create(
        [Sku(code=f"IG-{stamp}-{n}", name="bench") for n in range(sku_count)]
    )
    ChannelListing.objects.bulk_create(
        [ChannelListing(channel=channel, sku=s, channel_sku=s.code) for s in skus]
    )
    for sku in skus:
        receive_stock(sku=sku, location=node, quantity=quantity, actor=actor, reference="bench")
    analyze(Order, OrderLine, StockBalance, Reservation, ChannelListing, Sku, StockLedgerEntry)
    return channel, [s.code for s in skus]


def _order(template: dict, number: int, skus: list[str], lines: int, quantity: int = 1) -> dict:
    order = copy.deepcopy(template)
    order["id"] = 9_000_000_000 + number
    order["name"] = f"#B{number}"
    order["order_number"] = number
    order["financial_status"] = "paid"
    item = template["line_items"][0]
    order["line_items"] = []
    for index in range(lines):
        line = copy.deepcopy(item)
        line.update(
            id=10_000_000_000 + number * 100 + index,
            sku=skus[(number + index) % len(skus)],
            quantity=quantity,
        )
        order["line_items"].append(line)
    return order


def _post_all(url, token, code, bodies, concurrency):
    """POST every body at `concurrency`, each thread with its own plain HTTP connection
    (the standard library's client: the load generator shares the machine's two cores
    with the server and the database, so it should spend as little of them as it can)."""
    host, port = url.removeprefix("http://").split(":")
    path = f"/api/v1/channels/{code}/orders/"
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    latencies, queries, statuses, lock = [], [], {}, threading.Lock()
    local = threading.local()

    def send(body: bytes):
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = http.client.HTTPConnection(host, int(port), timeout=60)
        started = time.perf_counter()
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            latencies.append(elapsed)
            queries.append(int(response.getheader("X-Query-Count", 0)))
            statuses[response.status] = statuses.get(response.status, 0) + 1

    payloads = [json.dumps(body).encode() for body in bodies]
    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(send, payloads))
    wall = time.perf_counter() - began
    return latencies, queries, statuses, wall


@register_benchmark(
    "ingest", "Shopify orders over HTTP (gunicorn, 2 workers), concurrency 8, 3 lines each"
)
def run(out, orders: int = ORDERS, **options):
    token, actor = _token()
    template = _sample()
    stamp = timezone.now().strftime("%H%M%S%f")
    channel, skus = _seed(stamp, 300, 1_000_000, actor)
    race_channel, race_skus = _seed(stamp + "r", 1, 50, actor)
    env = {"ERP_QUERY_COUNT_HEADER": "1", "API_THROTTLE_RATE": "1000000/min"}
    out.write(f"database: {database_label()}")
    with gunicorn_server(workers=2, extra_env=env) as url:
        base = int(stamp) * 10
        # Warm-up: a running system's order tables are not empty, and with autovacuum off
        # here the planner would otherwise plan for empty tables (sequential scans for the
        # foreign-key checks of every insert). 1,000 orders in, then ANALYZE.
        _post_all(
            url,
            token,
            channel.code,
            [_order(template, base + 200_000 + n, skus, 3) for n in range(WARM_UP)],
            CONCURRENCY,
        )
        analyze(
            Order,
            OrderLine,
            OrderEvent,
            Allocation,
            RoutingDecision,
            Reservation,
            StockBalance,
            AvailabilityDirty,
        )
        bodies = [_order(template, base + 1000 + n, skus, 3) for n in range(orders)]
        latencies, queries, statuses, wall = _post_all(
            url, token, channel.code, bodies, CONCURRENCY
        )
        out.write(f"orders: {orders} × 3 lines at concurrency {CONCURRENCY}; responses {statuses}")
        out.write(
            f"latency p50 {percentile(latencies, 0.5):.1f} ms, p95 {percentile(latencies, 0.95):.1f} ms"
        )
        by_lines = {}
        for lines in (1, 3, 10):
            sample = [
                _order(template, base + 900_000 + lines * 100 + n, skus, lines) for n in range(5)
            ]
            by_lines[lines] = min(_post_all(url, token, channel.code, sample, 1)[1])
        out.write(
            f"sql queries per order: median {sorted(queries)[len(queries) // 2]}, max {max(queries)} "
            "(the max includes the once-a-second availability publication; "
            "fewest by lines per order: " + ", ".join(f"{k}→{v}" for k, v in by_lines.items()) + ")"
        )
        batch = {"orders": [_order(template, base + 500_000 + n, skus, 3) for n in range(500)]}
        started = time.perf_counter()
        response = httpx.post(
            f"{url}/api/v1/channels/{channel.code}/orders/",
            json=batch,
            timeout=600,
            headers={"Authorization": f"Token {token}"},
        )
        batch_wall = time.perf_counter() - started
        outcomes = [r["outcome"] for r in response.json()["results"]]
        out.write(
            f"batch form: 500 orders in one request: {batch_wall:.1f} s ({500 / batch_wall:.0f} orders/s), "
            f"{outcomes.count('created')} created"
        )
        race = [_order(template, base + 700_000 + n, race_skus, 1) for n in range(200)]
        _post_all(url, token, race_channel.code, race, CONCURRENCY)
    released = Order.objects.filter(channel=race_channel, state="released").count()
    backordered = Order.objects.filter(channel=race_channel, state="backordered").count()
    reserved = StockBalance.objects.get(sku__code=race_skus[0], status="sellable").reserved
    out.write(
        f"oversell under ingestion: 200 orders for 50 units → {reserved} reserved, {released} released, "
        f"{backordered} backordered ({'OK' if reserved == 50 and backordered == 150 else 'WRONG'})"
    )
    return round(orders / wall), "orders/s"
