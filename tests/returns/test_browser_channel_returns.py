"""The "channel returns to match" queue in a real headless Chromium: customer service sees
why a Shopify refund was refused, and once the order is there tries it again from the row,
which answers in place (HTMX) with the RMA it opened."""

import os

# Playwright's sync API runs an event loop in this thread; the test still uses the ORM.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import pytest  # noqa: E402
from django.urls import reverse  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from returns.models import Refund, Rma, UnmatchedChannelReturn  # noqa: E402
from returns.services.channel_returns import import_channel_return  # noqa: E402
from tests.browser import assert_same_document, mark_document, sign_in  # noqa: E402
from tests.returns.channel_orders import shopify_refunded_order  # noqa: E402
from tests.returns.test_channel_returns import fixture_json  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_customer_service_tries_a_refused_refund_again_once_the_order_is_there(
    browser_page, live_server, cs_user, integration_user, shopify, node, soap, tee
):
    import_channel_return(
        channel=shopify, payload=fixture_json("shopify_refund_webhook.json"), actor=integration_user
    )
    page = browser_page
    confirmations = []
    page.on("dialog", lambda dialog: (confirmations.append(dialog.message), dialog.accept()))
    sign_in(page, live_server, cs_user)
    page.goto(f"{live_server.url}{reverse('exception-queue', args=['channel-returns-to-match'])}")
    row = page.locator("tr", has_text="930112233401")
    expect(row).to_contain_text("No SHOPIFY order 5841237402233.")
    expect(row).to_contain_text("order_id")
    page.screenshot(path="/tmp/channel_returns_queue.png", full_page=True)

    shopify_refunded_order(shopify, node, soap, tee)  # the order arrives
    mark_document(page)
    row.get_by_role("button", name="Try again").click()

    expect(row).to_contain_text("Settled")
    rma = Rma.objects.get()
    expect(row).to_contain_text(f"created ({rma.number})")
    assert_same_document(page)
    assert confirmations == ["Run 930112233401 again as SHOPIFY sent it?"]
    assert Refund.objects.get().external_reference == "930112233401"
    assert UnmatchedChannelReturn.objects.get().resolved_by == cs_user
    page.screenshot(path="/tmp/channel_returns_queue_done.png", full_page=True)
