"""`bench oversell`: orders race for the last units on the path production uses — the
channel's native order posted over HTTP to gunicorn worker processes, ingestion, routing,
`reserve_many` under the row lock — while a second channel ring-fences part of the stock."""

import time

from django.db.models import Sum
from django.utils import timezone

from erp.benchmarks import register_benchmark
from erp.benchmarks.support import analyze, database_label, gunicorn_server
from erp.models import Channel
from inventory.models import AllocationRule, Reservation, StockBalance
from inventory.selectors import compute_availability
from orders.benchmarks.ingest import _order, _post_all, _sample, _seed, _token
from orders.models import Order

ON_HAND = 50
PROTECTED = 15
ORDERS = 300
CONCURRENCY = 16
WORKERS = 4


@register_benchmark(
    "oversell",
    "300 one-unit orders over HTTP (4 gunicorn workers, concurrency 16) for 50 units, "
    "15 of them ring-fenced for another channel",
)
def run(out, **options):
    token, actor = _token()
    stamp = timezone.now().strftime("%H%M%S%f")
    channel, skus = _seed(stamp + "o", 1, ON_HAND, actor)
    sku_code = skus[0]
    fence = Channel.objects.create(
        code=f"OSB-{stamp}", name="ring-fenced B2B", kind="b2b", currency="USD"
    )
    fence.eligible_locations.set(channel.eligible_locations.all())
    AllocationRule.objects.create(
        channel=fence, sku=channel.listings.get().sku, protected=PROTECTED
    )
    analyze(AllocationRule, Reservation, StockBalance)
    template = _sample()
    base = int(stamp) * 10
    bodies = [_order(template, base + n, skus, 1) for n in range(ORDERS)]
    env = {"API_THROTTLE_RATE": "1000000/min", "CHANNEL_CONFIG_CACHE_SECONDS": "0"}
    with gunicorn_server(workers=WORKERS, extra_env=env) as url:
        began = time.perf_counter()
        _, _, statuses, wall = _post_all(url, token, channel.code, bodies, CONCURRENCY)
        elapsed = time.perf_counter() - began
    sku = channel.listings.get().sku
    balance = StockBalance.objects.get(sku=sku, status="sellable")
    reserved_for_channel = (
        Reservation.objects.filter(channel=channel, sku=sku, state="active").aggregate(
            total=Sum("quantity")
        )["total"]
        or 0
    )
    allowed = ON_HAND - PROTECTED
    released = Order.objects.filter(channel=channel, state="released").count()
    backordered = Order.objects.filter(channel=channel, state="backordered").count()
    left_for_fence = compute_availability(channel=fence, sku_ids=[sku.pk])[sku.pk].reservable
    oversold = max(0, reserved_for_channel - allowed, balance.reserved - balance.on_hand)
    out.write(f"database: {database_label()}")
    out.write(
        f"orders: {ORDERS} × 1 unit of {sku_code} at concurrency {CONCURRENCY} over {WORKERS} "
        f"gunicorn worker processes; responses {statuses}; {elapsed:.1f} s"
    )
    out.write(
        f"on hand {balance.on_hand}, ring-fenced for {fence.code}: {PROTECTED}; "
        f"{channel.code} may reserve {allowed}"
    )
    out.write(
        f"reserved for {channel.code}: {reserved_for_channel}; reserved in total: "
        f"{balance.reserved}; released orders {released}, backordered {backordered}"
    )
    out.write(f"{fence.code} may still reserve: {left_for_fence} (expected {PROTECTED})")
    out.write(f"throughput: {ORDERS / wall:.0f} orders/s")
    if left_for_fence != PROTECTED or released != allowed:
        out.write("WRONG: the ring-fence or the released count is not what the rules allow")
    return oversold, "units"
