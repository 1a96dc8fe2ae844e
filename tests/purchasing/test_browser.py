"""A buyer's day in a real headless Chromium: a PO raised and submitted, approved by a
manager and sent, then a partial receipt scanned at the dock re-routes a backordered order."""

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import re  # noqa: E402
from decimal import Decimal  # noqa: E402

import pytest  # noqa: E402
from django.db import transaction  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from erp.models import OutboxMessage  # noqa: E402
from orders.models import ChannelOrderPolicy, ShippingRate, ShippingZone  # noqa: E402
from orders.services.evaluation import evaluate_order  # noqa: E402
from purchasing.models import PurchaseOrder  # noqa: E402
from tests.browser import open_nav, sign_in  # noqa: E402
from tests.factories import (  # noqa: E402
    ChannelFactory,
    EndpointFactory,
    LocationFactory,
    OrderFactory,
    OrderLineFactory,
    SkuFactory,
)
from tests.factories.purchasing import SupplierFactory, SupplierItemFactory  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def scan(page, typed: str):
    page.keyboard.type(typed, delay=5)
    page.keyboard.press("Enter")


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Username")).to_be_visible()


def test_po_approved_sent_then_a_partial_receipt_reroutes_a_backorder(
    live_server, transactional_db, buyer, manager, warehouse_user, cs_user, browser_page
):
    page = browser_page
    east = LocationFactory(code="EAST", name="East warehouse", region="us-east")
    tee = SkuFactory(
        code="TEE-01", name="Organic tee", barcode="0400000000017", unit_cost=Decimal("9")
    )
    EndpointFactory(code="supplier-mail", url="https://mailer.example.com/po")
    supplier = SupplierFactory(code="ACME", name="Acme Supply")
    SupplierItemFactory(
        supplier=supplier, sku=tee, unit_cost=Decimal("4.00"), moq=100, pack_multiple=50
    )
    web = ChannelFactory(code="WEB", eligible_locations=[east])
    ChannelOrderPolicy.objects.create(channel=web)
    ShippingZone.objects.create(country="US", postal_prefix="6", zone="mid")
    ShippingRate.objects.create(
        origin_region="us-east", zone="mid", cost=Decimal("6"), transit_days=3
    )
    order = OrderFactory(channel=web)
    waiting = OrderLineFactory(order=order, sku=tee, quantity=2)
    with transaction.atomic():
        evaluate_order(order=order, actor=cs_user)
    order.refresh_from_db()
    assert order.state == "backordered"

    # The buyer raises the PO: 1,500 × 4.00 = 6,000, above the 5,000 approval threshold.
    sign_in(page, live_server, buyer)
    open_nav(page, "Purchase orders")
    page.get_by_role("link", name="New purchase order").click()
    page.get_by_label("Supplier").select_option("ACME")
    page.get_by_label("Ship to").select_option("EAST")
    page.get_by_label("Line SKU").first.fill("TEE-01")
    page.get_by_label("Line quantity").first.fill("1510")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".errorlist").first).to_contain_text("packs of 50")
    page.get_by_label("Line quantity").first.fill("1500")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r"/purchasing/orders/\d+/$"))
    po = PurchaseOrder.objects.get()
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("h1")).to_contain_text("Waiting for approval")
    sign_out(page)

    # A manager approves it from the approvals inbox; it goes to the supplier by e-mail.
    sign_in(page, live_server, manager)
    open_nav(page, "Approvals")
    page.get_by_role("link", name=re.compile(po.number)).first.click()
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("h1")).to_contain_text("Sent")
    assert OutboxMessage.objects.filter(topic="purchasing.purchase_order_email").count() == 1
    sign_out(page)

    # The dock scans the PO, then the SKU, and books 300 of 1,500: a partial receipt.
    sign_in(page, live_server, warehouse_user)
    open_nav(page, "Purchase orders")
    page.locator(".page-head").get_by_role("link", name="Receive").click()
    scan_input = page.locator("#scan-code")
    expect(scan_input).to_be_focused()
    scan(page, po.number)
    expect(page.locator("#receive-lines")).to_contain_text("TEE-01")
    expect(page.locator("#scan-code")).to_be_focused()
    scan(page, tee.barcode)
    quantity = page.get_by_label("Quantity")
    expect(quantity).to_be_focused()
    quantity.fill("300")
    quantity.press("Enter")
    expect(page.locator("#receive-panel")).to_contain_text("300 × TEE-01 into sellable")
    expect(page.locator("#scan-code")).to_be_focused()
    expect(page.locator("#receive-panel h2")).to_contain_text("Partially received")

    po.refresh_from_db()
    assert po.state == "partially_received"
    order.refresh_from_db()
    waiting.refresh_from_db()
    assert waiting.state != "backordered"
    assert order.state in ("allocated", "released")
