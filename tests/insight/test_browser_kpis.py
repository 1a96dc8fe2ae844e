"""A KPI dashboard in a real headless Chromium: customer service opens its dashboard for
a period, clicks the cancellation tile through to the orders behind it, comes back and
downloads the KPI's CSV.

The live server runs in another thread, so the tables are transactional (PostgreSQL)."""

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from django.urls import reverse  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from tests.browser import sign_in  # noqa: E402
from tests.insight.conftest import WEEKS_QUERY  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def test_customer_service_clicks_a_tile_to_its_orders_and_exports_the_csv(
    transactional_db, live_server, world, cs_user, browser_page
):
    page = browser_page
    sign_in(page, live_server, cs_user)
    page.goto(f"{live_server.url}{reverse('insight:home')}?{WEEKS_QUERY}")
    expect(page.get_by_role("heading", name="Customer service KPIs")).to_be_visible()
    tile = page.locator('a.tile[data-kpi="cancellation_rate"]')
    expect(tile).to_contain_text("20.0 %")
    expect(page.locator("#kpi-cancellation_rate svg.kpi-bars rect")).to_have_count(2)

    tile.click()
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()
    assert "state=cancelled" in page.url and "placed_from=2026-11-02" in page.url
    expect(page.get_by_text(world["cancelled"].external_id)).to_be_visible()
    expect(page.get_by_text(world["on_time"].external_id)).to_have_count(0)

    page.go_back()
    page.locator("select#id_channel").select_option("AMZ")
    expect(tile).to_contain_text("33.3 %")
    assert "channel=AMZ" in page.url
    with page.expect_download() as download:
        page.locator("#kpi-cancellation_rate").get_by_role("link", name="CSV").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines == ["Channel,numerator,denominator,Cancellation rate (percent)", "AMZ,1,3,33.3"]
