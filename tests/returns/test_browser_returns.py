"""A return in a real headless Chromium, from the customer's call to the money going back:
customer service authorizes an RMA for a shipped 2-unit order line (a line without a
reason refused inline first), the warehouse scans the parcel at the dock and inspects the
two units (one restocked, one disposed), customer service requests the refund, and a
manager approves the write-off and the refund side by side in the approvals inbox. Stock,
the ledger (with actors and reasons) and the channel's refund message show the result.

These tests post ledger entries from a live server, so they need transactional tables;
SQLite's ledger triggers refuse the DELETE that empties them, PostgreSQL truncates.
"""

import os

# Playwright's sync API runs an event loop in this thread; the test still uses the ORM.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import re  # noqa: E402
from decimal import Decimal  # noqa: E402

import pytest  # noqa: E402
from django.urls import reverse  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from erp.models import ApprovalRequest, OutboxMessage  # noqa: E402
from inventory.models import InventoryAdjustment, StockLedgerEntry  # noqa: E402
from returns.models import Refund, Rma  # noqa: E402
from tests.browser import assert_same_document, mark_document, open_nav, sign_in  # noqa: E402
from tests.factories import ChannelFactory, EndpointFactory, LocationFactory, SkuFactory  # noqa: E402
from tests.factories.returns import (  # noqa: E402
    ReturnPolicyFactory,
    ReturnReasonFactory,
    ShippedLine,
    shipped_order,
)
from tests.returns.conftest import on_hand  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def scan(page, typed: str):
    """What a keyboard-wedge scanner does: type the code fast, then press Enter."""
    page.keyboard.type(typed, delay=5)
    page.keyboard.press("Enter")


def switch_user(page, live_server, user):
    page.context.clear_cookies()
    sign_in(page, live_server, user)


@pytest.fixture
def shipped_blenders(transactional_db):
    """SHOP (Shopify) shipped order 1001 from RET-A: 2 blenders at 400.00 + 32.00 tax
    each. The policy refunds after inspection and confirms refunds to `shop-refunds`; a
    blender costs 300.00, above the 250.00 write-off threshold."""
    node = LocationFactory(code="RET-A", name="Returns dock A")
    shop = ChannelFactory(code="SHOP", kind="shopify", eligible_locations=[node])
    ReturnPolicyFactory(
        channel=shop,
        refund_timing="after_inspection",
        refund_endpoint=EndpointFactory(code="shop-refunds"),
    )
    ReturnReasonFactory(code="changed_mind", label="Changed mind / no longer needed")
    blender = SkuFactory(
        code="BLENDER",
        name="Countertop blender",
        product_family="kitchen",
        unit_cost=Decimal("300.00"),
    )
    order = shipped_order(
        shop,
        [ShippedLine(blender, 2, Decimal("400.00"), tax=Decimal("64.00"))],
        location=node,
        order_number="1001",
    )
    return order, blender, node


def test_a_return_is_authorized_received_inspected_refunded_and_written_off(
    live_server, shipped_blenders, cs_user, warehouse_user, manager, browser_page
):
    page = browser_page
    order, blender, node = shipped_blenders
    line = order.lines.get()
    confirmations = []
    page.on("dialog", lambda dialog: (confirmations.append(dialog.message), dialog.accept()))

    # Customer service: from the order page to a new RMA.
    sign_in(page, live_server, cs_user)
    page.goto(f"{live_server.url}{reverse('orders:detail', args=[order.pk])}")
    page.get_by_role("link", name="Create RMA").click()
    expect(page.get_by_role("heading", name="New RMA")).to_be_visible()
    row = page.locator(f"#rma-line-{line.pk}")
    expect(row.locator("td").nth(4)).to_have_text("2")  # shipped 2, none returned yet
    mark_document(page)
    page.get_by_label("Units of line 1").fill("2")
    page.get_by_label("Return label").fill("1ZRET0001")
    page.get_by_role("button", name="Create RMA").click()
    expect(row).to_contain_text("Choose a return reason.")
    expect(page.locator("#rma-create .form-errors")).to_contain_text("Nothing was changed.")
    assert_same_document(page)
    assert not Rma.objects.exists()

    page.get_by_label("Reason for line 1").select_option("changed_mind")
    page.get_by_role("button", name="Create RMA").click()
    expect(page.locator("#rma-header h1")).to_contain_text("Authorized")
    rma = Rma.objects.get()
    expect(page.locator("#rma-header h1")).to_contain_text(rma.number)
    expect(page.locator(".flash")).to_contain_text(f"{rma.number} authorized: 2 units")
    assert confirmations == [f"Authorize the return of these units of {order}?"] * 2

    # The warehouse: the parcel scanned at the dock, counted, booked into inspection.
    switch_user(page, live_server, warehouse_user)
    open_nav(page, "Returns")
    page.get_by_role("navigation", name="Returns").get_by_role("link", name="Dock").click()
    scan_input = page.get_by_label("Scan the RMA or the order")
    expect(scan_input).to_be_focused()
    mark_document(page)
    scan(page, rma.number)
    expect(page.locator("#dock-rma")).to_contain_text("Changed mind / no longer needed")
    expect(page.get_by_label("Units of BLENDER received")).to_be_focused()
    scan(page, "2")
    expect(page.locator("#dock-station .panel-flash")).to_have_text(
        f"✓ Received 2 units on {rma.number} into inspection at RET-A."
    )
    expect(page.locator("#last-receipt")).to_contain_text("as expected")
    expect(scan_input).to_be_focused()
    assert_same_document(page)
    assert confirmations[-1] == f"Book what you counted into inspection at RET-A on {rma.number}?"
    assert on_hand(blender, node, "inspection") == 2

    # Inspection: one unit like new back on the shelf, one damaged and disposed.
    page.get_by_role("link", name=f"Inspect {rma.number}").click()
    item = rma.received_items.get()
    bench = page.locator(f"#inspect-item-{item.pk}")
    expect(bench).to_contain_text("2 of 2 waiting")
    mark_document(page)
    bench.get_by_label("Units").fill("1")
    bench.get_by_label("Condition").select_option("like_new")
    bench.get_by_label("Disposition").select_option("restock")
    bench.get_by_role("button", name="Record").click()
    expect(page.locator("#inspection .panel-flash-ok")).to_have_text(
        "✓ 1 × BLENDER like new: restocked, sellable now."
    )
    expect(bench).to_contain_text("1 of 2 waiting")
    bench.get_by_label("Units").fill("1")
    bench.get_by_label("Condition").select_option("damaged")
    bench.get_by_label("Disposition").select_option("dispose")
    bench.get_by_label("Note").fill("cracked jar")
    bench.get_by_role("button", name="Record").click()
    expect(page.locator("#inspection .panel-flash-ok")).to_have_text(
        "✓ 1 × BLENDER damaged: disposal waiting for manager approval."
    )
    expect(page.locator("#inspection-done")).to_contain_text("Waiting for manager approval")
    expect(page.locator("#inspection-waiting")).to_contain_text("Every received unit is inspected.")
    assert_same_document(page)
    assert (on_hand(blender, node, "sellable"), on_hand(blender, node, "inspection")) == (1, 1)

    # Customer service asks for the money back: the breakdown, then the request.
    switch_user(page, live_server, cs_user)
    page.goto(f"{live_server.url}{reverse('returns:detail', args=[rma.pk])}")
    quote = page.locator("#refund-quote")
    expect(quote).to_contain_text("2 × BLENDER")
    expect(quote).to_contain_text("800.00")
    expect(quote).to_contain_text("64.00")
    expect(quote.locator("dd.total")).to_have_text("864.00 USD")
    mark_document(page)
    page.get_by_role("button", name="Request refund").click()
    expect(page.locator("#rma-header .action-done")).to_contain_text(
        "waits for a manager's approval"
    )
    refund = Refund.objects.get()
    expect(page.locator(f"#refund-{refund.pk}")).to_contain_text("Waiting for approval")
    assert_same_document(page)

    # The manager: the write-off and the refund together in the approvals inbox.
    switch_user(page, live_server, manager)
    open_nav(page, "Approvals")
    expect(page.locator("#approval-results tbody tr")).to_have_count(2)
    write_off = InventoryAdjustment.objects.get()
    write_off_request = ApprovalRequest.objects.get(kind="inventory_write_off")
    refund_request = ApprovalRequest.objects.get(kind="refund")
    write_off_row = page.locator(f"#approval-{write_off_request.pk}")
    refund_row = page.locator(f"#approval-{refund_request.pk}")
    expect(write_off_row).to_contain_text("-1 × BLENDER at RET-A (Damaged)")
    expect(write_off_row).to_contain_text(f"{rma.number}: cracked jar")
    expect(refund_row).to_contain_text(
        f"Refund {refund.number} · {rma.number} · SHOP order 1001 · 2 units "
        "(Changed mind / no longer needed)"
    )
    expect(refund_row).to_contain_text("864.00")
    mark_document(page)
    write_off_row.get_by_role("button", name="Approve").click()
    expect(write_off_row).to_contain_text("Approved")
    refund_row.get_by_role("button", name="Approve").click()
    expect(refund_row).to_contain_text("Approved")
    assert_same_document(page)

    # The refund's link leads to the RMA page: posted, and told to the channel.
    refund_row.get_by_role("link", name=re.compile(f"Refund {refund.number}")).click()
    card = page.locator(f"#refund-{refund.pk}")
    expect(card).to_contain_text("Posted")
    expect(card).to_contain_text("refund.shopify")
    expect(card).to_contain_text("shop-refunds")
    expect(page.locator("#rma-inspections")).to_contain_text("Written off")

    # Stock: one more sellable unit, the disposed one gone; every movement in the ledger.
    assert (on_hand(blender, node, "sellable"), on_hand(blender, node, "inspection")) == (1, 0)
    entries = StockLedgerEntry.objects.filter(sku=blender).order_by("pk")
    assert [(e.kind, e.status, e.quantity, e.actor.username) for e in entries] == [
        ("return_receipt", "inspection", 2, "warehouse-user"),
        ("status_change", "inspection", -1, "warehouse-user"),
        ("status_change", "sellable", 1, "warehouse-user"),
        ("disposal", "inspection", -1, "manager-user"),
    ]
    receipt, *moves, disposal = entries
    assert (receipt.reference, receipt.reason) == (rma.number, "return changed_mind")
    assert {move.reference for move in moves} == {rma.number}
    assert all("restock" in move.reason for move in moves)
    assert (disposal.reference, disposal.reason) == (f"ADJ-{write_off.pk}", "Damaged")
    write_off.refresh_from_db()
    assert (write_off.state, write_off.requested_by, write_off.quantity) == (
        "posted",
        warehouse_user,
        -1,
    )
    write_off_request.refresh_from_db()
    assert (write_off_request.state, write_off_request.decided_by) == ("approved", manager)

    # Money: the refund posted, and its confirmation waits in the outbox for Shopify.
    refund.refresh_from_db()
    assert (refund.state, refund.amount, refund.requested_by) == (
        "posted",
        Decimal("864.00"),
        cs_user,
    )
    message = OutboxMessage.objects.get()
    assert refund.outbox_message == message
    assert (message.topic, message.endpoint.code, message.payload["format"]) == (
        "refund.shopify",
        "shop-refunds",
        "shopify",
    )
    rma.refresh_from_db()
    assert rma.state == "inspected"
