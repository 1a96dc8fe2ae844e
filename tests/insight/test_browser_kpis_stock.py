"""The stock KPIs in a real headless Chromium: the warehouse opens its dashboard for the
constructed ledger's period, reads the stockout tile, clicks WH2's bar through to the SKUs
out of stock there, and exports the aging figure's CSV by node.

The live server runs in another thread, so the tables are transactional (PostgreSQL)."""

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from django.urls import reverse  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from tests.browser import sign_in  # noqa: E402
from tests.insight.test_kpis_stock import ledger  # noqa: E402, F401  the constructed ledger

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
PERIOD_QUERY = "date_from=2026-11-02&date_to=2026-11-11"


@pytest.mark.usefixtures("ledger")
def test_the_warehouse_clicks_a_stockout_bar_to_the_skus_out_there(
    transactional_db, live_server, warehouse_user, browser_page
):
    page = browser_page
    sign_in(page, live_server, warehouse_user)
    page.goto(f"{live_server.url}{reverse('insight:dashboard', args=['warehouse'])}?{PERIOD_QUERY}")
    tile = page.locator('a.tile[data-kpi="stockout_rate"]')
    expect(tile).to_contain_text("38.9 %")
    expect(page.locator('a.tile[data-kpi="inventory_turns"]')).to_contain_text("1.07")

    page.locator('#kpi-stockout_rate a.kpi-bar[data-node="WH2"]').click()
    expect(page.get_by_role("heading", name="WH2")).to_be_visible()
    assert "/inventory/nodes/WH2/" in page.url and "out=1" in page.url
    expect(page.locator("#node-results").get_by_role("link", name="SHOE")).to_be_visible()
    expect(page.locator("#node-results").get_by_role("link", name="HAT")).to_have_count(0)

    page.go_back()
    with page.expect_download() as download:
        page.locator("#kpi-aged_stock_rate").get_by_role("link", name="CSV").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines == [
        "Node,numerator,denominator,Aged stock (percent)",
        "WH1,4,14,28.6",
        "WH2,0,3,0.0",
    ]
