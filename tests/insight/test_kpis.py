"""Each KPI on constructed orders with a known answer, read off the facts a refresh built;
the refresh re-computes only the days whose orders changed."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from fulfillment.models import Shipment
from insight.kpis import Filters, get_kpi
from insight.kpis.thresholds import crossed, digest_lines
from insight.models import FactRefresh, LineDayFact, OrderDayFact
from insight.services.facts import refresh_facts
from insight.services.thresholds import set_threshold
from inventory.selectors import inventory_accuracy
from inventory.services.counts import close_count, create_count, record_count
from orders.models import Order, OrderEvent
from returns.selectors import return_figures
from tests.factories.fulfillment import stocked_sku

pytestmark = pytest.mark.django_db

WEEKS = Filters(date_from=date(2026, 11, 2), date_to=date(2026, 11, 15))


def value(key, filters=WEEKS, by=None):
    rows = get_kpi(key).rows(filters, by)
    return rows[0]["value"] if by is None else {row["key"]: row["value"] for row in rows}


def test_release_time_averages_received_to_released_hours(world):
    assert value("release_time") == Decimal("3.3")  # (2 + 4 + 6 + 1) ÷ 4
    weekly = value("release_time", by="week")
    assert weekly == {date(2026, 11, 2): Decimal("4.0"), date(2026, 11, 9): Decimal("1.0")}


def test_ship_cycle_time_averages_released_to_shipped_hours(world):
    assert value("ship_cycle_time") == Decimal("12.7")  # (8 + 26 + 4) ÷ 3


def test_on_time_rate_counts_shipped_orders_that_had_a_ship_by(world):
    assert value("on_time_shipment_rate") == Decimal("50.0")
    assert value("on_time_shipment_rate", by="channel") == {"AMZ": Decimal("50.0"), "SHOP": None}


def test_valid_tracking_rate_checks_the_carriers_pattern(world):
    assert value("valid_tracking_rate") == Decimal("66.7")
    assert value("valid_tracking_rate", by="channel") == {
        "AMZ": Decimal("50.0"),
        "SHOP": Decimal("100.0"),
    }


def test_cancellation_rate_by_channel_node_and_period(world):
    assert value("cancellation_rate") == Decimal("20.0")
    assert value("cancellation_rate", by="channel") == {
        "AMZ": Decimal("33.3"),
        "SHOP": Decimal("0.0"),
    }
    assert value("cancellation_rate", WEEKS.on(node="WH2")) == Decimal("50.0")
    assert value("cancellation_rate", WEEKS.on(date_to=date(2026, 11, 2))) == Decimal("25.0")


def test_oversell_rate_counts_orders_that_were_ever_short(world):
    assert value("oversell_rate") == Decimal("20.0")


def test_fill_rate_and_backorders_by_family(world):
    assert value("fill_rate") == Decimal("50.0")  # 5 of 10 units shipped
    assert value("fill_rate", by="family") == {"hats": Decimal("100.0"), "shoes": Decimal("28.6")}
    assert value("fill_rate", WEEKS.on(family="shoes")) == Decimal("28.6")
    assert value("backorder_rate") == Decimal("40.0")  # 4 open backordered units of 10


def test_a_breakdown_the_kpi_does_not_have_is_refused(world):
    with pytest.raises(ValueError):
        get_kpi("cancellation_rate").rows(WEEKS, "family")


def test_a_refresh_recomputes_only_the_days_whose_orders_changed(world):
    untouched = set(
        OrderDayFact.objects.filter(day=date(2026, 11, 10)).values_list("pk", flat=True)
    )
    backordered = world["backordered"]
    Order.objects.filter(pk=backordered.pk).update(state="cancelled", cancelled_at=timezone.now())
    OrderEvent.objects.create(order=backordered, kind="state", to_state="cancelled")
    OrderEvent.objects.create(order=world["late"], kind="note")  # the same placed day

    result = refresh_facts()

    assert result.days == 1
    assert FactRefresh.objects.get(name="facts").last_days == 1
    assert value("cancellation_rate") == Decimal("40.0")
    assert (
        set(OrderDayFact.objects.filter(day=date(2026, 11, 10)).values_list("pk", flat=True))
        == untouched
    )


def test_a_refresh_with_nothing_changed_since_the_watermark_touches_no_day(world):
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Order.objects.update(received_at=an_hour_ago)
    OrderEvent.objects.update(at=an_hour_ago)
    Shipment.objects.update(shipped_at=an_hour_ago)
    before = LineDayFact.objects.count()
    assert refresh_facts().days == 0
    assert LineDayFact.objects.count() == before


def test_return_and_recoverable_rates_agree_with_the_returns_figures(world):
    assert value("return_rate") == Decimal("40.0")  # 2 of 5 shipped units came back
    assert value("recoverable_rate") == Decimal("50.0")  # 1 of 2 inspected restocked
    assert value("return_rate", by="family") == {"hats": Decimal("0.0"), "shoes": Decimal("100.0")}
    zone = timezone.get_default_timezone()
    totals = return_figures(
        by="channel",
        since=datetime(2026, 11, 2, tzinfo=zone),
        until=datetime(2026, 11, 16, tzinfo=zone),
    )["totals"]
    assert totals["returned"] == 2 and totals["shipped"] == 5
    assert totals["restocked"] == 1 and totals["inspected"] == 2


def test_thresholds_crossed_over_the_week_ending_on_the_day(world, manager):
    set_threshold(
        key="cancellation_rate",
        value="10",
        direction="above",
        active=True,
        actor=manager,
        reason="Marketplace limit",
    )
    set_threshold(
        key="fill_rate",
        value="30",
        direction="below",
        active=True,
        actor=manager,
        reason="Service level",
    )
    crossed_rows = crossed(date(2026, 11, 8))
    assert crossed_rows == [
        {
            "key": "cancellation_rate",
            "name": "Cancellation rate",
            "value": Decimal("25.0"),
            "threshold": Decimal("10.00"),
            "direction": "above",
        }
    ]
    assert crossed(date(2026, 11, 15)) == []  # the next week had no cancellation
    assert digest_lines(manager, datetime(2026, 11, 8, 7, tzinfo=UTC)) == [
        "Cancellation rate: 25.0 % (above 10.00)"
    ]


def test_inventory_accuracy_counts_lines_within_the_counts_tolerance(world, manager):
    node = world["on_time"].lines.first().allocations.first().location
    skus = [stocked_sku(node, 10, manager) for _ in range(4)]
    count = create_count(
        location=node, scope="skus", sku_ids=[sku.pk for sku in skus], tolerance=1, actor=manager
    )
    for sku, miss in zip(skus, (0, 1, 2, -3), strict=True):
        record_count(
            count_id=count.pk, sku_code_or_barcode=sku.code, counted=10 + miss, actor=manager
        )
    close_count(count_id=count.pk, actor=manager)
    today = Filters.default()

    assert value("inventory_accuracy", today) == Decimal("50.0")
    assert inventory_accuracy(location=node) == 0.5
    assert value("inventory_accuracy", today, by="node") == {"WH1": Decimal("50.0")}
    assert value("inventory_accuracy", today.on(node="WH2")) is None
    assert value("inventory_accuracy", WEEKS) is None  # closed today, not in November
