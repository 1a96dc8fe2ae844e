from datetime import timedelta

import pytest
from django.urls import reverse

from inventory.models import StockLedgerEntry
from purchasing.models import OverReceipt, PurchaseOrder, PurchaseOrderState, SupplierItem
from purchasing.services import escalation, purchase_orders
from tests.factories import SkuFactory
from tests.factories.purchasing import SupplierFactory, SupplierItemFactory
from tests.purchasing.conftest import line_of

S = PurchaseOrderState


def _add_po(supplier, dock, buyer, items):
    return purchase_orders.create_purchase_order(
        supplier=supplier,
        destination=dock,
        actor=buyer,
        lines=[{"sku": item.sku, "quantity": max(item.moq, item.pack_multiple)} for item in items],
    )


def test_po_list_queries_do_not_grow_with_rows(
    client, buyer, supplier, dock, tee_item, mug_item, django_assert_num_queries
):
    client.force_login(buyer)
    _add_po(supplier, dock, buyer, [tee_item, mug_item])
    url = reverse("purchasing:po-list")
    client.get(url)
    with django_assert_num_queries(6) as one:
        assert client.get(url).status_code == 200
    for _ in range(5):
        _add_po(supplier, dock, buyer, [tee_item, mug_item])
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(url)
    assert response.content.decode().count("PO-0") >= 6


def test_po_list_filters_by_state_and_supplier(client, buyer, sent_po, supplier, dock, tee_item):
    client.force_login(buyer)
    draft = _add_po(supplier, dock, buyer, [tee_item])
    body = client.get(reverse("purchasing:po-list"), {"state": "sent"}).content.decode()
    assert sent_po.number in body and draft.number not in body
    other = SupplierFactory(code="ELSE")
    body = client.get(reverse("purchasing:po-list"), {"supplier": other.code}).content.decode()
    assert sent_po.number not in body


def test_supplier_list_queries_do_not_grow(
    client, buyer, supplier, tee_item, django_assert_num_queries
):
    client.force_login(buyer)
    url = reverse("purchasing:supplier-list")
    client.get(url)
    with django_assert_num_queries(5) as one:
        client.get(url)
    for n in range(4):
        SupplierFactory(code=f"MORE{n}")
    with django_assert_num_queries(len(one.captured_queries)):
        assert client.get(url).content.decode().count("Supplier MORE") == 4


def test_supplier_detail_shows_the_price_list(client, buyer, supplier, tee_item, mug_item):
    client.force_login(buyer)
    body = client.get(reverse("purchasing:supplier-detail", args=[supplier.pk])).content.decode()
    assert "S-TEE" in body and "S-MUG" in body


def test_a_price_list_upload_with_a_bad_row_reports_it(client, buyer, supplier, tee_item):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(buyer)
    csv = b"sku,supplier_sku,unit_cost,lead_time_days,moq,pack_multiple\nTEE,T,2,1,1,1\nGHOST,G,1,1,1,1\n"
    response = client.post(
        reverse("purchasing:price-list-import", args=[supplier.pk]),
        {"file": SimpleUploadedFile("prices.csv", csv, content_type="text/csv")},
    )
    assert response.status_code == 400
    assert "Unknown SKU" in response.content.decode()
    assert SupplierItem.objects.get(sku=tee_item.sku).unit_cost == tee_item.unit_cost


def test_creating_a_po_in_the_back_office_shows_line_errors(
    client, buyer, supplier, dock, mug_item
):
    client.force_login(buyer)
    data = {
        "supplier": supplier.code,
        "destination": dock.code,
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-sku": "MUG",
        "lines-0-quantity": "13",
    }
    response = client.post(reverse("purchasing:po-create"), data)
    assert response.status_code == 200 and "packs of 6" in response.content.decode()
    assert not PurchaseOrder.objects.exists()
    data["lines-0-quantity"] = "18"
    response = client.post(reverse("purchasing:po-create"), data)
    assert response.status_code == 302
    assert PurchaseOrder.objects.get().lines.get().quantity_ordered == 18


def test_submit_approve_from_the_detail_page(client, buyer, manager, supplier, dock, tee_item):
    po = purchase_orders.create_purchase_order(
        supplier=supplier,
        destination=dock,
        actor=buyer,
        lines=[{"sku": tee_item.sku, "quantity": 3000}],
    )
    client.force_login(buyer)
    client.post(reverse("purchasing:po-submit", args=[po.pk]))
    po.refresh_from_db()
    assert po.state == S.SUBMITTED
    page = client.get(reverse("purchasing:purchaseorder-detail", args=[po.pk])).content.decode()
    assert "Waits for a manager" in page and 'id="po-decide"' not in page
    client.force_login(manager)
    inbox = client.get(reverse("approval-inbox")).content.decode()
    assert po.number in inbox and reverse("purchasing:purchaseorder-detail", args=[po.pk]) in inbox
    client.post(reverse("purchasing:po-decide", args=[po.pk]), {"decision": "approve", "note": ""})
    po.refresh_from_db()
    assert po.state == S.SENT


def test_cancel_without_reason_shows_the_error(client, buyer, supplier, dock, tee_item):
    po = _add_po(supplier, dock, buyer, [tee_item])
    client.force_login(buyer)
    response = client.post(reverse("purchasing:po-cancel", args=[po.pk]), {"reason": ""})
    assert response.status_code == 400 and "Say why" in response.content.decode()
    po.refresh_from_db()
    assert po.state == S.DRAFT


def test_po_files(client, buyer, sent_po):
    client.force_login(buyer)
    pdf = client.get(reverse("purchasing:po-file", args=[sent_po.pk, "pdf"]))
    assert pdf.content.startswith(b"%PDF")
    csv = client.get(reverse("purchasing:po-file", args=[sent_po.pk, "csv"]))
    assert b"TEE" in csv.content


def test_the_scanner_flow_books_a_receipt(client, warehouse_user, sent_po, tee, dock):
    client.force_login(warehouse_user)
    url = reverse("purchasing:receive")
    page = client.get(url, {"code": sent_po.number}).content.decode()
    assert "autofocus" in page and "TEE" in page
    page = client.get(url, {"po": sent_po.pk, "code": tee.barcode}).content.decode()
    assert 'id="receive-line-form"' in page
    line = line_of(sent_po, tee)
    response = client.post(
        reverse("purchasing:receive-line", args=[sent_po.pk]),
        {"line": line.pk, "scanned_code": tee.barcode, "quantity": "4"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and "4 × TEE into sellable" in response.content.decode()
    assert StockLedgerEntry.objects.get(sku=tee).quantity == 4


def test_the_scanner_refuses_an_over_receipt_and_offers_approval(
    client, warehouse_user, sent_po, tee
):
    client.force_login(warehouse_user)
    line = line_of(sent_po, tee)
    response = client.post(
        reverse("purchasing:receive-line", args=[sent_po.pk]),
        {"line": line.pk, "quantity": "12"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409 and 'id="over-receipt-form"' in response.content.decode()
    client.post(
        reverse("purchasing:over-receipt-request", args=[sent_po.pk, line.pk]),
        {"quantity": "2"},
        HTTP_HX_REQUEST="true",
    )
    assert OverReceipt.objects.get().quantity == 2
    assert not StockLedgerEntry.objects.exists()


def test_the_scanner_asks_expiry_for_expiry_tracked_skus(
    client, warehouse_user, supplier, dock, buyer
):
    yog = SkuFactory(code="YOG", lot_tracked=True, expiry_tracked=True)
    SupplierItemFactory(supplier=supplier, sku=yog)
    po = _add_po(supplier, dock, buyer, [SupplierItem.objects.get(sku=yog)])
    purchase_orders.submit_purchase_order(purchase_order=po, actor=buyer)
    client.force_login(warehouse_user)
    page = client.get(reverse("purchasing:receive"), {"po": po.pk, "code": "YOG"}).content.decode()
    assert 'name="expires_on"' in page and 'name="lot_code"' in page
    response = client.post(
        reverse("purchasing:receive-line", args=[po.pk]),
        {"line": po.lines.get().pk, "quantity": "1", "lot_code": "L1"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400 and "expiry" in response.content.decode()
    assert not StockLedgerEntry.objects.exists()


def test_receiving_on_a_cancelled_po_is_refused_by_the_scanner(
    client, warehouse_user, buyer, sent_po
):
    purchase_orders.cancel_purchase_order(purchase_order=sent_po, actor=buyer, reason="gone")
    client.force_login(warehouse_user)
    response = client.get(reverse("purchasing:receive"), {"code": sent_po.number})
    assert response.status_code == 409 and "cancelled" in response.content.decode()


def test_the_inbound_delayed_queue_lists_overdue_pos(client, buyer, sent_po):
    escalation.escalate_overdue_purchase_orders(today=sent_po.expected_date + timedelta(days=2))
    client.force_login(buyer)
    body = client.get(reverse("exception-queue", args=["inbound-delayed"])).content.decode()
    assert sent_po.number in body
    assert "Inbound delayed" in client.get(reverse("exceptions")).content.decode()


def test_buyers_see_purchasing_in_the_nav_and_finance_reads_without_buying(
    client, buyer, finance_user
):
    client.force_login(buyer)
    assert reverse("purchasing:po-list") in client.get(reverse("dashboard")).content.decode()
    client.force_login(finance_user)
    assert client.get(reverse("purchasing:po-list")).status_code == 200
    assert client.get(reverse("purchasing:po-create")).status_code == 403


def test_warehouse_staff_cannot_create_pos(client, warehouse_user):
    client.force_login(warehouse_user)
    assert client.get(reverse("purchasing:po-create")).status_code == 403


@pytest.mark.parametrize("name", ["purchasing:supplier-create", "purchasing:receive"])
def test_pages_open_for_a_manager(client, manager, name):
    client.force_login(manager)
    assert client.get(reverse(name)).status_code == 200


def test_a_draft_edit_page_prefills_its_lines(client, buyer, supplier, dock, tee_item):
    po = _add_po(supplier, dock, buyer, [tee_item])
    client.force_login(buyer)
    body = client.get(reverse("purchasing:po-edit", args=[po.pk])).content.decode()
    assert 'value="TEE"' in body
