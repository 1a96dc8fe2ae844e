"""In Chromium: two customer-service people claim from one queue without collision, and a
refused payload is corrected and replayed into its order."""

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import json  # noqa: E402
import re  # noqa: E402

import pytest  # noqa: E402
from django.urls import reverse  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from erp.errors import ValidationFailed  # noqa: E402
from erp.models import QueueClaim  # noqa: E402
from orders.models import HoldReason, Order, OrderHold, OrderState  # noqa: E402
from orders.services.ingestion import record_ingestion_error  # noqa: E402
from tests.browser import VIEWPORT, chromium, sign_in  # noqa: E402
from tests.factories import (  # noqa: E402
    ChannelFactory,
    ChannelListingFactory,
    OrderFactory,
    SkuFactory,
    UserFactory,
)

pytestmark = pytest.mark.browser


def test_two_cs_people_claim_from_one_queue_and_the_second_is_told_who_has_it(
    live_server, transactional_db, role_groups
):
    ada = UserFactory(
        username="ada", first_name="Ada", last_name="Alpha", roles=["customer_service"]
    )
    bob = UserFactory(
        username="bob", first_name="Bob", last_name="Beta", roles=["customer_service"]
    )
    order = OrderFactory(state=OrderState.ON_HOLD, order_number="HELD-1")
    OrderHold.objects.create(order=order, reason=HoldReason.MANUAL, detail="check the address")
    url = f"{live_server.url}{reverse('exception-queue', args=['orders-on-hold'])}"

    with chromium() as browser:
        pages = []
        for user in (ada, bob):
            page = browser.new_context(viewport=VIEWPORT).new_page()
            page.set_default_timeout(15_000)
            sign_in(page, live_server, user)
            page.goto(url)
            expect(page.locator(f"#owner-{order.pk}")).to_contain_text("Unassigned")
            pages.append(page)
        ada_page, bob_page = pages

        ada_page.locator(f"#owner-{order.pk}").get_by_role("button", name="Claim").click()
        expect(ada_page.locator(f"#owner-{order.pk}")).to_contain_text("You")

        # Bob's page still offers the claim; the database decides.
        bob_page.locator(f"#owner-{order.pk}").get_by_role("button", name="Claim").click()
        expect(bob_page.locator(f"#owner-{order.pk} .inline-error")).to_contain_text(
            "Ada Alpha already has this item"
        )
        expect(bob_page.locator(f"#owner-{order.pk}")).to_contain_text("Ada Alpha")

        bob_page.get_by_label("Whose items").select_option("mine")
        expect(bob_page.locator("#queue-results")).to_contain_text("You have no items")
        ada_page.get_by_label("Whose items").select_option("mine")
        expect(ada_page.locator("#queue-results tbody tr")).to_have_count(1)
        expect(ada_page).to_have_url(re.compile(r"view=mine"))

    claim = QueueClaim.objects.get()
    assert (claim.queue_key, claim.object_id, claim.owner) == ("orders-on-hold", order.pk, ada)


def test_a_refused_payload_is_corrected_and_replayed_into_its_order(
    live_server, transactional_db, cs_user, browser_page
):
    channel = ChannelFactory(code="B2B", kind="b2b", currency="USD")
    ChannelListingFactory(channel=channel, sku=SkuFactory(code="OUR-TEE"), channel_sku="TEE-1")
    body = {
        "external_id": "PO-9",
        "placed_at": "2026-11-20T09:30:00Z",
        "currency": "USD",
        "payment_status": "captured",
        "ship_to": {
            "name": "Ada",
            "line1": "1 Main St",
            "city": "Chicago",
            "region": "IL",
            "postal_code": "60601",
            "country": "US",
        },
        "lines": [{"sku": "TEE-1", "quantity": 0, "unit_price": "10.00"}],
    }
    error = record_ingestion_error(
        channel_code="B2B",
        raw_body=json.dumps(body),
        error=ValidationFailed("quantity must be at least 1", field="lines[0].quantity"),
    )
    page = browser_page
    sign_in(page, live_server, cs_user)
    page.goto(f"{live_server.url}{reverse('exception-queue', args=['ingestion-errors'])}")
    page.get_by_role("link", name="Inspect · replay").click()

    page.get_by_role("button", name="Replay as received").click()
    expect(page.locator("#replay-errors")).to_contain_text("nothing was written")
    expect(page.locator("#replay-errors")).to_contain_text("lines[0].quantity")
    assert not Order.objects.exists()

    corrected = json.dumps({**body, "lines": [{**body["lines"][0], "quantity": 2}]}, indent=2)
    page.get_by_label("Payload (JSON)").fill(corrected)
    page.get_by_role("button", name="Replay edited payload").click()

    order = Order.objects.get()
    page.wait_for_url(f"{live_server.url}{reverse('orders:detail', args=[order.pk])}")
    expect(page.locator(".flash")).to_contain_text("replayed")
    expect(page.locator(".fact-origin")).to_contain_text("Replayed")
    assert order.lines.get().quantity == 2
    error.refresh_from_db()
    assert error.order == order and error.replayed_by == cs_user
