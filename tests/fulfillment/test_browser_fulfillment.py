"""The warehouse floor in a real headless Chromium: a warehouse user builds a wave, picks
it with a keyboard-wedge scanner (one wrong barcode refused with the red flash and the
buzz), packs the order at the packing station, prints the label and confirms the
shipment; stock, the order and the channel's tracking upload follow.

These tests post ledger entries from a live server, so they need transactional tables;
SQLite's ledger triggers refuse the DELETE that empties them, PostgreSQL truncates.
"""

import os

# Playwright's sync API runs an event loop in this thread; the test still uses the ORM.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import re

import pytest
from playwright.sync_api import expect

from erp.models import OutboxMessage
from fulfillment.models import PickConfirmation, Shipment, Wave
from inventory.models import Reservation, StockLedgerEntry
from orders.models import OrderState
from tests.browser import assert_same_document, mark_document, open_nav, sign_in
from tests.fulfillment.test_views import build_floor, place

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

TEE_BARCODE, MUG_BARCODE = "0790000000011", "0790000000028"


def scan(page, typed: str):
    """What a keyboard-wedge scanner does: type the code fast, then press Enter."""
    page.keyboard.type(typed, delay=5)
    page.keyboard.press("Enter")


def test_a_warehouse_user_picks_packs_labels_and_ships_an_order_with_a_scanner(
    live_server, transactional_db, warehouse_user, manager, browser_page
):
    page = browser_page
    floor = build_floor(manager)
    order = place(floor, [(floor.tee, 2), (floor.mug, 1)], manager, order_number="114-7781")
    confirmations = []
    page.on("dialog", lambda dialog: (confirmations.append(dialog.message), dialog.accept()))
    sign_in(page, live_server, warehouse_user)

    # The dashboard: build the wave for the node.
    open_nav(page, "Fulfillment")
    expect(page.get_by_role("heading", name="Warehouse · WH-EAST")).to_be_visible()
    mark_document(page)
    page.get_by_role("button", name="Build waves").click()
    wave_row = page.locator("#waves-panel tbody tr").first
    expect(page.locator("#waves-panel")).to_contain_text("Built W")
    expect(wave_row).to_contain_text("0 / 2")
    assert_same_document(page)
    assert confirmations[0].startswith("Build waves of every order waiting to be picked at WH-EAST")
    wave = Wave.objects.get()

    # The wave, its pick list, and the scanner screen.
    wave_row.get_by_role("link", name=wave.number).click()
    page.get_by_role("link", name="Pick").click()
    page.wait_for_url(re.compile(r"/fulfillment/pick-lists/\d+/$"))
    mark_document(page)
    expect(page.locator("#next-task .slot")).to_have_text("A-01-1")
    expect(page.locator("#next-task .sku")).to_have_text("TEE-01")
    expect(page.get_by_label("Slot")).to_be_focused()

    # A wrong item: the mug's barcode at the tee's slot is refused, visibly and audibly.
    scan(page, "A-01-1")
    expect(page.get_by_label("Item barcode")).to_be_focused()
    scan(page, MUG_BARCODE)
    expect(page.get_by_label("Quantity")).to_be_focused()
    scan(page, "2")
    expect(page.locator("#pick-form")).to_have_class(re.compile(r"\bscan-failed\b"))
    expect(page.locator("#pick-form .scan-errors")).to_have_text(
        f"Wrong item: {MUG_BARCODE} is not TEE-01."
    )
    expect(page.locator("body")).to_have_class(re.compile(r"\bscan-flash\b"))
    expect(page.locator("body")).to_have_attribute("data-last-cue", "error")
    expect(page.get_by_label("Item barcode")).to_be_focused()
    assert not PickConfirmation.objects.exists()

    # The right item: the selected wrong scan is replaced by the next one.
    scan(page, TEE_BARCODE)
    expect(page.get_by_label("Quantity")).to_be_focused()
    scan(page, "2")
    expect(page.locator("#scan-panel")).to_contain_text("Picked 2 × TEE-01 from A-01-1.")
    expect(page.locator("body")).to_have_attribute("data-last-cue", "ok")
    expect(page.locator("#next-task .slot")).to_have_text("B-02-1")
    expect(page.get_by_label("Slot")).to_be_focused()
    expect(page.locator("#pick-progress")).to_contain_text("1 / 2")

    scan(page, "B-02-1")
    scan(page, MUG_BARCODE)
    scan(page, "1")
    expect(page.locator("#scan-panel")).to_contain_text("Pick list done")
    expect(page.locator("#pick-progress")).to_contain_text("2 / 2")
    assert_same_document(page)

    # The packing station: scan the order, weigh, pack.
    page.get_by_role("link", name="Packing station").click()
    expect(page.get_by_label("Scan the order")).to_be_focused()
    mark_document(page)
    scan(page, "114-7781")
    expect(page.locator("#pack-order")).to_contain_text("AMZ-US/114-7781")
    expect(page.locator("#box-suggestion")).to_contain_text("Suggested box: S1")
    expect(page.get_by_label("Box")).to_have_value("S1")
    expect(page.get_by_label("Weight (g)")).to_be_focused()
    scan(page, "910")
    expect(page.locator("#pack-station .panel-flash-ok")).to_contain_text("Packed PK")

    # The label: the service chosen, the alternatives considered, the PDF.
    page.get_by_role("button", name="Create label").click()
    label = page.locator(".shipment-label")
    expect(label).to_contain_text("POST:GROUND")
    expect(label).to_contain_text("UPSX:GROUND")
    expect(label.locator(".row-chosen")).to_contain_text("POST:GROUND")
    shipment = Shipment.objects.get()
    pdf_link = page.get_by_role("link", name="Label 4×6 (PDF)")
    pdf = page.request.get(f"{live_server.url}{pdf_link.get_attribute('href')}")
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body()[:4] == b"%PDF"

    # The parcel leaves.
    page.get_by_role("button", name="Confirm shipment").click()
    expect(page.locator("#pack-station .panel-flash-ok")).to_contain_text(
        f"{shipment.number} shipped with POST {shipment.tracking_number}"
    )
    expect(page.locator("#pack-station")).to_contain_text("Shipped")
    assert_same_document(page)
    assert confirmations[-1].startswith(f"Confirm that {shipment.number}")

    order.refresh_from_db()
    assert order.state == OrderState.SHIPPED
    reservations = Reservation.objects.filter(
        line_reference__in=[line.reference for line in order.lines.all()]
    )
    assert sorted(reservations.values_list("state", flat=True)) == ["consumed", "consumed"]
    shipped = StockLedgerEntry.objects.filter(kind="shipment", reference=shipment.number)
    assert sorted(shipped.values_list("sku__code", "quantity")) == [("MUG-01", -1), ("TEE-01", -2)]
    upload = OutboxMessage.objects.get(endpoint__code="amazon-tracking")
    assert upload.topic == "tracking.amazon"
    assert upload.payload["format"] == "amazon"
    assert shipment.tracking_number in str(upload.payload["request"])
