"""The stock KPIs on a constructed stock ledger with known answers: stockout frequency,
lost-sales exposure, inventory turns, aging, and available-to-sell accuracy.

The ledger, sellable units, period 2–11 November 2026 (ten days), end-of-day balances:

    SHOE @ WH1 (shoes)  +10 on 30 Oct; −4 on 3 Nov; −6 on 5 Nov; +8 on 9 Nov
                        10 6 6 0 0 0 0 8 8 8   → 4 days at zero of 10, 10 shipped, Σ 46
    SHOE @ WH2 (shoes)  +3 on 20 Oct, −3 on 25 Oct → 0 all period: 10 of 10 at zero
    HAT  @ WH2 (hats)   +5 on 6 Nov, −2 on 8 Nov → 5 5 3 3 3 3 from 6 Nov: 0 of 6, Σ 22
    BELT @ WH1 (belts)  +4 on 1 Jul, +2 on 10 Nov → 4 ×8 days, 6 ×2: 0 of 10, Σ 44

Units in quarantine and at a node that does not ship are left out, and so are OLD @ WH1
(at zero, unmoved since June: no longer carried) and GONE @ WH1 (an inactive SKU).
"""

import random
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from erp.models import ChannelListing
from insight.kpis import Filters, all_kpis, get_kpi
from insight.kpis.stock import age_buckets
from insight.services.stock_facts import refresh_stock_facts
from insight.stock_demo import seed_stock_history
from inventory.models import ChannelAvailability, MovementKind, StockStatus
from inventory.services.availability import refresh_channel_availability
from inventory.services.ledger import Movement, post_movements
from tests.factories.erp import ChannelFactory, ChannelListingFactory, LocationFactory, SkuFactory

pytestmark = pytest.mark.django_db

PERIOD = Filters(date_from=date(2026, 11, 2), date_to=date(2026, 11, 11))


def on(month, day):
    return datetime(2026, month, day, 9, 0, tzinfo=UTC)


def move(actor, sku, node, quantity, when, kind, status=StockStatus.SELLABLE):
    post_movements(
        movements=[Movement(sku.pk, node.pk, status, quantity)],
        kind=kind,
        actor=actor,
        occurred_at=when,
    )


@pytest.fixture
def ledger(manager):
    east, west = LocationFactory(code="WH1"), LocationFactory(code="WH2")
    returns_desk = LocationFactory(code="RET", can_ship=False)
    shoe = SkuFactory(code="SHOE", product_family="shoes")
    hat = SkuFactory(code="HAT", product_family="hats")
    belt = SkuFactory(code="BELT", product_family="belts")
    old = SkuFactory(code="OLD", product_family="shoes")
    gone = SkuFactory(code="GONE", product_family="shoes", active=False)
    receipt, shipment = MovementKind.RECEIPT, MovementKind.SHIPMENT
    for sku, node, quantity, when, kind in (
        (shoe, east, 10, on(10, 30), receipt),
        (shoe, east, -4, on(11, 3), shipment),
        (shoe, east, -6, on(11, 5), shipment),
        (shoe, east, 8, on(11, 9), receipt),
        (shoe, west, 3, on(10, 20), receipt),
        (shoe, west, -3, on(10, 25), shipment),
        (hat, west, 5, on(11, 6), receipt),
        (hat, west, -2, on(11, 8), shipment),
        (belt, east, 4, on(7, 1), receipt),
        (belt, east, 2, on(11, 10), receipt),
        (hat, returns_desk, 7, on(11, 4), receipt),  # a node that does not ship
        (old, east, 2, on(6, 1), receipt),  # at zero since June: no longer carried
        (old, east, -2, on(6, 5), shipment),
        (gone, east, 1, on(10, 1), receipt),  # a SKU no longer sold
        (gone, east, -1, on(10, 2), shipment),
    ):
        move(manager, sku, node, quantity, when, kind)
    move(manager, hat, east, 9, on(11, 2), receipt, status=StockStatus.QUARANTINE)
    refresh_stock_facts()
    return {"shoe": shoe, "hat": hat, "belt": belt, "east": east, "west": west}


def rows(key, filters=PERIOD, by=None):
    found = get_kpi(key).rows(filters, by)
    return found[0] if by is None else {row["key"]: row["value"] for row in found}


def test_stockout_frequency_counts_sku_node_days_at_zero(ledger):
    assert rows("stockout_rate") == {
        "key": "all",
        "numerator": 14,  # 4 (SHOE@WH1) + 10 (SHOE@WH2)
        "denominator": 36,  # 10 + 10 + 6 + 10
        "value": Decimal("38.9"),
    }
    assert rows("stockout_rate", by="node") == {"WH1": Decimal("20.0"), "WH2": Decimal("62.5")}
    assert rows("stockout_rate", by="family") == {
        "belts": Decimal("0.0"),
        "hats": Decimal("0.0"),
        "shoes": Decimal("70.0"),
    }
    daily = rows("stockout_rate", by="day")
    assert daily[date(2026, 11, 2)] == Decimal("33.3")  # SHOE@WH2 of three pairs held
    assert daily[date(2026, 11, 5)] == Decimal("66.7")  # both shoes, HAT not yet held
    assert daily[date(2026, 11, 6)] == Decimal("50.0")
    assert daily[date(2026, 11, 9)] == Decimal("25.0")
    assert len(daily) == 10
    weekly = get_kpi("stockout_rate").rows(PERIOD, "week")
    assert [(row["key"], row["numerator"], row["denominator"]) for row in weekly] == [
        (date(2026, 11, 2), 11, 24),  # 2–8 Nov: SHOE@WH1 4 + SHOE@WH2 7 of 7 + 7 + 3 + 7
        (date(2026, 11, 9), 3, 12),  # 9–11 Nov: SHOE@WH2 3 of 4 pairs × 3 days
    ]


def test_stockout_frequency_filters_by_node_and_family(ledger):
    assert rows("stockout_rate", PERIOD.on(node="WH1"))["value"] == Decimal("20.0")
    assert rows("stockout_rate", PERIOD.on(family="shoes"))["value"] == Decimal("70.0")
    assert rows("stockout_rate", PERIOD.on(family="hats"))["value"] == Decimal("0.0")
    # 2–4 Nov, read back from today's balances: HAT@WH2 was not held yet; SHOE@WH2 at zero.
    early = rows("stockout_rate", PERIOD.on(date_to=date(2026, 11, 4)))
    assert (early["numerator"], early["denominator"]) == (3, 9)


def test_lost_sales_exposure_is_in_stock_velocity_times_days_at_zero(ledger):
    # SHOE@WH1 ran out on 5 Nov: 10 shipped over the 28 days to then, on 7 days that began
    # or ended with stock (30 Oct – 5 Nov) → 10 ÷ 7 a day, over its 4 days at zero.
    # SHOE@WH2 ran out on 25 Oct: 3 shipped on 6 days with stock → 0.5 a day, × 10 days.
    assert rows("lost_sales_exposure") == {
        "key": "all",
        "numerator": Decimal("10.7"),
        "denominator": 14,
        "value": Decimal("10.7"),
    }
    assert rows("lost_sales_exposure", by="node") == {"WH1": Decimal("5.7"), "WH2": Decimal("5.0")}
    daily = rows("lost_sales_exposure", by="day")
    assert daily[date(2026, 11, 5)] == Decimal("1.9")  # 10 ÷ 7 + 0.5
    assert daily[date(2026, 11, 9)] == Decimal("0.5")  # SHOE@WH1 restocked


def test_inventory_turns_divide_units_shipped_by_average_on_hand(ledger):
    # 12 units shipped (4 + 6 + 2); Σ end-of-day on hand 46 + 0 + 22 + 44 = 112 over 10 days.
    assert rows("inventory_turns") == {
        "key": "all",
        "numerator": 12,
        "denominator": Decimal("11.20"),
        "value": Decimal("1.07"),
    }
    assert rows("inventory_turns", by="node") == {
        "WH1": Decimal("1.11"),  # 10 ÷ 9.0
        "WH2": Decimal("0.91"),  # 2 ÷ 2.2
    }
    daily = get_kpi("inventory_turns").rows(PERIOD, "day")
    nov3 = next(row for row in daily if row["key"] == date(2026, 11, 3))
    assert (nov3["numerator"], nov3["denominator"], nov3["value"]) == (
        4,
        Decimal("10.00"),  # SHOE@WH1 6 + BELT@WH1 4
        Decimal("0.40"),
    )


def test_aging_reads_first_in_first_out_arrivals_at_the_end_of_the_period(ledger):
    # On hand 11 Nov: SHOE@WH1 8 (arrived 9 Nov, 2 days), HAT@WH2 3 (6 Nov, 5 days),
    # BELT@WH1 2 (10 Nov, 1 day) + 4 (1 Jul, 133 days).
    assert rows("aged_stock_rate") == {
        "key": "all",
        "numerator": 4,
        "denominator": 17,
        "value": Decimal("23.5"),
    }
    assert rows("aged_stock_rate", by="node") == {"WH1": Decimal("28.6"), "WH2": Decimal("0.0")}
    assert rows("stock_age_days") == {
        "key": "all",
        "numerator": 565,  # 8×2 + 3×5 + 2×1 + 4×133
        "denominator": 17,
        "value": Decimal("33.2"),
    }
    assert rows("stock_age_days", by="family") == {
        "belts": Decimal("89.0"),  # (2 + 532) ÷ 6
        "hats": Decimal("5.0"),
        "shoes": Decimal("2.0"),
    }
    assert age_buckets(PERIOD) == [
        {"node": "WH1", "units": [10, 0, 4, 0]},
        {"node": "WH2", "units": [3, 0, 0, 0]},
    ]
    # Earlier, on 4 Nov, SHOE@WH1 held 6 of the 10 received 30 Oct (5 days old).
    early = Filters(date_from=date(2026, 11, 2), date_to=date(2026, 11, 4))
    assert rows("stock_age_days", early.on(family="shoes"))["value"] == Decimal("5.0")


def test_stock_figures_read_a_bounded_number_of_queries(ledger, manager):
    for number in range(6):
        sku = SkuFactory(product_family="shoes")
        move(manager, sku, ledger["east"], 3 + number, on(11, 2 + number), MovementKind.RECEIPT)
    refresh_stock_facts()
    for key in ("stockout_rate", "lost_sales_exposure", "inventory_turns"):
        with CaptureQueriesContext(connection) as queries:
            get_kpi(key).rows(PERIOD, "day")
        assert len(queries) == 1, key  # one GROUP BY over the stock facts
    for key in ("aged_stock_rate", "stock_age_days"):
        with CaptureQueriesContext(connection) as queries:
            get_kpi(key).rows(PERIOD, "node")
        assert len(queries) == 1, key


@pytest.fixture
def listings(manager):
    node = LocationFactory(code="WH1")
    amazon = ChannelFactory(code="AMZ", eligible_locations=[node])
    shop = ChannelFactory(code="SHOP", eligible_locations=[node])
    shoe = SkuFactory(code="SHOE", product_family="shoes")
    hat = SkuFactory(code="HAT", product_family="hats")
    belt = SkuFactory(code="BELT", product_family="belts")
    move(manager, shoe, node, 5, on(11, 1), MovementKind.RECEIPT)
    for channel in (amazon, shop):
        for sku in (shoe, hat):
            ChannelListingFactory(channel=channel, sku=sku)
        refresh_channel_availability(channel=channel)
    # Since the last publication: SHOE received again (its published 5 is stale on both
    # channels), and SHOP listed BELT (never published).
    move(manager, shoe, node, 2, on(11, 2), MovementKind.RECEIPT)
    ChannelListingFactory(channel=shop, sku=belt)
    return {"amazon": amazon, "shop": shop, "shoe": shoe}


def test_ats_accuracy_compares_what_was_published_with_the_figure_now(listings):
    assert (
        ChannelAvailability.objects.get(channel=listings["amazon"], sku=listings["shoe"]).available
        == 5
    )
    assert rows("ats_accuracy") == {
        "key": "all",
        "numerator": 2,  # HAT on both channels (0 published, 0 now)
        "denominator": 5,
        "value": Decimal("40.0"),
    }
    assert rows("ats_accuracy", by="channel") == {"AMZ": Decimal("50.0"), "SHOP": Decimal("33.3")}
    assert rows("ats_accuracy", by="family") == {
        "belts": Decimal("0.0"),
        "hats": Decimal("100.0"),
        "shoes": Decimal("0.0"),
    }
    assert rows("ats_accuracy", PERIOD.on(channel="AMZ"))["value"] == Decimal("50.0")
    # An inactive listing is not on sale: it does not count.
    ChannelListing.objects.filter(channel=listings["shop"], sku__code="BELT").update(active=False)
    assert rows("ats_accuracy", by="channel")["SHOP"] == Decimal("50.0")
    refresh_channel_availability(channel=listings["amazon"])
    assert rows("ats_accuracy", by="channel")["AMZ"] == Decimal("100.0")


def test_every_stock_kpi_drills_down_to_a_list(ledger):
    for key in ("stockout_rate", "lost_sales_exposure"):
        kpi = get_kpi(key)
        assert kpi.drill(PERIOD, node="WH1") == "/inventory/nodes/WH1/?out=1"
        assert kpi.drill(PERIOD.on(family="shoes")) == "/inventory/?out=1&family=shoes"
    assert get_kpi("inventory_turns").drill(PERIOD, node="WH2") == "/inventory/nodes/WH2/"
    assert get_kpi("aged_stock_rate").drill(PERIOD) == "/inventory/"
    ats = get_kpi("ats_accuracy")
    assert ats.drill(PERIOD, channel="AMZ") == "/inventory/availability/AMZ/?mismatch=1"
    assert ats.drill(PERIOD) == "/inventory/availability/"
    assert {kpi.key for kpi in all_kpis()} >= {
        "stockout_rate",
        "lost_sales_exposure",
        "inventory_turns",
        "aged_stock_rate",
        "stock_age_days",
        "ats_accuracy",
    }


def _codes(response) -> set[str]:
    content = response.content.decode()
    return {code for code in ("SHOE", "HAT", "BELT") if f">{code}</a>" in content}


def test_the_stock_pages_filter_what_the_drill_down_names(client, manager, ledger):
    client.force_login(manager)
    assert _codes(client.get("/inventory/nodes/WH2/?out=1")) == {"SHOE"}
    assert _codes(client.get("/inventory/nodes/WH2/")) == {"HAT"}
    assert _codes(client.get("/inventory/nodes/WH1/?family=belts")) == {"BELT"}
    assert _codes(client.get("/inventory/?out=1")) == {"SHOE"}
    assert _codes(client.get("/inventory/?out=1&family=hats")) == set()
    assert _codes(client.get("/inventory/?family=hats")) == {"HAT"}


def test_the_availability_page_lists_the_mismatches(client, manager, listings):
    client.force_login(manager)
    assert _codes(client.get("/inventory/availability/SHOP/?mismatch=1")) == {"SHOE", "BELT"}
    assert _codes(client.get("/inventory/availability/SHOP/")) == {"SHOE", "HAT", "BELT"}
    assert _codes(client.get("/inventory/availability/SHOP/?mismatch=1&family=belts")) == {"BELT"}


def test_the_kpi_page_of_a_figure_without_channels_breaks_down_by_node(client, manager, ledger):
    client.force_login(manager)
    query = "date_from=2026-11-02&date_to=2026-11-11"
    page = client.get(f"{reverse('insight:kpi', args=['aged_stock_rate'])}?{query}")
    assert page.status_code == 200
    content = page.content.decode()
    assert "28.6" in content  # WH1's bar and row
    assert "over 180 days" in content and "91–180 days" in content  # the age table
    csv = client.get(f"{reverse('insight:kpi-csv', args=['aged_stock_rate'])}?{query}&by=family")
    body = b"".join(csv.streaming_content) if csv.streaming else csv.content
    assert b"belts,4,6,66.7" in body


def test_the_demo_stock_history_gives_every_stock_figure_something_to_show(manager):
    node = LocationFactory(code="WH-DEMO")
    channel = ChannelFactory(code="SHOPD", eligible_locations=[node])
    for number in range(4):
        sku = SkuFactory(product_family="mugs" if number % 2 else "caps")
        move(manager, sku, node, 20, None, MovementKind.RECEIPT)
        ChannelListingFactory(channel=channel, sku=sku)

    assert seed_stock_history(manager, random.Random(18), 42) == 4
    refresh_stock_facts()

    filters = Filters.default()
    assert rows("stockout_rate", filters)["value"] > 0
    assert rows("lost_sales_exposure", filters)["value"] > 0
    assert rows("inventory_turns", filters)["value"] > 0
    assert rows("aged_stock_rate", filters)["value"] > 0  # the slow mover's old delivery
    assert rows("stock_age_days", filters)["value"] > 0
    assert rows("ats_accuracy", filters)["value"] == Decimal("50.0")  # 2 of 4 not yet sent
    days = [row for row in get_kpi("stockout_rate").rows(filters, "day") if row["value"]]
    assert len(days) >= 10


def test_the_api_answers_stock_figures_with_their_precision(api, ledger):
    url = reverse("insight-kpi", args=["inventory_turns"])
    body = api.get(f"{url}?date_from=2026-11-02&date_to=2026-11-11&by=node").json()
    assert body["value"] == "1.07"
    assert body["rows"][0] == {
        "key": "WH1",
        "numerator": "10",
        "denominator": "9.00",
        "value": "1.11",
    }


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_drill_down_pages_read_as_many_queries_for_many_rows_as_for_few(
    client, manager, listings
):
    client.force_login(manager)
    node, shop = listings["shoe"].balances.get().location, listings["shop"]
    urls = [
        f"/inventory/nodes/{node.code}/?out=1",
        "/inventory/?out=1",
        "/inventory/availability/SHOP/?mismatch=1",
    ]

    def sold_out_and_listed():
        sku = SkuFactory(product_family="hats")
        move(manager, sku, node, 1, on(11, 1), MovementKind.RECEIPT)
        move(manager, sku, node, -1, on(11, 2), MovementKind.SHIPMENT)
        ChannelListingFactory(channel=shop, sku=sku)  # never published: a mismatch

    sold_out_and_listed()
    for url in urls:
        client.get(url)  # the session and permissions, read once
    few = [_queries(client, url) for url in urls]
    for _ in range(5):
        sold_out_and_listed()
    assert [_queries(client, url) for url in urls] == few
    assert len(_codes(client.get("/inventory/availability/SHOP/?mismatch=1"))) == 2
