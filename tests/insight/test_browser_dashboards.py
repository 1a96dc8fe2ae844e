"""Every role's KPI dashboard in a real headless Chromium: the manager, finance and buyer
each open their own dashboard, click a tile through to the records behind it, download
those records as XLSX, come back and download that KPI's CSV (customer service and the warehouse have their own, longer
walks in test_browser_kpis.py and test_browser_kpis_stock.py).

The live server runs in another thread, so the tables are transactional (PostgreSQL)."""

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from io import BytesIO  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from django.urls import reverse  # noqa: E402
from openpyxl import load_workbook  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from erp import roles  # noqa: E402
from tests.browser import sign_in  # noqa: E402
from tests.factories.erp import UserFactory  # noqa: E402
from tests.insight.conftest import WEEKS_QUERY  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


@pytest.mark.parametrize(
    ("role", "slug", "title", "kpi", "name", "landing", "record"),
    [
        (
            roles.MANAGER,
            "manager",
            "Manager",
            "on_time_shipment_rate",
            "On-time shipment rate",
            "Orders",
            "on_time",
        ),
        (roles.FINANCE, "finance", "Finance", "return_rate", "Return rate", "Orders", "on_time"),
        (
            roles.BUYER,
            "buyer",
            "Buyer",
            "supplier_fill_rate",
            "Supplier fill rate",
            "Purchase orders",
            None,
        ),
    ],
)
def test_each_role_clicks_a_tile_to_its_records_and_exports_the_kpi(
    transactional_db,
    live_server,
    world,
    role_groups,
    browser_page,
    role,
    slug,
    title,
    kpi,
    name,
    landing,
    record,
):
    page = browser_page
    user = UserFactory(username=f"{slug}-dashboard", roles=[role])
    sign_in(page, live_server, user)
    page.goto(f"{live_server.url}{reverse('insight:home')}?{WEEKS_QUERY}")
    expect(page.get_by_role("heading", name=f"{title} KPIs")).to_be_visible()
    assert f"/insight/{slug}/" in page.url and "date_from=2026-11-02" in page.url

    tile = page.locator(f'a.tile[data-kpi="{kpi}"]')
    expect(tile).to_contain_text(name)
    tile.click()
    expect(page.get_by_role("heading", name=landing, exact=True)).to_be_visible()
    if record is not None:
        # The orders behind the figure: placed in the period, as the tile counted them.
        assert "placed_from=2026-11-02" in page.url and "placed_to=2026-11-15" in page.url
        expect(page.get_by_text(world[record].external_id)).to_be_visible()
    # The same records as a spreadsheet, the filters kept.
    with page.expect_download() as download:
        page.get_by_role("link", name="XLSX").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(BytesIO(Path(download.value.path()).read_bytes())).active
    cells = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert cells[0] and all(isinstance(title, str) for title in cells[0])
    if record is not None:
        assert world[record].external_id in {value for row in cells[1:] for value in row}

    page.go_back()
    expect(page.get_by_role("heading", name=f"{title} KPIs")).to_be_visible()
    with page.expect_download() as download:
        page.locator(f"#kpi-{kpi}").get_by_role("link", name="CSV").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0].endswith(f"{name} (percent)")
