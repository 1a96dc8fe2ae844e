from decimal import Decimal

import pytest

from erp import roles
from inventory.models import StockLedgerEntry
from purchasing.models import PurchaseOrder, PurchaseOrderState, SupplierItem
from tests.conftest import token_client
from tests.factories import SkuFactory, UserFactory
from tests.factories.purchasing import SupplierFactory, SupplierItemFactory

S = PurchaseOrderState


@pytest.fixture
def buyer_api(buyer):
    return token_client(buyer)


@pytest.fixture
def manager_api(manager):
    return token_client(manager)


@pytest.fixture
def dock_api(warehouse_user):
    return token_client(warehouse_user)


def _create(client, supplier, dock, lines):
    return client.post(
        "/api/v1/purchase-orders/",
        {"supplier": supplier.code, "destination": dock.code, "lines": lines},
        format="json",
    )


def test_a_buyer_creates_and_submits_a_po(buyer_api, supplier, dock, tee_item, mug_item):
    response = _create(
        buyer_api, supplier, dock, [{"sku": "TEE", "quantity": 10}, {"sku": "MUG", "quantity": 12}]
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "draft" and [line["sku"] for line in body["lines"]] == ["TEE", "MUG"]
    submitted = buyer_api.post(f"/api/v1/purchase-orders/{body['id']}/submit/")
    assert submitted.status_code == 200 and submitted.json()["state"] == "sent"


def test_bad_lines_are_a_400_per_field_and_nothing_is_written(
    buyer_api, supplier, dock, tee_item, mug_item
):
    tee_item.sku.active = False
    tee_item.sku.save()
    response = _create(
        buyer_api, supplier, dock, [{"sku": "TEE", "quantity": 10}, {"sku": "MUG", "quantity": 13}]
    )
    assert response.status_code == 400
    fields = {(e["field"], e["code"]) for e in response.json()["errors"]}
    assert fields == {("lines[0].sku", "inactive"), ("lines[1].quantity", "not_pack_multiple")}
    assert not PurchaseOrder.objects.exists()


def test_approving_your_own_po_is_a_403(manager_api, supplier, dock, tee_item):
    po = _create(manager_api, supplier, dock, [{"sku": "TEE", "quantity": 5000}]).json()
    assert (
        manager_api.post(f"/api/v1/purchase-orders/{po['id']}/submit/").json()["state"]
        == "submitted"
    )
    response = manager_api.post(
        f"/api/v1/purchase-orders/{po['id']}/approve/", {"approve": True}, format="json"
    )
    assert response.status_code == 403
    assert PurchaseOrder.objects.get(pk=po["id"]).state == S.SUBMITTED


def test_another_manager_approves(buyer_api, manager_api, supplier, dock, tee_item):
    po = _create(buyer_api, supplier, dock, [{"sku": "TEE", "quantity": 5000}]).json()
    buyer_api.post(f"/api/v1/purchase-orders/{po['id']}/submit/")
    response = manager_api.post(
        f"/api/v1/purchase-orders/{po['id']}/approve/",
        {"approve": True, "note": "ok"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["state"] == "sent"


def test_cancel_without_reason_is_a_400(buyer_api, supplier, dock, tee_item):
    po = _create(buyer_api, supplier, dock, [{"sku": "TEE", "quantity": 5}]).json()
    response = buyer_api.post(f"/api/v1/purchase-orders/{po['id']}/cancel/", {}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "reason"
    response = buyer_api.post(
        f"/api/v1/purchase-orders/{po['id']}/cancel/", {"reason": "Wrong supplier"}, format="json"
    )
    assert response.json()["state"] == "cancelled"


def test_editing_a_draft_through_patch(buyer_api, supplier, dock, tee_item, mug_item):
    po = _create(buyer_api, supplier, dock, [{"sku": "TEE", "quantity": 5}]).json()
    response = buyer_api.patch(
        f"/api/v1/purchase-orders/{po['id']}/",
        {"lines": [{"sku": "MUG", "quantity": 18}]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert [(line["sku"], line["quantity_ordered"]) for line in response.json()["lines"]] == [
        ("MUG", 18)
    ]


def test_receiving_by_scanned_barcode(dock_api, sent_po, tee, dock):
    response = dock_api.post(
        "/api/v1/purchasing/receipts/",
        {"purchase_order": sent_po.number, "lines": [{"sku": tee.barcode, "quantity": 3}]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["lines"][0]["sku"] == "TEE"
    assert StockLedgerEntry.objects.get(sku=tee).quantity == 3


def test_receiving_on_a_closed_po_is_a_409_and_writes_nothing(dock_api, buyer_api, sent_po, tee):
    buyer_api.post(f"/api/v1/purchase-orders/{sent_po.pk}/cancel/", {"reason": "x"}, format="json")
    response = dock_api.post(
        "/api/v1/purchasing/receipts/",
        {"purchase_order": sent_po.number, "lines": [{"sku": "TEE", "quantity": 1}]},
        format="json",
    )
    assert response.status_code == 409
    assert not StockLedgerEntry.objects.exists()


def test_a_lot_without_expiry_is_a_400(dock_api, supplier, dock, buyer):
    from purchasing.services import purchase_orders

    yog = SkuFactory(code="YOG", lot_tracked=True, expiry_tracked=True)
    SupplierItemFactory(supplier=supplier, sku=yog)
    po = purchase_orders.create_purchase_order(
        supplier=supplier, destination=dock, actor=buyer, lines=[{"sku": yog, "quantity": 4}]
    )
    purchase_orders.submit_purchase_order(purchase_order=po, actor=buyer)
    response = dock_api.post(
        "/api/v1/purchasing/receipts/",
        {"purchase_order": po.number, "lines": [{"sku": "YOG", "quantity": 4, "lot": "L9"}]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "lines[0].expires_on"
    assert not StockLedgerEntry.objects.exists()


def test_a_negative_charge_is_a_400(sent_po, tee, receive, finance_user):
    receive(sent_po, tee, 10)
    client = token_client(finance_user)
    response = client.post(
        "/api/v1/purchasing/landed-charges/",
        {"purchase_order": sent_po.number, "kind": "freight", "amount": "-3.00"},
        format="json",
    )
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "amount"
    ok = client.post(
        "/api/v1/purchasing/landed-charges/",
        {
            "purchase_order": sent_po.number,
            "kind": "freight",
            "amount": "3.00",
            "basis": "quantity",
        },
        format="json",
    )
    assert ok.status_code == 201 and ok.json()["allocations"][0]["amount"] == "3.00"


def test_po_as_csv_and_pdf(buyer_api, sent_po):
    csv = buyer_api.get(f"/api/v1/purchase-orders/{sent_po.pk}/csv/")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    rows = csv.content.decode().splitlines()
    assert rows[0].startswith("po_number,line,sku") and rows[1].startswith(
        f"{sent_po.number},1,TEE"
    )
    pdf = buyer_api.get(f"/api/v1/purchase-orders/{sent_po.pk}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


PRICE_LIST = "sku,supplier_sku,unit_cost,lead_time_days,moq,pack_multiple,preferred\n"


def test_price_list_import_creates_and_updates(buyer_api, supplier, tee_item, mug):
    content = PRICE_LIST + "TEE,T-1,3.50,5,1,1,true\nMUG,M-1,2.25,14,12,6,\n"
    response = buyer_api.post(
        f"/api/v1/suppliers/{supplier.pk}/price-list/", {"content": content}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {"created": 1, "updated": 1, "refused": []}
    tee_item.refresh_from_db()
    assert (tee_item.unit_cost, tee_item.lead_time_days, tee_item.preferred) == (
        Decimal("3.50"),
        5,
        True,
    )


def test_a_price_list_with_bad_rows_imports_nothing_and_reports_each(
    buyer_api, supplier, tee_item, mug
):
    inactive = SkuFactory(code="OLD", active=False)
    content = (
        PRICE_LIST
        + "TEE,T-1,3.50,5,1,1,\n"
        + "NOPE,X,1,1,1,1,\n"
        + f"{inactive.code},X,1,1,1,1,\n"
        + "MUG,M,-2,1,1,1,\n"
        + "MUG,M,2,1,0,1,\n"
    )
    response = buyer_api.post(
        f"/api/v1/suppliers/{supplier.pk}/price-list/", {"content": content}, format="json"
    )
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [
        "rows[3].sku",
        "rows[4].sku",
        "rows[5].unit_cost",
        "rows[6].sku",
    ]
    tee_item.refresh_from_db()
    assert tee_item.unit_cost == Decimal("4.00")
    assert SupplierItem.objects.count() == 1


def test_one_preferred_supplier_per_sku(buyer_api, supplier, tee_item):
    other = SupplierFactory(code="OTHER")
    tee_item.preferred = True
    tee_item.save()
    response = buyer_api.post(
        "/api/v1/supplier-items/",
        {"supplier": other.code, "sku": "TEE", "unit_cost": "3.90", "preferred": True},
        format="json",
    )
    assert response.status_code == 201, response.json()
    tee_item.refresh_from_db()
    assert not tee_item.preferred
    assert SupplierItem.objects.get(supplier=other).preferred


def test_warehouse_cannot_create_suppliers(dock_api):
    response = dock_api.post("/api/v1/suppliers/", {"code": "X", "name": "X"}, format="json")
    assert response.status_code == 403


def test_po_list_query_count_does_not_grow(
    buyer_api, supplier, dock, tee_item, mug_item, buyer, django_assert_num_queries
):
    from purchasing.services import purchase_orders

    def add():
        purchase_orders.create_purchase_order(
            supplier=supplier,
            destination=dock,
            actor=buyer,
            lines=[{"sku": tee_item.sku, "quantity": 2}, {"sku": mug_item.sku, "quantity": 12}],
        )

    add()
    buyer_api.get("/api/v1/purchase-orders/")  # warm the token and permission caches
    with django_assert_num_queries(1) as one:
        assert len(buyer_api.get("/api/v1/purchase-orders/").json()["results"]) == 1
    for _ in range(4):
        add()
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(buyer_api.get("/api/v1/purchase-orders/").json()["results"]) == 5


def test_supplier_list_query_count(buyer_api, supplier, tee_item, django_assert_num_queries):
    buyer_api.get("/api/v1/suppliers/")
    with django_assert_num_queries(2):  # suppliers with counts, their contacts
        buyer_api.get("/api/v1/suppliers/")
    SupplierFactory(code="MORE")
    with django_assert_num_queries(2):
        assert len(buyer_api.get("/api/v1/suppliers/").json()["results"]) == 2


def test_integration_reads_receipts(api, sent_po, tee, receive):
    receive(sent_po, tee, 2)
    response = api.get(f"/api/v1/purchasing/receipts/?purchase_order={sent_po.number}")
    assert response.status_code == 200 and len(response.json()["results"]) == 1


def test_customer_service_reads_purchase_orders_but_cannot_raise_them(role_groups):
    client = token_client(UserFactory(username="cs", roles=[roles.CUSTOMER_SERVICE]))
    assert client.get("/api/v1/purchase-orders/").status_code == 200
    assert client.post("/api/v1/purchase-orders/", {}, format="json").status_code == 403
