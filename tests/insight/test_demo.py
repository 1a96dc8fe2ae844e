"""The demo history: weeks of orders so every KPI has a figure on first sign-in."""

from decimal import Decimal

import pytest

from erp import roles
from insight.demo import seed_insight
from insight.kpis import Filters, all_kpis
from insight.models import KpiThreshold
from tests.factories.erp import ChannelFactory, ChannelListingFactory, LocationFactory, SkuFactory
from tests.factories.fulfillment import CarrierFactory, stocked_sku
from tests.factories.purchasing import SupplierFactory

pytestmark = pytest.mark.django_db

# Figures the demo has on fewer days: counts every few days, a write-off every third day.
FEWER_DAYS = {"inventory_accuracy": 4, "write_off_total": 7}
# Read off the journal: finance's demo postings (tests/insight/test_kpis_money.py seeds the
# whole demo and checks them).
FROM_FINANCE_DEMO = {"margin_by_channel"}


def test_the_demo_gives_every_kpi_a_figure_and_runs_once(manager, warehouse_user):
    node = LocationFactory(code="WH-DEMO")
    for cost in ("2.50", "4.00", "900.00"):  # a unit of the dearest needs approval
        stocked_sku(node, 20, manager, unit_cost=Decimal(cost))
    for code in ("SHOPD", "AMZD"):
        channel = ChannelFactory(code=code)
        channel.eligible_locations.add(node)
        for family in ("mugs", "caps"):
            ChannelListingFactory(channel=channel, sku=SkuFactory(product_family=family))
    CarrierFactory(code="DEMOCAR", tracking_pattern=r"^D[0-9]{12}$")
    for code in ("SUP-DEMO-A", "SUP-DEMO-B"):
        SupplierFactory(code=code)

    message = seed_insight({roles.MANAGER: manager, roles.WAREHOUSE: warehouse_user})

    assert "orders over 42 days" in message
    filters = Filters.default()
    for kpi in all_kpis():
        if kpi.key in FROM_FINANCE_DEMO:
            continue
        assert kpi.value(filters) is not None, kpi.key
        if "day" not in kpi.breakdowns:
            continue  # read as of now (stock aging, ATS accuracy): no series
        days = [row for row in kpi.rows(filters, "day") if row["value"] is not None]
        assert len(days) >= FEWER_DAYS.get(kpi.key, 10), kpi.key
    assert KpiThreshold.objects.count() == 4
    assert seed_insight({roles.MANAGER: manager}) == "already seeded"
