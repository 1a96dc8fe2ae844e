"""`bench kpis` at a small size: it seeds, builds the facts, times the dashboards' queries
and an incremental refresh, and the facts it leaves agree with the orders it seeded."""

import re

import pytest
from django.db.models import Sum

from erp.benchmarks import get_benchmark
from insight.models import LineDayFact, OrderDayFact, StockDayFact
from inventory.models import StockBalance, StockLedgerEntry
from orders.models import Order, OrderLine

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


class Lines:
    def __init__(self):
        self.lines = []

    def write(self, text):
        self.lines.append(text)


def test_the_kpi_benchmark_measures_the_dashboards_and_the_refresh(role_groups):
    out = Lines()

    value, unit = get_benchmark("kpis").run(out, orders=300)

    assert unit == "ms p95" and float(value) >= 0
    text = "\n".join(out.lines)
    assert "seeded 300 orders, 900 lines" in text
    assert re.search(r"dashboard KPI queries: \d+ timed, p50 [\d.]+ ms, p95 [\d.]+ ms", text)
    assert re.search(r"incremental refresh after 30 new and 30 changed orders: \d+ days", text)
    assert re.search(r"seeded [\d,]+ sellable ledger entries of 1,200 SKU × nodes", text)
    assert re.search(r"full build of the stock facts: 36\d days in [\d.]+ s", text)
    assert re.search(r"of which stock KPIs \(over the stock facts\): \d+ timed, p95", text)
    assert "incremental refresh of the stock facts after 30 shipments today: 1 day(s)" in text
    # The facts count every order and line the bench wrote (and the 30 it added).
    assert OrderDayFact.objects.aggregate(n=Sum("orders"))["n"] == Order.objects.count() == 330
    assert (
        LineDayFact.objects.aggregate(n=Sum("units"))["n"]
        == OrderLine.objects.aggregate(n=Sum("quantity"))["n"]
    )
    # The stock facts of today hold every sellable unit of the bench's balances, and every
    # unit its ledger shipped.
    today = StockDayFact.objects.order_by("-day").values_list("day", flat=True).first()
    assert (
        StockDayFact.objects.filter(day=today).aggregate(n=Sum("on_hand"))["n"]
        == StockBalance.objects.aggregate(n=Sum("on_hand"))["n"]
        > 0
    )
    assert (
        StockDayFact.objects.aggregate(n=Sum("shipped"))["n"]
        == -StockLedgerEntry.objects.filter(kind="shipment").aggregate(n=Sum("quantity"))["n"]
    )
