"""The back office in a real headless Chromium: instant search, inline errors, history,
and a confirmed row action, all through HTMX against a live server."""

import os

# Playwright's sync API runs an event loop in this thread; the test still uses the ORM.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from erp.models import OutboxMessage, Sku
from tests.browser import assert_same_document, mark_document, open_nav, sign_in
from tests.factories import EndpointFactory, SkuFactory

pytestmark = pytest.mark.browser


def test_a_manager_finds_a_sku_fixes_a_refused_edit_and_sees_it_in_history(
    live_server, transactional_db, manager, browser_page
):
    page = browser_page
    sku = SkuFactory(code="TEE-ORGANIC-01", name="Organic tee", unit_cost=Decimal("4.5000"))
    # Faker's catch phrases may say "Organic": the other SKUs are named so none match.
    for number in range(5):
        SkuFactory(name=f"Plain mug {number}")
    sign_in(page, live_server, manager)

    open_nav(page, "SKUs")
    mark_document(page)
    page.get_by_role("searchbox", name="Search SKUs").fill("organic")

    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("TEE-ORGANIC-01")
    expect(page).to_have_url(re.compile(r"/skus/\?q=organic"))
    assert_same_document(page)

    rows.first.get_by_role("link", name="Edit").click()
    mark_document(page)
    page.get_by_label("Unit cost").fill("-2")
    page.get_by_label("Reason for this change").fill("supplier price list")
    page.get_by_role("button", name="Save changes").click()

    expect(page.locator("#id_unit_cost_error")).to_have_text(
        "Ensure this value is greater than or equal to 0."
    )
    expect(page.locator(".form-errors")).to_contain_text("Nothing was saved")
    assert_same_document(page)
    assert Sku.objects.get(pk=sku.pk).unit_cost == Decimal("4.5000")

    page.get_by_label("Unit cost").fill("5.25")
    page.get_by_role("button", name="Save changes").click()

    page.wait_for_url(f"{live_server.url}{reverse('sku-detail', args=[sku.pk])}")
    expect(page.locator(".flash")).to_contain_text("saved")
    assert Sku.objects.get(pk=sku.pk).unit_cost == Decimal("5.2500")

    mark_document(page)
    page.get_by_role("tab", name="History").click()

    newest = page.locator(".history-entry").first
    expect(newest).to_contain_text("changed")
    expect(newest).to_contain_text(manager.username)
    expect(newest.locator(".diff-row")).to_have_text(
        re.compile(r"Unit cost\s+4\.5000\s+→\s+5\.2500")
    )
    expect(page).to_have_url(re.compile(rf"/skus/{sku.pk}/history/$"))
    assert_same_document(page)


def test_a_manager_retries_a_failed_message_after_confirming(
    live_server, transactional_db, manager, browser_page
):
    page = browser_page
    message = OutboxMessage.objects.create(
        topic="availability.changed",
        endpoint=EndpointFactory(),
        payload={"sku": "TEE-01", "available": 3},
        dedupe_key="browser-test:1",
        state=OutboxMessage.State.FAILED,
        attempts=8,
        last_error="HTTP 503 from receiver",
        failed_at=timezone.now() - timedelta(hours=6),
    )
    sign_in(page, live_server, manager)
    page.goto(f"{live_server.url}{reverse('exception-queue', args=['integration-failures'])}")
    expect(page.locator("#queue-stats .stat").first).to_contain_text("1")
    mark_document(page)

    confirmations = []
    page.on("dialog", lambda dialog: (confirmations.append(dialog.message), dialog.accept()))
    row = page.locator(f"#outbox-message-{message.pk}")
    row.get_by_role("button", name="Retry").click()

    expect(row).to_contain_text("queued for delivery again")
    # The queue's counters listen for the queuesChanged event and reload themselves.
    expect(page.locator("#queue-stats .stat").first).to_contain_text("0")
    assert confirmations == [f"Retry message #{message.pk} to {message.endpoint.code} now?"]
    assert_same_document(page)
    message.refresh_from_db()
    assert message.resolved_by == manager
    assert message.state == OutboxMessage.State.PENDING


@pytest.mark.parametrize(
    "list_name", ["returns:list", "fulfillment:shipment-list", "fulfillment:slot-list"]
)
def test_leaving_a_search_box_does_not_send_the_search_again(
    live_server, transactional_db, manager, browser_page, list_name
):
    page = browser_page
    sign_in(page, live_server, manager)
    page.goto(f"{live_server.url}{reverse(list_name)}")
    search = page.get_by_role("searchbox")

    with page.expect_response(lambda response: "q=zz" in response.url):
        search.fill("zz")
    sent_again = []
    page.on(
        "request",
        lambda request: request.headers.get("hx-request") and sent_again.append(request.url),
    )
    search.blur()
    page.wait_for_timeout(600)

    assert sent_again == []
