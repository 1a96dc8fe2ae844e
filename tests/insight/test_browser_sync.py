"""Sync health and CSV export in a real headless Chromium: a manager opens sync health,
sees the stale channel in red, opens it, retries its failed messages in one action, then
exports the order list filtered by that channel.

The server runs in another thread, so the tables are transactional (PostgreSQL)."""

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import csv  # noqa: E402
import io  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from django.urls import reverse  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from erp.models import OutboxMessage  # noqa: E402
from tests.browser import sign_in  # noqa: E402
from tests.factories import OrderFactory  # noqa: E402
from tests.insight.sync_data import received_order, synced_channel  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def test_a_manager_retries_a_stale_channel_and_exports_its_orders(
    transactional_db, live_server, manager, browser_page
):
    page = browser_page
    shop = synced_channel("SHOP")
    calm = synced_channel("CALM")
    received_order(shop.channel, minutes_ago=5)
    received_order(calm.channel, minutes_ago=5)
    OrderFactory(channel=calm.channel, external_id="CALM-ORDER")
    shop.failed(shop.tracking_message, age_minutes=600, error="HTTP 401: token expired")
    shop.failed(shop.refund_message, age_minutes=600)
    sign_in(page, live_server, manager)

    page.goto(f"{live_server.url}{reverse('insight:sync-health')}")
    expect(page.get_by_role("heading", name="Channel sync health")).to_be_visible()
    stale_row = page.locator('tr[data-channel="SHOP"]')
    expect(stale_row).to_have_class("row-breached")
    expect(stale_row.locator('[data-direction="tracking_out"] .badge-danger')).to_have_text("Stale")
    expect(page.locator('tr[data-channel="CALM"]')).not_to_have_class("row-breached")
    # The red is the stylesheet's, not just a class name.
    color = stale_row.locator(".badge-danger").first.evaluate("el => getComputedStyle(el).color")
    assert color == "rgb(185, 28, 28)"

    stale_row.get_by_role("link", name="SHOP").click()
    expect(page.get_by_role("heading", name="Sync health · SHOP")).to_be_visible()
    expect(page.locator("#channel-sync-directions")).to_contain_text("HTTP 401: token expired")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Retry all failed messages (2)").click()
    expect(page.get_by_text("2 failed messages of SHOP queued again.")).to_be_visible()
    assert not OutboxMessage.objects.filter(state="failed").exists()

    page.goto(f"{live_server.url}{reverse('orders:list')}?channel=CALM")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
    assert sorted(row["External id"] for row in rows)[0] == "CALM-ORDER"
    assert {row["Channel"] for row in rows} == {"CALM"}
    assert len(rows) == 2
