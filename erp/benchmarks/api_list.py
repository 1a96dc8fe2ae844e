"""`bench api-list`: page through 10,000 SKUs over HTTP, 100 per page."""

import time

import httpx
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from erp import roles
from erp.benchmarks import register_benchmark
from erp.benchmarks.support import analyze, database_label, gunicorn_server, percentile
from erp.models import Sku
from erp.roles import sync_role_groups

SKU_COUNT = 10_000


def _seed_skus(count: int) -> int:
    existing = set(Sku.objects.filter(code__startswith="BENCH-").values_list("code", flat=True))
    missing = [
        Sku(
            code=code,
            name=f"Benchmark item {n}",
            barcode=f"9{n:012d}",
            unit_cost="3.50",
            product_family="bench",
            weight_grams=250,
        )
        for n in range(count)
        if (code := f"BENCH-{n:06d}") not in existing
    ]
    Sku.objects.bulk_create(missing, batch_size=2000)
    analyze(Sku, Sku.substitutes.through)
    return Sku.objects.count()


def _bench_token() -> str:
    sync_role_groups()
    user, _ = get_user_model().objects.get_or_create(username="bench-integration")
    user.groups.add(
        *__import__("django.contrib.auth.models", fromlist=["Group"]).Group.objects.filter(
            name=roles.INTEGRATION
        )
    )
    return Token.objects.get_or_create(user=user)[0].key


def _walk(client: httpx.Client, url: str, page_size: int, max_pages: int | None = None):
    latencies, queries, next_url, pages = [], [], f"{url}/api/v1/skus/?page_size={page_size}", 0
    while next_url and (max_pages is None or pages < max_pages):
        started = time.perf_counter()
        response = client.get(next_url)
        latencies.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        queries.append(int(response.headers["X-Query-Count"]))
        next_url = response.json()["next"]
        pages += 1
    return latencies, queries


@register_benchmark("api-list", "GET /api/v1/skus/ over HTTP (gunicorn, 2 workers), 100 per page")
def run(out, *, rounds: int = 3, **options):
    total = _seed_skus(SKU_COUNT)
    token = _bench_token()
    out.write(f"database: {database_label()}")
    out.write(f"skus in table: {total}")
    env = {"ERP_QUERY_COUNT_HEADER": "1", "API_THROTTLE_RATE": "1000000/min"}
    with (
        gunicorn_server(workers=2, extra_env=env) as url,
        httpx.Client(headers={"Authorization": f"Token {token}"}, timeout=30) as client,
    ):
        _walk(client, url, 100, max_pages=10)  # warm connections and caches
        latencies, queries = [], []
        for _ in range(rounds):
            round_latencies, round_queries = _walk(client, url, 100)
            latencies += round_latencies
            queries += round_queries
        per_size = {size: max(_walk(client, url, size, max_pages=5)[1]) for size in (10, 100, 1000)}
    p50, p95 = percentile(latencies, 0.50), percentile(latencies, 0.95)
    out.write(f"requests: {len(latencies)} ({rounds} walks of every page, 100 per page)")
    out.write(f"latency p50: {p50:.1f} ms")
    out.write(f"latency p95: {p95:.1f} ms")
    out.write(f"sql queries per request: {max(queries)} (min {min(queries)})")
    out.write(
        "sql queries per request by page size: "
        + ", ".join(f"{size}→{count}" for size, count in per_size.items())
    )
    if len(set(per_size.values())) != 1:
        out.write("WARNING: queries per request grow with page size")
    return round(p95, 1), "ms p95"
