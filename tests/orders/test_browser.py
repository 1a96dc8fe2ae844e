"""Customer service works the hold queue in a real headless Chromium: an address fixed in
the inline form and a risk hold released with a note, each routing the order in place
(HTMX panels, no page load), driven from the keyboard."""

import os

# Playwright's sync API runs an event loop in this thread; the test still uses the ORM.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connections
from django.urls import reverse
from playwright.sync_api import expect, sync_playwright

# The ledger table refuses DELETE on SQLite, so the transactional flush needs PostgreSQL.
pytestmark = [pytest.mark.browser, pytest.mark.postgres]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "pass-for-tests-1"


@pytest.fixture
def browser_page():
    if not CHROMIUM.exists():
        message = f"needs Chromium at {CHROMIUM}"
        if os.environ.get("ERP_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.set_default_timeout(15_000)
        yield page
        # The ORM opened its own connection inside Playwright's event-loop context; close
        # it before Playwright goes, or PostgreSQL refuses to drop the test database.
        connections.close_all()
        browser.close()


def sign_in(page, live_server, user):
    page.goto(f"{live_server.url}{reverse('login')}")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def mark_document(page):
    """Tag the loaded document; the tag survives HTMX swaps but not a full page load."""
    page.evaluate("window.__sameDocument = true")


def assert_same_document(page):
    assert page.evaluate("window.__sameDocument === true")


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

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Exceptions").click()
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
