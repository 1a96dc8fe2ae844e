"""`bench kpis` at a small size: it seeds, builds the facts, times the dashboards' queries
and an incremental refresh, and the facts it leaves agree with the orders it seeded."""

import re

import pytest
from django.db.models import Sum

from erp.benchmarks import get_benchmark
from insight.models import LineDayFact, OrderDayFact
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
    # The facts count every order and line the bench wrote (and the 30 it added).
    assert OrderDayFact.objects.aggregate(n=Sum("orders"))["n"] == Order.objects.count() == 330
    assert (
        LineDayFact.objects.aggregate(n=Sum("units"))["n"]
        == OrderLine.objects.aggregate(n=Sum("quantity"))["n"]
    )
