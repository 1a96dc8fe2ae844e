"""CSV export of the back-office lists: the filters on screen apply, the file streams in a
fixed number of queries whatever its length, and each list links to its export."""

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from erp.exports import XLSX_TYPE
from finance.models import Settlement
from fulfillment.models import Shipment
from inventory.models import CycleCount, InventoryAdjustment, Transfer
from purchasing.models import Proposal, ProposalLine, PurchaseOrder, ReplenishmentRun
from returns.models import Rma
from tests.factories import (
    ChannelFactory,
    LocationFactory,
    OrderFactory,
    SkuFactory,
    UserFactory,
)
from tests.factories.finance import simple_entry
from tests.factories.fulfillment import CarrierFactory
from tests.factories.purchasing import SupplierFactory, SupplierItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(db):
    user = UserFactory(username="boss")
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    return user


def exported(client, url_name, *args, fmt="csv", **params) -> list[dict]:
    """The rows a list exports as `fmt`, each a dict by column header."""
    response = client.get(reverse(url_name, args=args), {**params, "export": fmt})
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_TYPE if fmt == "xlsx" else "text/csv"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response["Content-Disposition"].endswith(f'.{fmt}"')
    body = b"".join(response.streaming_content)
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(body.decode())))
    sheet = load_workbook(io.BytesIO(body)).active
    header, *rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    return [dict(zip(header, row, strict=True)) for row in rows]


@pytest.fixture
def three_orders():
    amazon, ebay = ChannelFactory(code="AMZ"), ChannelFactory(code="EBY")
    OrderFactory(channel=amazon, external_id="A-1", state="on_hold")
    OrderFactory(channel=amazon, external_id="A-2", state="ready")
    OrderFactory(channel=ebay, external_id="E-1", state="on_hold")


def test_an_order_export_keeps_the_filters_on_screen(client, boss, three_orders):
    client.force_login(boss)

    rows = exported(client, "orders:list", channel="AMZ", state="on_hold")

    assert [(row["External id"], row["Channel"], row["State"]) for row in rows] == [
        ("A-1", "AMZ", "On hold")
    ]


def test_an_export_of_many_rows_takes_as_many_queries_as_one_of_a_few(client, boss):
    channel = ChannelFactory(code="AMZ")
    OrderFactory.create_batch(2, channel=channel)
    client.force_login(boss)

    def queries_for_export() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            rows = exported(client, "orders:list", channel="AMZ")
        return len(queries), len(rows)

    few = queries_for_export()
    OrderFactory.create_batch(60, channel=channel)
    many = queries_for_export()

    assert few[1] == 2 and many[1] == 62
    assert few[0] == many[0] <= 6  # session, user, the filter's channel, the export


def test_the_export_is_chunked_through_a_server_side_cursor(client, boss, monkeypatch):
    """More rows than one chunk still arrive whole (the iterator fetches chunk by chunk)."""
    monkeypatch.setattr("erp.list_export.CHUNK_SIZE", 7)
    channel = ChannelFactory(code="AMZ")
    OrderFactory.create_batch(20, channel=channel)
    client.force_login(boss)

    rows = exported(client, "orders:list")

    assert len(rows) == 20
    assert len({row["External id"] for row in rows}) == 20


def test_a_list_page_links_to_its_export_with_the_current_filters(client, boss):
    ChannelFactory(code="AMZ")
    client.force_login(boss)

    page = client.get(reverse("orders:list"), {"channel": "AMZ", "page": "1"}).content.decode()

    assert 'href="/orders/?channel=AMZ&amp;export=csv"' in page


def test_someone_who_may_not_see_a_list_may_not_export_it(client, warehouse_user):
    client.force_login(warehouse_user)

    response = client.get(reverse("finance:journal"), {"export": "csv"})

    assert response.status_code == 403


def test_an_rma_export_keeps_the_state_filter(client, boss):
    channel = ChannelFactory(code="AMZ")
    now = timezone.now()
    for number, state in (("RMA-1", "authorized"), ("RMA-2", "closed")):
        Rma.objects.create(
            number=number,
            channel=channel,
            order=OrderFactory(channel=channel),
            state=state,
            expected_by=now + timedelta(days=7),
            created_by=boss,
            authorized_at=now,
            state_changed_at=now,
        )
    client.force_login(boss)

    rows = exported(client, "returns:list", state="closed")

    assert [row["RMA"] for row in rows] == ["RMA-2"]


def test_a_stock_export_keeps_the_search(client, boss):
    SkuFactory(code="TEE-RED", name="Red tee")
    SkuFactory(code="MUG-BLUE", name="Blue mug")
    client.force_login(boss)

    rows = exported(client, "stock-search", q="TEE")

    assert [row["SKU"] for row in rows] == ["TEE-RED"]


def test_counts_adjustments_and_transfers_export_by_state(client, boss):
    here, there = LocationFactory(code="WH1"), LocationFactory(code="WH2")
    sku = SkuFactory(code="TEE")
    CycleCount.objects.create(location=here, scope="all", created_by=boss, state="open")
    CycleCount.objects.create(location=there, scope="all", created_by=boss, state="closed")
    for state, quantity in (("posted", -2), ("pending_approval", -40)):
        InventoryAdjustment.objects.create(
            sku=sku,
            location=here,
            quantity=quantity,
            reason_code="shrink",
            unit_cost=Decimal("3.00"),
            value=Decimal("3.00") * abs(quantity),
            state=state,
            requested_by=boss,
        )
    now = timezone.now()
    Transfer.objects.create(
        number="TR-1", from_location=here, to_location=there, created_by=boss, shipped_at=now
    )
    Transfer.objects.create(
        number="TR-2",
        from_location=there,
        to_location=here,
        created_by=boss,
        shipped_at=now,
        state="received",
    )
    client.force_login(boss)

    counts = exported(client, "count-list", state="closed")
    adjustments = exported(client, "adjustment-list", state="pending_approval")
    transfers = exported(client, "transfer-list", state="received")

    assert [row["Node"] for row in counts] == ["WH2"]
    assert [row["Quantity"] for row in adjustments] == ["-40"]
    assert [row["Transfer"] for row in transfers] == ["TR-2"]


def test_a_shipment_export_keeps_the_state_filter(client, boss):
    node, carrier = LocationFactory(code="WH1"), CarrierFactory()
    channel = ChannelFactory(code="AMZ")
    for tracking, state in (("1Z-SHIPPED", "shipped"), ("1Z-LABEL", "label_created")):
        Shipment.objects.create(
            order=OrderFactory(channel=channel),
            location=node,
            carrier=carrier,
            tracking_number=tracking,
            state=state,
            created_by=boss,
        )
    client.force_login(boss)

    rows = exported(client, "fulfillment:shipment-list", state="shipped")

    assert [row["Tracking number"] for row in rows] == ["1Z-SHIPPED"]
    assert rows[0]["Channel"] == "AMZ"


def test_a_journal_export_keeps_the_search_and_totals_each_entry(client, boss):
    simple_entry("12.50", memo="opening cash")
    simple_entry("99.00", memo="something else")
    client.force_login(boss)

    rows = exported(client, "finance:journal", q="opening")

    assert [(row["Memo"], row["Amount"]) for row in rows] == [("opening cash", "12.50")]


def test_a_settlement_export_keeps_the_channel_filter(client, boss):
    amazon = ChannelFactory(code="AMZ", kind="amazon")
    shopify = ChannelFactory(code="SHOP", kind="shopify")
    for channel, source, external in (
        (amazon, "amazon_v2", "S-A"),
        (shopify, "shopify_payments", "S-S"),
    ):
        Settlement.objects.create(
            channel=channel,
            source=source,
            external_id=external,
            currency="USD",
            total_amount=Decimal("100.00"),
            file_hash=external,
        )
    client.force_login(boss)

    rows = exported(client, "settlements:list", channel=amazon.pk)

    assert [row["Settlement"] for row in rows] == ["S-A"]


def test_purchase_orders_suppliers_and_proposals_export_with_their_filters(client, boss):
    dock = LocationFactory(code="DOCK")
    acme, globex = SupplierFactory(code="ACME"), SupplierFactory(code="GLOBEX")
    for number, supplier, state in (("PO-1", acme, "draft"), ("PO-2", globex, "sent")):
        PurchaseOrder.objects.create(
            number=number,
            supplier=supplier,
            destination=dock,
            currency="USD",
            requested_by=boss,
            state=state,
        )
    now = timezone.now()
    run = ReplenishmentRun.objects.create(
        trigger="manual",
        started_at=now,
        window_days=28,
        service_level_z=Decimal("1.65"),
        review_period_days=7,
        recent_weight=Decimal("0.5"),
    )
    for supplier in (acme, globex):
        proposal = Proposal.objects.create(run=run, supplier=supplier, destination=dock)
        item = SupplierItemFactory(supplier=supplier, sku=SkuFactory(code=f"SKU-{supplier.code}"))
        ProposalLine.objects.create(
            proposal=proposal,
            sku=item.sku,
            supplier_item=item,
            velocity=Decimal("1"),
            sigma=Decimal("0.5"),
            lead_time_days=10,
            review_period_days=7,
            on_hand=3,
            on_order=0,
            in_transit=0,
            position=3,
            safety_stock=2,
            reorder_point=12,
            order_up_to=19,
            cover_days=Decimal("3"),
            raw_quantity=Decimal("16"),
            suggested_quantity=16,
            quantity=16,
            reason="below reorder point",
        )
    client.force_login(boss)

    orders = exported(client, "purchasing:po-list", state="sent")
    suppliers = exported(client, "purchasing:supplier-list", q="acm")
    proposals = exported(client, "purchasing:proposal-queue", supplier="glob")

    assert [row["PO"] for row in orders] == ["PO-2"]
    assert [row["Code"] for row in suppliers] == ["ACME"]
    assert [(row["Supplier"], row["SKU"]) for row in proposals] == [("GLOBEX", "SKU-GLOBEX")]


def test_node_stock_exports_for_its_node_only(client, boss):
    node = LocationFactory(code="WH1")
    client.force_login(boss)

    rows = exported(client, "stock-node", node.code)

    assert rows == []


def test_todays_waves_export_for_the_chosen_node(client, boss):
    from fulfillment.models import Wave

    here, there = LocationFactory(code="WH1"), LocationFactory(code="WH2")
    cutoff = timezone.now() + timedelta(hours=2)
    mine = Wave.objects.create(location=here, cutoff_at=cutoff, created_by=boss, order_count=3)
    Wave.objects.create(location=there, cutoff_at=cutoff, created_by=boss, order_count=5)
    client.force_login(boss)

    rows = exported(client, "fulfillment:waves-panel", node="WH1")

    assert [(row["Wave"], row["Node"], row["Orders"]) for row in rows] == [
        (mine.number, "WH1", "3")
    ]


def test_a_list_exports_the_same_filtered_rows_as_xlsx_with_typed_cells(client, boss, three_orders):
    client.force_login(boss)

    rows = exported(client, "orders:list", channel="AMZ", state="on_hold", fmt="xlsx")
    csv_rows = exported(client, "orders:list", channel="AMZ", state="on_hold")

    assert [(row["External id"], row["Channel"], row["State"]) for row in rows] == [
        ("A-1", "AMZ", "On hold")
    ]
    assert list(rows[0]) == list(csv_rows[0])  # the same columns
    placed = timezone.localtime(datetime.fromisoformat(csv_rows[0]["Placed at"]))
    assert abs((rows[0]["Placed at"] - placed.replace(tzinfo=None)).total_seconds()) < 1


def test_every_list_page_links_to_csv_and_xlsx(client, boss):
    client.force_login(boss)

    page = client.get(reverse("orders:list"), {"channel": "AMZ", "page": "1"}).content.decode()

    assert 'href="/orders/?channel=AMZ&amp;export=xlsx"' in page


@pytest.mark.parametrize(
    "url_name",
    [
        "returns:list",
        "stock-search",
        "count-list",
        "adjustment-list",
        "transfer-list",
        "fulfillment:shipment-list",
        "finance:journal",
        "purchasing:po-list",
    ],
)
def test_each_list_exports_as_xlsx_what_it_exports_as_csv(client, boss, url_name):
    SkuFactory(code="TEE")
    client.force_login(boss)

    xlsx_rows = exported(client, url_name, fmt="xlsx")
    csv_rows = exported(client, url_name)

    assert len(xlsx_rows) == len(csv_rows)
