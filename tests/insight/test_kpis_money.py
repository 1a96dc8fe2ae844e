"""The money and supplier KPIs (insight.kpis.money) on constructed records with a known
answer, and each one's drill-down to the records behind it."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from erp import roles
from finance.services.chart import accounts_for
from finance.services.posting import credit, debit, post_entry
from insight.kpis import Filters, get_kpi
from insight.services.facts import refresh_facts
from inventory.models import InventoryAdjustment
from inventory.services.adjustments import request_adjustment
from purchasing.models import PurchaseOrder, PurchaseOrderLine
from returns.models import Refund, Rma
from tests.factories.erp import ChannelFactory, LocationFactory, SkuFactory, UserFactory
from tests.factories.fulfillment import stocked_sku
from tests.factories.purchasing import SupplierFactory
from tests.insight.builders import at, order

pytestmark = pytest.mark.django_db

WEEKS = Filters(date_from=date(2026, 11, 2), date_to=date(2026, 11, 15))


def rows(key, filters=WEEKS, by=None):
    return get_kpi(key).rows(filters, by)


def value(key, filters=WEEKS, by=None):
    found = rows(key, filters, by)
    return found[0]["value"] if by is None else {row["key"]: row["value"] for row in found}


def listed(client, user, url) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def _user(name="kpi-money"):
    return User.objects.get_or_create(username=name)[0]


def rma(record, number, *, state="closed", authorized, closed=None):
    return Rma.objects.create(
        number=number,
        channel=record.channel,
        order=record,
        state=state,
        expected_by=authorized + timedelta(days=7),
        created_by=_user(),
        authorized_at=authorized,
        closed_at=closed,
        cancelled_at=authorized + timedelta(hours=1) if state == "cancelled" else None,
        state_changed_at=closed or authorized,
    )


@pytest.fixture
def channels():
    return ChannelFactory(code="AMZ", kind="amazon"), ChannelFactory(code="SHOP", kind="shopify")


@pytest.fixture
def nodes():
    return LocationFactory(code="WH1"), LocationFactory(code="WH2")


# --- return cycle time ----------------------------------------------------------------------


@pytest.fixture
def returns_world(channels, nodes):
    amazon, shop = channels
    east, west = nodes
    shoe = SkuFactory(code="SHOE", product_family="shoes")

    def shipped(channel, node, placed):
        return order(
            channel, node, placed=placed, lines=[(shoe, 1, 1, 0, "shipped")], state="shipped"
        )

    first, second = shipped(amazon, east, at(0)), shipped(amazon, east, at(1))
    third, waiting = shipped(shop, west, at(8)), shipped(shop, west, at(8, 1))
    rma(first, "RMA-A", authorized=at(2), closed=at(2, 30))  # 30 h
    rma(second, "RMA-B", authorized=at(3), closed=at(3, 50))  # 50 h
    rma(third, "RMA-C", authorized=at(9), closed=at(9, 10))  # 10 h
    rma(waiting, "RMA-OPEN", state="authorized", authorized=at(9))
    rma(waiting, "RMA-GONE", state="cancelled", authorized=at(9))
    refresh_facts()
    return {"waiting": waiting}


def test_return_cycle_time_averages_authorized_to_closed_hours(returns_world):
    assert value("return_cycle_time") == Decimal("30.0")  # (30 + 50 + 10) ÷ 3
    assert value("return_cycle_time", by="channel") == {
        "AMZ": Decimal("40.0"),
        "SHOP": Decimal("10.0"),
    }
    assert value("return_cycle_time", by="node") == {"WH1": Decimal("40.0"), "WH2": Decimal("10.0")}
    assert value("return_cycle_time", by="week") == {
        date(2026, 11, 2): Decimal("40.0"),
        date(2026, 11, 9): Decimal("10.0"),
    }
    headline = rows("return_cycle_time")[0]
    assert (headline["numerator"], headline["denominator"]) == (90 * 3600, 3)


def test_return_cycle_time_follows_an_rma_closed_after_the_last_refresh(returns_world):
    now = timezone.now()
    Rma.objects.filter(number="RMA-OPEN").update(
        state="closed", authorized_at=now - timedelta(hours=20), closed_at=now
    )
    refresh_facts()  # incremental: the RMA's closing touches its order's placed day
    assert value("return_cycle_time", by="channel")["SHOP"] == Decimal("15.0")  # (10 + 20) ÷ 2


def test_return_cycle_time_drills_to_the_closed_rmas_of_the_orders(returns_world, client, manager):
    url = get_kpi("return_cycle_time").drill(WEEKS, channel="AMZ")
    assert "state=closed" in url and "placed_from=2026-11-02" in url
    page = listed(client, manager, url)
    assert "RMA-A" in page and "RMA-B" in page
    assert "RMA-C" not in page and "RMA-OPEN" not in page


# --- refund total ---------------------------------------------------------------------------


@pytest.fixture
def refunds(channels, nodes):
    amazon, shop = channels
    sku = SkuFactory(code="CAP")
    made = {}
    for number, channel, state, amount, posted in (
        ("R1", amazon, "posted", "25.50", at(1)),
        ("R2", amazon, "posted_on_channel", "10.00", at(9)),
        ("R3", shop, "posted", "4.50", at(2)),
        ("R4", shop, "pending_approval", "99.00", None),
        ("R5", amazon, "posted", "7.00", at(20)),  # after the period
        ("R6", shop, "rejected", "3.00", None),
    ):
        record = order(channel, nodes[0], placed=at(0), lines=[(sku, 1, 1, 0, "shipped")])
        back = rma(record, f"RMA-{number}", authorized=at(0, 5), closed=at(0, 6))
        made[number] = Refund.objects.create(
            number=number,
            rma=back,
            order=record,
            channel=channel,
            state=state,
            currency="USD",
            computed_amount=Decimal(amount),
            amount=Decimal(amount),
            requested_by=_user(),
            requested_at=at(0, 6),
            posted_at=posted,
            closed_at=at(0, 7) if state == "rejected" else None,
        )
    return made


def test_refund_total_sums_refunds_posted_in_the_period(refunds):
    headline = rows("refund_total")[0]
    assert headline == {
        "key": "all",
        "numerator": Decimal("40.00"),
        "denominator": 3,
        "value": Decimal("40.00"),
    }
    assert value("refund_total", by="channel") == {
        "AMZ": Decimal("35.50"),
        "SHOP": Decimal("4.50"),
    }
    assert value("refund_total", by="week") == {
        date(2026, 11, 2): Decimal("30.00"),
        date(2026, 11, 9): Decimal("10.00"),
    }
    assert value("refund_total", WEEKS.on(channel="SHOP")) == Decimal("4.50")


def test_refund_total_drills_to_the_rmas_refunded_in_the_period(refunds, client, manager):
    url = get_kpi("refund_total").drill(WEEKS, channel="AMZ")
    page = listed(client, manager, url)
    assert "RMA-R1" in page and "RMA-R2" in page
    for other in ("RMA-R3", "RMA-R4", "RMA-R5", "RMA-R6"):
        assert other not in page


# --- write-off total ------------------------------------------------------------------------


@pytest.fixture
def write_offs(nodes, manager):
    east, west = nodes
    mug = SkuFactory(code="MUG", product_family="mugs")
    cap = SkuFactory(code="CAP", product_family="caps")
    made = {}
    for name, sku, node, quantity, reason, state, value_, posted in (
        ("damaged", mug, east, -2, "damage", "posted", "12.00", at(1)),
        ("shrink", cap, west, -1, "shrink", "posted", "3.25", at(9)),
        ("expired", mug, west, -3, "expired", "posted", "18.00", at(10)),
        ("found", mug, east, 5, "found", "posted", "30.00", at(1)),  # a gain, not a write-off
        ("correction", cap, east, -1, "data_correction", "posted", "3.25", at(1)),
        ("waiting", cap, east, -9, "damage", "pending_approval", "29.25", None),
        ("later", mug, east, -1, "damage", "posted", "6.00", at(20)),
    ):
        made[name] = InventoryAdjustment.objects.create(
            sku=sku,
            location=node,
            quantity=quantity,
            reason_code=reason,
            note=name,
            unit_cost=Decimal(value_) / abs(quantity),
            value=Decimal(value_),
            state=state,
            requested_by=manager,
            posted_at=posted,
        )
    return made


def test_write_off_total_sums_posted_write_offs_at_their_value(write_offs):
    headline = rows("write_off_total")[0]
    assert (headline["value"], headline["denominator"]) == (Decimal("33.25"), 3)
    assert value("write_off_total", by="node") == {"WH1": Decimal("12.00"), "WH2": Decimal("21.25")}
    assert value("write_off_total", by="family") == {
        "caps": Decimal("3.25"),
        "mugs": Decimal("30.00"),
    }
    assert value("write_off_total", by="week") == {
        date(2026, 11, 2): Decimal("12.00"),
        date(2026, 11, 9): Decimal("21.25"),
    }
    assert value("write_off_total", WEEKS.on(node="WH2", family="mugs")) == Decimal("18.00")


def test_a_write_off_posted_by_the_service_counts_at_the_value_it_recorded(nodes, manager):
    east = nodes[0]
    sku = stocked_sku(east, 10, manager, unit_cost=Decimal("2.50"))
    adjustment = request_adjustment(
        sku=sku, location=east, quantity=-3, reason_code="damage", actor=manager
    )
    assert adjustment.state == "posted"
    today = timezone.localdate()
    assert value("write_off_total", Filters(date_from=today, date_to=today)) == adjustment.value
    assert adjustment.value == Decimal("7.50")


def test_write_off_total_drills_to_the_posted_write_offs(write_offs, client, manager):
    url = get_kpi("write_off_total").drill(WEEKS, node="WH2")
    page = listed(client, manager, url)
    shown = {name for name, record in write_offs.items() if f">ADJ-{record.pk}<" in page}
    assert shown == {"shrink", "expired"}
    everywhere = listed(client, manager, get_kpi("write_off_total").drill(WEEKS))
    shown = {name for name, record in write_offs.items() if f">ADJ-{record.pk}<" in everywhere}
    assert shown == {"damaged", "shrink", "expired"}


# --- supplier on-time and fill rate ---------------------------------------------------------


@pytest.fixture
def purchase_orders(nodes, manager):
    east, west = nodes
    north, south = SupplierFactory(code="NORTH"), SupplierFactory(code="SOUTH")
    sku = SkuFactory(code="BOLT")
    specs = (
        # number, supplier, node, state, expected, received, closed, [(ordered, received)]
        ("PO-1", north, east, "received", date(2026, 11, 5), at(1), None, [(10, 10), (5, 5)]),
        ("PO-2", north, east, "closed", date(2026, 11, 3), at(2), at(3), [(10, 12)]),
        ("PO-3", south, west, "received", date(2026, 11, 12), at(9), None, [(20, 20)]),
        ("PO-4", south, west, "closed", date(2026, 11, 10), None, at(10), [(10, 4), (10, 0)]),
        ("PO-5", south, west, "partially_received", date(2026, 11, 4), None, None, [(8, 3)]),
        ("PO-6", north, east, "received", None, at(11), None, [(6, 6)]),
        ("PO-7", north, east, "received", date(2026, 11, 1), at(25), None, [(9, 9)]),
    )
    for number, supplier, node, state, expected, received, closed, lines in specs:
        po = PurchaseOrder.objects.create(
            number=number,
            supplier=supplier,
            destination=node,
            currency="USD",
            state=state,
            expected_date=expected,
            requested_by=manager,
            received_at=received,
            closed_at=closed,
        )
        for line_number, (ordered, got) in enumerate(lines, 1):
            PurchaseOrderLine.objects.create(
                purchase_order=po,
                line_number=line_number,
                sku=sku,
                quantity_ordered=ordered,
                quantity_received=got,
                over_receipt_approved=max(got - ordered, 0),
                unit_cost=Decimal("1.00"),
                expected_date=expected,
            )


def test_supplier_on_time_rate_counts_pos_received_by_their_expected_date(purchase_orders):
    # Received in the period: PO-1 (on time), PO-2 (late), PO-3 (on time), PO-6 (no date).
    headline = rows("supplier_on_time_rate")[0]
    assert (headline["numerator"], headline["denominator"]) == (3, 4)
    assert headline["value"] == Decimal("75.0")
    assert value("supplier_on_time_rate", by="supplier") == {
        "NORTH": Decimal("66.7"),
        "SOUTH": Decimal("100.0"),
    }
    assert value("supplier_on_time_rate", by="week") == {
        date(2026, 11, 2): Decimal("50.0"),
        date(2026, 11, 9): Decimal("100.0"),
    }
    assert value("supplier_on_time_rate", by="node") == {
        "WH1": Decimal("66.7"),
        "WH2": Decimal("100.0"),
    }


def test_supplier_fill_rate_caps_received_units_at_the_ordered_ones(purchase_orders):
    # Receiving over in the period: PO-1 15/15, PO-2 10 (of 12 received)/10, PO-3 20/20,
    # PO-4 4/20 (closed short), PO-6 6/6 → 55 ÷ 71.
    headline = rows("supplier_fill_rate")[0]
    assert (headline["numerator"], headline["denominator"]) == (55, 71)
    assert headline["value"] == Decimal("77.5")
    assert value("supplier_fill_rate", by="supplier") == {
        "NORTH": Decimal("100.0"),
        "SOUTH": Decimal("60.0"),
    }
    assert value("supplier_fill_rate", WEEKS.on(node="WH2")) == Decimal("60.0")


def test_supplier_kpis_drill_to_the_pos_received_in_the_period(purchase_orders, client, manager):
    kpi = get_kpi("supplier_fill_rate")
    assert kpi.bars_by == "supplier" and "supplier" in kpi.breakdowns
    page = listed(client, manager, kpi.drill(WEEKS, supplier="SOUTH"))
    assert "PO-3" in page and "PO-4" in page
    for other in ("PO-1", "PO-2", "PO-5", "PO-6", "PO-7"):
        assert other not in page
    week_two = listed(
        client,
        manager,
        get_kpi("supplier_on_time_rate").drill(
            WEEKS, day_from=date(2026, 11, 9), day_to=date(2026, 11, 15)
        ),
    )
    assert "PO-3" in week_two and "PO-6" in week_two and "PO-1" not in week_two


def test_the_supplier_breakdown_shows_on_the_kpi_table_and_its_csv(
    purchase_orders, client, manager
):
    client.force_login(manager)
    query = {"date_from": "2026-11-02", "date_to": "2026-11-15", "by": "supplier"}
    page = client.get(reverse("insight:kpi", args=["supplier_on_time_rate"]), query)
    assert page.status_code == 200 and "NORTH" in page.content.decode()
    response = client.get(reverse("insight:kpi-csv", args=["supplier_on_time_rate"]), query)
    exported = b"".join(response.streaming_content).decode()
    assert exported.splitlines()[0].startswith("Supplier,")
    assert "SOUTH,1,1,100.0" in exported


# --- margin by channel ----------------------------------------------------------------------


def sale(channel, *, revenue, cogs, fees, shipping, refunds, day):
    ids = accounts_for(
        {"receivable", "revenue", "cogs", "inventory", "marketplace_fees", "refunds"},
        channel_id=channel.pk,
    )
    ids |= accounts_for({"shipping_expense", "carrier_accrual"})
    dims = {"channel_id": channel.pk}
    post_entry(
        lines=[
            debit(ids["receivable"], Decimal(revenue) - Decimal(fees) - Decimal(refunds), **dims),
            credit(ids["revenue"], Decimal(revenue), **dims),
            debit(ids["marketplace_fees"], Decimal(fees), **dims),
            debit(ids["refunds"], Decimal(refunds), **dims),
            debit(ids["cogs"], Decimal(cogs), **dims),
            credit(ids["inventory"], Decimal(cogs), **dims),
            debit(ids["shipping_expense"], Decimal(shipping), **dims),
            credit(ids["carrier_accrual"], Decimal(shipping), **dims),
        ],
        memo="test sale",
        date=day,
    )


@pytest.fixture
def postings(channels):
    amazon, shop = channels
    sale(amazon, revenue="100", cogs="40", fees="15", shipping="5", refunds="10", day=at(1).date())
    sale(shop, revenue="50", cogs="20", fees="0", shipping="5", refunds="0", day=at(9).date())
    sale(shop, revenue="999", cogs="1", fees="0", shipping="0", refunds="0", day=at(20).date())


def test_margin_by_channel_is_finances_margin_as_a_share_of_revenue(postings):
    headline = rows("margin_by_channel")[0]
    # Amazon 100 − 10 − 40 − 15 − 5 = 30; Shop 50 − 20 − 5 = 25: 55 of 150 revenue.
    assert (headline["numerator"], headline["denominator"]) == (Decimal("55"), Decimal("150"))
    assert headline["value"] == Decimal("36.7")
    assert value("margin_by_channel", by="channel") == {
        "AMZ": Decimal("30.0"),
        "SHOP": Decimal("50.0"),
    }
    assert value("margin_by_channel", WEEKS.on(channel="SHOP")) == Decimal("50.0")
    assert value("margin_by_channel", WEEKS.on(channel="NOPE")) is None


def test_margin_by_channel_drills_to_finances_margin_page_by_order(postings, client, finance_user):
    url = get_kpi("margin_by_channel").drill(WEEKS, channel="AMZ")
    assert url.startswith(reverse("finance:margin")) and "by=order" in url
    listed(client, finance_user, url)


# --- on the dashboards ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "keys"),
    [
        ("finance", ["refund_total", "write_off_total", "margin_by_channel", "return_cycle_time"]),
        ("cs", ["return_cycle_time"]),
        ("manager", ["supplier_on_time_rate", "supplier_fill_rate", "margin_by_channel"]),
    ],
)
def test_the_money_kpis_show_on_their_roles_dashboards(client, request, role, keys):
    user = request.getfixturevalue(
        {"finance": "finance_user", "cs": "cs_user", "manager": "manager"}[role]
    )
    client.force_login(user)
    page = client.get(reverse("insight:dashboard", args=[role]))
    assert page.status_code == 200
    body = page.content.decode()
    for key in keys:
        assert reverse("insight:kpi", args=[key]) in body, key


# --- the demo -------------------------------------------------------------------------------

MONEY_KPIS = [
    "return_cycle_time",
    "refund_total",
    "write_off_total",
    "supplier_on_time_rate",
    "supplier_fill_rate",
    "margin_by_channel",
]


def test_the_whole_demo_gives_every_money_kpi_a_figure_on_first_sign_in():
    call_command("seed_demo", skus=30)

    filters = Filters.default()
    for key in MONEY_KPIS:
        kpi = get_kpi(key)
        assert kpi.value(filters) is not None, key
        bars = [row for row in kpi.rows(filters, kpi.bars_by) if row["value"] is not None]
        assert len(bars) >= 2, key
        if "day" in kpi.breakdowns:
            days = [row for row in kpi.rows(filters, "day") if row["value"] is not None]
            assert len(days) >= 7, key


def test_buyers_have_a_dashboard_of_their_suppliers_figures(client, role_groups):
    buyer = UserFactory(username="buyer-user", roles=[roles.BUYER])
    client.force_login(buyer)
    assert client.get(reverse("insight:home")).url == reverse("insight:dashboard", args=["buyer"])
    body = client.get(reverse("insight:dashboard", args=["buyer"])).content.decode()
    for key in ("supplier_on_time_rate", "supplier_fill_rate"):
        assert reverse("insight:kpi", args=[key]) in body
    assert reverse("insight:kpi", args=["refund_total"]) not in body
    assert client.get(reverse("insight:dashboard", args=["finance"])).status_code == 403
    assert client.get(reverse("insight:kpi", args=["margin_by_channel"])).status_code == 403


def test_the_api_gives_amounts_to_the_cent(refunds, api):
    listed_kpis = {row["key"]: row for row in api.get("/api/v1/insight/kpis/").json()}
    assert listed_kpis["refund_total"]["unit"] == "amount"
    assert "supplier" in listed_kpis["supplier_fill_rate"]["breakdowns"]
    body = api.get(
        "/api/v1/insight/kpis/refund_total/",
        {"date_from": "2026-11-02", "date_to": "2026-11-15", "by": "channel"},
    ).json()
    assert body["value"] == "40.00"
    assert body["rows"] == [
        {"key": "AMZ", "numerator": "35.50", "denominator": "2", "value": "35.50"},
        {"key": "SHOP", "numerator": "4.50", "denominator": "1", "value": "4.50"},
    ]
