"""Customer service works the hold queue in a real headless Chromium: an address fixed in
the inline form and a risk hold released with a note, each routing the order in place
(HTMX panels, no page load), driven from the keyboard."""

import os

# Playwright's sync API runs an event loop in this thread; the test still uses the ORM.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser import assert_same_document, mark_document, open_nav, sign_in  # noqa: E402

# The ledger table refuses DELETE on SQLite, so the transactional flush needs PostgreSQL.
pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def test_customer_service_fixes_an_address_and_releases_a_risky_order_without_reloading(
    live_server, transactional_db, cs_user, place, tee, east, stock, rates, browser_page
):
    page = browser_page
    stock(tee, east, 5)
    misaddressed = place([(tee, 1)], ship_line1="", order_number="#9001")
    risky = place([(tee, 2)], risk_score=Decimal("92"), order_number="#9002")
    confirmations = []
    page.on("dialog", lambda dialog: (confirmations.append(dialog.message), dialog.accept()))
    sign_in(page, live_server, cs_user)

    open_nav(page, "Exceptions")
    page.get_by_role("link", name="Orders on hold").click()
    expect(page.locator("#queue-results tbody tr")).to_have_count(2)
    page.locator(f"#order-{misaddressed.pk}").get_by_role("link", name="#9001").click()

    expect(page.locator("#order-holds")).to_contain_text("Missing street.")
    mark_document(page)
    page.keyboard.press("e")
    expect(page.get_by_label("Recipient")).to_be_focused()
    street = page.get_by_label("Street", exact=True)
    street.fill("42 Elm St")
    street.press("Enter")

    expect(page.locator("#order-header .state-badge")).to_have_text("Released")
    expect(page.locator("#order-lines .allocation")).to_contain_text("EAST × 1")
    expect(page.locator("#order-holds")).to_be_hidden()
    expect(page.locator("#order-ship-to address")).to_contain_text("42 Elm St")
    expect(page.locator("#order-timeline")).to_contain_text("Ship-to edited")
    assert_same_document(page)
    assert confirmations == ["Save this address for WEB/#9001? The order is validated again."]
    misaddressed.refresh_from_db()
    assert misaddressed.state == "released"

    page.goto(f"{live_server.url}{reverse('exception-queue', args=['orders-on-hold'])}")
    expect(page.locator("#queue-results tbody tr")).to_have_count(1)
    page.locator(f"#order-{risky.pk}").get_by_role("link", name="#9002").click()
    expect(page.locator("#order-holds")).to_contain_text("Risk above threshold")
    mark_document(page)
    page.keyboard.press("r")
    note = page.get_by_label("Note")
    expect(note).to_be_focused()
    note.press("Enter")

    expect(page.locator("#release-note_error")).to_have_text(
        "Say why this risk or payment hold is overridden."
    )
    expect(page.locator("#order-header .state-badge")).to_have_text("On hold")
    note = page.get_by_label("Note")
    expect(note).to_be_focused()
    note.fill("Called the card holder: genuine order")
    note.press("Enter")

    expect(page.locator("#order-header .state-badge")).to_have_text("Released")
    expect(page.locator("#order-lines .allocation")).to_contain_text("EAST × 2")
    expect(page.locator("#order-timeline")).to_contain_text("Called the card holder: genuine order")
    expect(page.locator("#order-header .action-done")).to_contain_text("Release done")
    assert_same_document(page)
    risky.refresh_from_db()
    assert risky.state == "released"
    assert risky.holds.get().resolution == "Called the card holder: genuine order"
