"""The inventory back office in a real headless Chromium: a blind cycle count entered
with a keyboard-wedge scanner, closed by a manager; a write-off approved in the inbox.

These tests post ledger entries from a live server, so they need transactional tables;
SQLite's ledger triggers refuse the DELETE that empties them, PostgreSQL truncates.
"""

import os

# Playwright's sync API runs an event loop in this thread; the test still uses the ORM.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from erp.models import ApprovalRequest
from inventory.models import CycleCount, InventoryAdjustment
from inventory.services.adjustments import request_adjustment
from inventory.services.movements import receive_stock
from tests.browser import assert_same_document, mark_document, open_nav, sign_in
from tests.factories import LocationFactory, SkuFactory
from tests.inventory.conftest import balance

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

# The same headless Chromium the back-office browser tests use.


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Username")).to_be_visible()


def scan(page, typed: str):
    """What a keyboard-wedge scanner does: type the code fast, then press Enter."""
    page.keyboard.type(typed, delay=5)
    page.keyboard.press("Enter")


def test_a_warehouse_user_counts_with_a_scanner_and_a_manager_closes_the_count(
    live_server, transactional_db, warehouse_user, manager, browser_page
):
    page = browser_page
    node = LocationFactory(code="WH-EAST", name="East warehouse")
    tee = SkuFactory(code="TEE-01", name="Organic tee", barcode="0400000000017", unit_cost=2)
    mug = SkuFactory(code="MUG-01", name="Enamel mug", barcode="0400000000024", unit_cost=3)
    receive_stock(sku=tee, location=node, quantity=12, actor=manager)
    receive_stock(sku=mug, location=node, quantity=5, actor=manager)
    sign_in(page, live_server, warehouse_user)

    open_nav(page, "Counts")
    page.get_by_role("link", name="New count").click()
    page.get_by_label("Node").select_option("WH-EAST")
    page.get_by_role("button", name="Open count").click()
    page.wait_for_url(re.compile(r"/inventory/counts/\d+/$"))
    count = CycleCount.objects.get()
    mark_document(page)

    scan_input = page.get_by_label("Scan or type SKU")
    quantity = page.get_by_label("Units counted")
    expect(scan_input).to_be_focused()
    expect(page.get_by_role("columnheader", name="Expected")).to_have_count(0)

    scan(page, tee.barcode)
    expect(quantity).to_be_focused()
    expect(page.locator("#scan-hint")).to_contain_text("Organic tee")
    scan(page, "11")

    tee_line = page.locator(f"#count-line-{count.lines.get(sku=tee).pk}")
    expect(tee_line.locator("td").nth(2)).to_have_text("11")
    expect(page.locator("#scan-hint")).to_contain_text("Counted 11 × TEE-01")
    expect(page.get_by_label("Scan or type SKU")).to_be_focused()

    scan(page, "0999999999999")
    expect(page.locator(".scan-miss")).to_have_text("✕ 0999999999999 is not on this count.")
    expect(page.locator("#scan-form")).to_have_class(re.compile(r"\bscan-failed\b"))
    expect(page.get_by_label("Scan or type SKU")).to_be_focused()

    # The failed scan is selected, so the next scan replaces it.
    scan(page, mug.barcode)
    expect(page.get_by_label("Units counted")).to_be_focused()
    scan(page, "5")
    mug_line = page.locator(f"#count-line-{count.lines.get(sku=mug).pk}")
    expect(mug_line.locator("td").nth(2)).to_have_text("5")
    expect(page.locator("#count-lines")).to_contain_text("2 / 2")
    assert_same_document(page)
    assert dict(count.lines.values_list("sku__code", "counted")) == {"TEE-01": 11, "MUG-01": 5}

    sign_out(page)
    sign_in(page, live_server, manager)
    page.goto(f"{live_server.url}{reverse('count-detail', args=[count.pk])}")
    confirmations = []
    page.on("dialog", lambda dialog: (confirmations.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Close count").click()

    expect(page.locator(".flash")).to_contain_text(
        f"CNT-{count.pk} closed: 1 variance(s) became adjustments."
    )
    expect(page.get_by_role("columnheader", name="Expected")).to_be_visible()
    expect(tee_line.locator("td").nth(4)).to_have_text("-1")
    assert confirmations[0].startswith(f"Close CNT-{count.pk}?")
    adjustment = InventoryAdjustment.objects.get()
    assert (adjustment.quantity, adjustment.state) == (-1, "posted")
    assert balance(tee, node).on_hand == 11


def test_a_manager_approves_a_pending_write_off_in_the_inbox_and_the_stock_drops(
    live_server, transactional_db, warehouse_user, manager, browser_page
):
    page = browser_page
    node = LocationFactory(code="WH-EAST", name="East warehouse")
    laptop = SkuFactory(code="LAPTOP-14", name="Laptop 14", unit_cost=Decimal("300.00"))
    receive_stock(sku=laptop, location=node, quantity=10, actor=manager)
    request_adjustment(
        sku=laptop,
        location=node,
        quantity=-2,
        reason_code="damage",
        actor=warehouse_user,
        note="pallet dropped at the dock",
    )
    approval = ApprovalRequest.objects.get()
    sign_in(page, live_server, manager)

    open_nav(page, "Approvals")
    mark_document(page)
    row = page.locator(f"#approval-{approval.pk}")
    expect(row).to_contain_text("pallet dropped at the dock")
    expect(page.locator("#approval-stats .stat").first).to_contain_text("1")

    confirmations = []
    page.on("dialog", lambda dialog: (confirmations.append(dialog.message), dialog.accept()))
    row.get_by_label(f"Note on request #{approval.pk}").fill("photos checked")
    row.get_by_role("button", name="Approve").click()

    expect(row).to_contain_text("Approved")
    expect(row).to_contain_text("by you: photos checked")
    # The pending counter listens for queuesChanged and reloads itself.
    expect(page.locator("#approval-stats .stat").first).to_contain_text("0")
    assert_same_document(page)
    assert confirmations == [f"Approve #{approval.pk}: {approval.summary}?"]
    assert balance(laptop, node).on_hand == 8

    page.goto(f"{live_server.url}{reverse('stock-sku', args=[laptop.code])}")
    balances = page.locator("#balances tbody tr").first
    expect(balances.locator("td").nth(1)).to_have_text("8")
    expect(page.locator("#ledger tbody tr").first).to_contain_text("Disposal")
