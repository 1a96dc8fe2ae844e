"""A manager issues a channel-scoped API token in Chromium, copies the key shown once,
and the API then takes orders for that channel only; revoking the token ends it."""

import os

# Playwright's sync API runs an event loop in this thread; the test still uses the ORM.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import json  # noqa: E402

import httpx  # noqa: E402
import pytest  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from erp.models import ApiToken  # noqa: E402
from orders.models import IngestionError, Order  # noqa: E402
from tests.browser import sign_in  # noqa: E402
from tests.channel_samples import CHANNEL_FIXTURES  # noqa: E402
from tests.factories import ChannelFactory, ChannelListingFactory, SkuFactory  # noqa: E402

# The ledger table refuses DELETE on SQLite, so the transactional flush needs PostgreSQL.
pytestmark = [pytest.mark.browser, pytest.mark.postgres]

ORDER = (CHANNEL_FIXTURES / "orders" / "shopify_order.json").read_text()


def _channel(code, east, stock):
    channel = ChannelFactory(
        code=code, name=f"{code} store", kind="shopify", currency="USD", eligible_locations=[east]
    )
    for sku_code in ("TEE-BLK-M", "MUG-CER-12"):
        sku = SkuFactory(code=f"{code}-{sku_code}")
        ChannelListingFactory(channel=channel, sku=sku, channel_sku=sku_code)
        stock(sku, east, 10)
    return channel


def test_a_manager_scopes_a_token_to_one_channel_and_revokes_it(
    live_server, transactional_db, manager, east, rates, stock, browser_page
):
    shop = _channel("SHOP", east, stock)
    _channel("OTHER", east, stock)
    page = browser_page
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, live_server, manager)

    # The Settings section opens from the keyboard, as every section does.
    settings = page.get_by_role("navigation", name="Main").locator("summary", has_text="Settings")
    settings.focus()
    page.keyboard.press("Enter")
    tokens_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="API tokens")
    expect(tokens_link).to_be_visible()
    page.keyboard.press("Escape")
    expect(tokens_link).to_be_hidden()
    page.keyboard.press("Enter")
    tokens_link.click()

    page.get_by_role("link", name="New API token").click()
    page.get_by_label("Name").fill("Shop order sync")
    page.get_by_label("SHOP · SHOP store").check()
    page.get_by_label("Orders").select_option("write")
    page.get_by_role("button", name="Create token").click()

    expect(page.get_by_text("Copy this key now")).to_be_visible()
    key = page.get_by_label("Key").input_value()
    token = ApiToken.objects.get()
    assert key.startswith(token.prefix) and token.key_hash != key

    api = httpx.Client(
        base_url=live_server.url,
        headers={"Authorization": f"Token {key}", "Content-Type": "application/json"},
    )
    accepted = api.post("/api/v1/channels/SHOP/orders/", content=ORDER)
    assert accepted.status_code == 201, accepted.text
    refused = api.post("/api/v1/channels/OTHER/orders/", content=ORDER)
    assert refused.status_code == 403
    assert "outside this token's scope" in refused.json()["errors"][0]["message"]
    assert list(Order.objects.values_list("channel__code", flat=True)) == [shop.code]
    assert not IngestionError.objects.exists()

    # The key is shown once: the page reloaded no longer has it.
    page.reload()
    expect(page.get_by_label("Key")).to_have_count(0)

    page.get_by_label("Reason").nth(1).fill("connector retired")
    page.get_by_role("button", name="Revoke token").click()
    expect(page.locator(".flash")).to_contain_text("revoked")
    assert api.get("/api/v1/orders/").status_code == 401
    again = json.loads(ORDER) | {"id": 1}
    assert api.post("/api/v1/channels/SHOP/orders/", json=again).status_code == 401
    assert Order.objects.count() == 1
