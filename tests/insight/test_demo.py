"""The demo history: weeks of orders so every KPI has a figure on first sign-in."""

import pytest

from erp import roles
from insight.demo import seed_insight
from insight.kpis import Filters, all_kpis
from insight.models import KpiThreshold
from tests.factories.erp import ChannelFactory, ChannelListingFactory, LocationFactory, SkuFactory
from tests.factories.fulfillment import CarrierFactory, stocked_sku

pytestmark = pytest.mark.django_db


def test_the_demo_gives_every_kpi_a_figure_and_runs_once(manager, warehouse_user):
    node = LocationFactory(code="WH-DEMO")
    for _ in range(3):
        stocked_sku(node, 20, manager)
    for code in ("SHOPD", "AMZD"):
        channel = ChannelFactory(code=code)
        channel.eligible_locations.add(node)
        for family in ("mugs", "caps"):
            ChannelListingFactory(channel=channel, sku=SkuFactory(product_family=family))
    CarrierFactory(code="DEMOCAR", tracking_pattern=r"^D[0-9]{12}$")

    message = seed_insight({roles.MANAGER: manager, roles.WAREHOUSE: warehouse_user})

    assert "orders over 42 days" in message
    filters = Filters.default()
    for kpi in all_kpis():
        assert kpi.value(filters) is not None, kpi.key
        if "day" not in kpi.breakdowns:
            continue  # read as of now (stock aging, ATS accuracy): no series
        days = [row for row in kpi.rows(filters, "day") if row["value"] is not None]
        assert len(days) >= (4 if kpi.key == "inventory_accuracy" else 10), kpi.key
    assert KpiThreshold.objects.count() == 4
    assert seed_insight({roles.MANAGER: manager}) == "already seeded"
