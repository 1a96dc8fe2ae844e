"""`bench oversell-reserve`: 64 workers race the reserve API's service (`reserve_stock`, one
row through `reserve_many`) for one SKU with 3 units protected elsewhere. `bench oversell`
(orders) races the production path: ingestion over HTTP."""

from django.contrib.auth import get_user_model
from django.utils import timezone

from erp import roles
from erp.benchmarks import register_benchmark
from erp.benchmarks.support import analyze, database_label
from erp.models import Channel, Location, Sku
from erp.roles import sync_role_groups
from inventory.concurrency import race_reservations
from inventory.models import AllocationRule, Reservation, StockBalance
from inventory.services.movements import receive_stock

WORKERS = 64
ATTEMPTS_PER_WORKER = 5


def _bench_manager():
    sync_role_groups()
    from django.contrib.auth.models import Group

    user, _ = get_user_model().objects.get_or_create(username="bench-manager")
    user.groups.add(Group.objects.get(name=roles.MANAGER))
    return get_user_model().objects.get(pk=user.pk)


@register_benchmark(
    "oversell-reserve", "64 concurrent workers reserve 1 unit of a 10-unit SKU (3 protected)"
)
def run(out, **options):
    actor = _bench_manager()
    stamp = timezone.now().strftime("%Y%m%d%H%M%S%f")
    node = Location.objects.create(code=f"OS-{stamp}", name="oversell node", region="bench")
    sku = Sku.objects.create(code=f"OS-{stamp}", name="oversell sku")
    first = Channel.objects.create(code=f"OS1-{stamp}", name="first", kind="shopify")
    second = Channel.objects.create(code=f"OS2-{stamp}", name="second", kind="amazon")
    first.eligible_locations.add(node)
    second.eligible_locations.add(node)
    AllocationRule.objects.create(channel=second, protected=3)
    receive_stock(sku=sku, location=node, quantity=10, actor=actor, reference="bench")
    analyze(StockBalance, Reservation, AllocationRule)

    result = race_reservations(
        sku=sku,
        location=node,
        channel=first,
        actor=actor,
        workers=WORKERS,
        attempts_per_worker=ATTEMPTS_PER_WORKER,
        allowed_for_channel=7,
    )
    out.write(f"database: {database_label()}")
    out.write(f"workers: {WORKERS} (separate connections), attempts each: {ATTEMPTS_PER_WORKER}")
    out.write(f"attempts: {result.attempts}")
    out.write(f"successes: {result.successes} (allowed: 7 = 10 on hand − 3 protected)")
    out.write(f"refusals: {result.refusals}, database errors: {result.errors}")
    out.write(
        f"reserved for the first channel: {result.reserved_for_channel}; reserved in total: "
        f"{result.reserved_total} of {result.on_hand} on hand"
    )
    out.write(
        f"elapsed: {result.elapsed:.2f} s ({result.attempts / result.elapsed:.0f} attempts/s)"
    )
    return result.oversold, "units"
