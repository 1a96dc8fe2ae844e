"""The rest of a buyer's day in a real headless Chromium: a drop-ship order line becomes a
supplier PO and ships on the supplier's confirmation (the external-shipment API, over HTTP
with a token); a return to vendor closes with a credit note."""

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import json  # noqa: E402
import re  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402
from decimal import Decimal  # noqa: E402

import pytest  # noqa: E402
from django.db import transaction  # noqa: E402
from django.db.models import Sum  # noqa: E402
from playwright.sync_api import expect  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from erp.models import Location, OutboxMessage  # noqa: E402
from finance.models import JournalEntry, JournalLine  # noqa: E402
from inventory.models import StockBalance, StockLedgerEntry, StockStatus  # noqa: E402
from orders.models import DropshipSource, OrderState  # noqa: E402
from orders.services.evaluation import evaluate_order  # noqa: E402
from purchasing.models import PurchaseOrder, PurchaseOrderState, ReturnToVendor  # noqa: E402
from purchasing.services.sending import ORDER_EMAIL_TOPIC  # noqa: E402
from returns.services.inspection import inspect_return  # noqa: E402
from returns.services.receiving import receive_return  # noqa: E402
from returns.services.rmas import create_rma  # noqa: E402
from tests.browser import open_nav, sign_in  # noqa: E402
from tests.factories import (  # noqa: E402
    ChannelFactory,
    EndpointFactory,
    LocationFactory,
    OrderFactory,
    OrderLineFactory,
    SkuFactory,
)
from tests.factories.fulfillment import (  # noqa: E402
    CarrierFactory,
    CarrierServiceFactory,
    ChannelFulfillmentPolicyFactory,
)
from tests.factories.purchasing import SupplierFactory, SupplierItemFactory  # noqa: E402
from tests.factories.returns import (  # noqa: E402
    ReturnPolicyFactory,
    ReturnReasonFactory,
    ShippedLine,
    shipped_order,
)

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
S = PurchaseOrderState


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Username")).to_be_visible()


def post_json(url: str, body: dict, token: str) -> tuple[int, dict]:
    """POST as an integration would: JSON over HTTP, authenticated by its API token."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_a_drop_ship_line_becomes_a_supplier_po_and_ships_on_the_suppliers_confirmation(
    live_server, transactional_db, buyer, cs_user, integration_user, browser_page
):
    page = browser_page
    EndpointFactory(code="supplier-mail", url="https://mailer.example.com/po")
    node = LocationFactory(code="DS-ACME", name="Acme drop-ship", kind=Location.Kind.DROPSHIP)
    acme = SupplierFactory(code="ACME-DS", name="Acme Drop-ship", dropship_location=node)
    sofa = SkuFactory(code="SOFA-01", name="Three-seat sofa")
    DropshipSource.objects.create(sku=sofa, location=node, cost=Decimal("80.00"))
    SupplierItemFactory(supplier=acme, sku=sofa, unit_cost=Decimal("80.00"), lead_time_days=3)
    warehouse = LocationFactory(code="WH-DS", priority=1)
    web = ChannelFactory(code="WEB-DS", kind="b2b", eligible_locations=[warehouse])
    ChannelFulfillmentPolicyFactory(channel=web)
    CarrierServiceFactory(
        carrier=CarrierFactory(code="UPS", name="UPS", tracking_pattern=r"1Z[0-9A-Z]{16}"),
        code="GROUND",
        name="UPS Ground",
    )
    order = OrderFactory(channel=web, customer_email="buyer@example.com")
    line = OrderLineFactory(order=order, sku=sofa, quantity=1)

    # Routing sends the line to the supplier's node; purchasing raises and sends the PO.
    with transaction.atomic():
        evaluate_order(order=order, actor=cs_user)
    po = PurchaseOrder.objects.get()
    assert (po.kind, po.supplier, po.state) == ("drop_ship", acme, S.SENT)
    assert list(po.lines.values_list("sku__code", "quantity_ordered", "reference")) == [
        ("SOFA-01", 1, f"OL-{line.pk}")
    ]
    message = OutboxMessage.objects.get(topic=ORDER_EMAIL_TOPIC)
    assert message.payload["purchase_order"]["number"] == po.number

    # The buyer finds the drop-ship PO by the order's number and sees the order's line.
    sign_in(page, live_server, buyer)
    open_nav(page, "Purchase orders")
    page.get_by_label("Search purchase orders").fill(order.external_id)
    results = page.locator("#po-results")
    expect(results.get_by_role("row")).to_have_count(2)  # the header and the one PO
    expect(results).to_contain_text("drop-ship")
    results.get_by_role("link", name=po.number).click()
    page.wait_for_url(re.compile(rf"/purchasing/orders/{po.pk}/$"))
    expect(page.locator("h1")).to_contain_text("Sent")
    expect(page.locator(".po-reference")).to_contain_text(
        f"Drop-ship for order {order.external_id}"
    )
    expect(page.locator("#po-lines")).to_contain_text("SOFA-01")
    expect(page.locator("#po-lines")).to_contain_text(f"OL-{line.pk}")

    # The supplier confirms the shipment through the API, as an integration would: a bad
    # tracking number is refused with nothing written, the real one ships the line.
    token = Token.objects.create(user=integration_user).key
    url = f"{live_server.url}/api/v1/external-shipments/"
    body = {
        "channel": "WEB-DS",
        "external_id": order.external_id,
        "location": "DS-ACME",
        "carrier": "UPS",
        "service": "GROUND",
        "tracking_number": "NOT-A-UPS-NUMBER",
        "lines": [{"line_id": line.pk, "quantity": 1}],
    }
    status, answer = post_json(url, body, token)
    assert status == 400, answer
    order.refresh_from_db()
    assert order.state != OrderState.SHIPPED
    status, answer = post_json(url, {**body, "tracking_number": "1Z0000000000000042"}, token)
    assert status == 201, answer
    assert (answer["source"], answer["location"]) == ("external", "DS-ACME")

    po.refresh_from_db()
    order.refresh_from_db()
    assert po.state == S.CLOSED
    assert po.lines.get().quantity_received == 1
    assert order.state == OrderState.SHIPPED
    assert OutboxMessage.objects.filter(topic__startswith="tracking.").count() == 1
    # The units were never ours: no stock moved.
    assert not StockLedgerEntry.objects.exists()

    page.reload()
    expect(page.locator("h1")).to_contain_text("Closed")
    expect(page.locator("#po-lines")).to_contain_text("SOFA-01")
    sign_out(page)

    # Customer service sees the order shipped, with the supplier's tracking number.
    sign_in(page, live_server, cs_user)
    open_nav(page, "Orders")
    page.get_by_label("Search orders").fill(order.external_id)
    page.locator("#order-results").get_by_role("link", name=order.external_id).click()
    page.wait_for_url(re.compile(rf"/orders/{order.pk}/$"))
    expect(page.locator("#order-header h1")).to_contain_text("Shipped")
    expect(page.locator("#order-timeline")).to_contain_text("1Z0000000000000042")
    expect(page.locator("#order-timeline")).to_contain_text("DS-ACME")


def _quarantined(sku, location) -> int:
    row = StockBalance.objects.filter(
        sku=sku, location=location, status=StockStatus.QUARANTINE
    ).first()
    return row.on_hand if row else 0


def test_an_rtv_ships_quarantined_units_back_and_closes_with_a_credit_note(
    live_server, transactional_db, buyer, cs_user, warehouse_user, browser_page
):
    page = browser_page
    supplier = SupplierFactory(code="ACME", name="Acme Textiles")
    node = LocationFactory(code="RET-A")
    shop = ChannelFactory(code="SHOP", kind="shopify", eligible_locations=[node])
    ReturnPolicyFactory(channel=shop, window_days=30, refund_timing="on_receipt")
    defective = ReturnReasonFactory(code="defective", label="Defective", our_fault=True)
    tee = SkuFactory(code="TEE", product_family="apparel", unit_cost=Decimal("8.00"))
    order = shipped_order(shop, [ShippedLine(tee, 3, Decimal("20.00"))], location=node)

    # Returns: the customer sends back three tees; inspection sends two back to the
    # supplier (quarantine plus a supplier claim) and keeps nothing else in quarantine.
    rma = create_rma(
        order_id=order.pk,
        lines=[{"order_line_id": order.lines.get().pk, "quantity": 2, "reason": defective.code}],
        actor=cs_user,
    )
    rma_line = rma.lines.get()
    receive_return(
        rma_id=rma.pk,
        location=node,
        lines=[{"rma_line_id": rma_line.pk, "quantity": 2}],
        actor=warehouse_user,
    )
    inspect_return(
        rma_id=rma.pk,
        results=[
            {
                "rma_line_id": rma_line.pk,
                "quantity": 2,
                "grade": "defective",
                "disposition": "return_to_vendor",
                "supplier": "ACME",
            }
        ],
        actor=warehouse_user,
    )
    assert _quarantined(tee, node) == 2
    defect = supplier.defects.get()
    assert (defect.sku, defect.quantity) == (tee, 2)
    claim_amount = (defect.quantity * defect.unit_cost).quantize(Decimal("0.01"))
    assert claim_amount > 0

    # The buyer opens an RTV for the claim on the supplier's page.
    sign_in(page, live_server, buyer)
    open_nav(page, "Purchase orders")
    page.get_by_role("link", name="Suppliers").first.click()
    page.get_by_role("link", name="ACME", exact=True).click()
    rtv_panel = page.locator("#supplier-rtv")
    expect(rtv_panel).to_contain_text("TEE")
    rtv_panel.get_by_role("button", name="Open RTV").click()
    rtv = ReturnToVendor.objects.get()
    expect(page.locator(f"#rtv-{rtv.pk}")).to_contain_text("Waiting for the supplier")

    # The supplier authorizes it; the buyer records that, ships it back, and books the
    # credit note: a wrong amount is refused first, with nothing changed.
    page.get_by_label(f"Authorization of {rtv.number}").fill("ACME-RMA-77")
    page.locator(f"#rtv-{rtv.pk}").get_by_role("button", name="Authorized").click()
    expect(page.locator(f"#rtv-{rtv.pk}")).to_contain_text("ACME-RMA-77")
    page.locator(f"#rtv-{rtv.pk}").get_by_role("button", name="Ship back").click()
    expect(page.locator(f"#rtv-{rtv.pk}")).to_contain_text("Shipped back")
    assert _quarantined(tee, node) == 0
    entries = StockLedgerEntry.objects.filter(reference=rtv.number)
    assert list(entries.values_list("sku__code", "status", "quantity")) == [
        ("TEE", "quarantine", -2)
    ]

    page.get_by_label(f"Credit note of {rtv.number}").fill("CN-501")
    page.get_by_label(f"Credit amount of {rtv.number}").fill("-5")
    page.locator(f"#rtv-{rtv.pk}").get_by_role("button", name="Record credit").click()
    expect(page.get_by_text("nothing was changed")).to_be_visible()
    rtv.refresh_from_db()
    assert rtv.state == ReturnToVendor.State.SHIPPED
    page.get_by_label(f"Credit note of {rtv.number}").fill("CN-501")
    page.get_by_label(f"Credit amount of {rtv.number}").fill(str(claim_amount))
    page.locator(f"#rtv-{rtv.pk}").get_by_role("button", name="Record credit").click()
    row = page.locator(f"#rtv-{rtv.pk}")
    expect(row).to_contain_text("Credited")
    expect(row).to_contain_text("CN-501")

    rtv.refresh_from_db()
    assert (rtv.state, rtv.credit_note_ref, rtv.credit_amount) == (
        ReturnToVendor.State.CREDITED,
        "CN-501",
        claim_amount,
    )
    # Finance: the ship-back and the credit note each post once; the supplier-credit
    # receivable the ship-back opened is cleared by the credit note.
    postings = JournalEntry.objects.filter(source_kind="rtv", source_id=rtv.pk)
    assert sorted(postings.values_list("event", flat=True)) == [
        "purchasing.rtv_shipped",
        "purchasing.supplier_credit_recorded",
    ]
    credit_lines = JournalLine.objects.filter(
        entry__in=postings, account__role="supplier_credit"
    ).aggregate(debit=Sum("debit"), credit=Sum("credit"))
    assert credit_lines == {"debit": claim_amount, "credit": claim_amount}
