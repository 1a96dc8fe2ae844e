"""The constructed orders every insight test reads: five orders on two channels and two
nodes over two weeks, each with a known contribution to every KPI (tests/insight/test_kpis.py
spells the answers out)."""

from datetime import date

import pytest

from insight.kpis import Filters
from insight.services.facts import refresh_facts
from tests.factories.erp import ChannelFactory, LocationFactory, SkuFactory
from tests.factories.fulfillment import CarrierFactory
from tests.insight.builders import at, order, returned

WEEKS = Filters(date_from=date(2026, 11, 2), date_to=date(2026, 11, 15))
WEEKS_QUERY = "date_from=2026-11-02&date_to=2026-11-15"


@pytest.fixture
def world():
    amazon = ChannelFactory(code="AMZ", kind="amazon")
    shop = ChannelFactory(code="SHOP", kind="shopify")
    east, west = LocationFactory(code="WH1"), LocationFactory(code="WH2")
    shoe = SkuFactory(code="SHOE", product_family="shoes")
    hat = SkuFactory(code="HAT", product_family="hats")
    ups = CarrierFactory(code="UPS", tracking_pattern=r"^1Z\d{4}$")
    orders = {
        "on_time": order(
            amazon,
            east,
            placed=at(0),
            lines=[(shoe, 2, 2, 0, "shipped")],
            state="shipped",
            released_after=2,
            shipped_after=10,
            ship_by_after=24,
            tracking="1Z0001",
            carrier=ups,
        ),
        "late": order(
            amazon,
            east,
            placed=at(0, 1),
            lines=[(hat, 1, 1, 0, "shipped")],
            state="shipped",
            released_after=4,
            shipped_after=30,
            ship_by_after=24,
            tracking="BAD",
            carrier=ups,
        ),
        "cancelled": order(
            amazon, west, placed=at(0, 2), lines=[(shoe, 1, 0, 1, "cancelled")], cancelled=True
        ),
        "backordered": order(
            shop,
            west,
            placed=at(0, 3),
            lines=[(shoe, 4, 0, 0, "backordered")],
            state="backordered",
            released_after=6,
            short=True,
        ),
        "next_week": order(
            shop,
            east,
            placed=at(8),
            lines=[(hat, 2, 2, 0, "shipped")],
            state="shipped",
            released_after=1,
            shipped_after=5,
            tracking="1Z0005",
            carrier=ups,
        ),
    }
    returned(orders["on_time"], restocked=1, disposed=1, when=at(3))
    refresh_facts()
    return orders
