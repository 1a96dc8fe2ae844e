"""The books in a real headless Chromium: finance signs in, opens the journal from the
nav, follows a shipment's posting to the document's postings, opens the margin page with
its chart and exports the CSV.

The server posts from another thread, so the tables are transactional (PostgreSQL)."""

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from django.urls import reverse  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from finance.models import JournalEntry  # noqa: E402
from fulfillment.models import Shipment  # noqa: E402
from tests.browser import open_nav, sign_in  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def test_finance_follows_a_shipment_to_its_postings_and_reads_the_margin(
    transactional_db, live_server, sale, finance_user, browser_page
):
    page = browser_page
    shipment = Shipment.objects.get(order=sale)
    entry = JournalEntry.objects.get(source_kind="shipment", source_id=shipment.pk)
    sign_in(page, live_server, finance_user)

    open_nav(page, "Journal")
    expect(page.get_by_role("heading", name="Journal")).to_be_visible()
    page.get_by_label("Document").select_option("shipment")
    page.get_by_role("button", name="Apply").click()
    row = page.locator("#journal-results tbody tr", has_text=shipment.number)
    expect(row).to_have_count(1)
    row.get_by_role("link", name=entry.number).click()
    expect(page.get_by_role("heading", name=entry.number)).to_be_visible()
    expect(page.locator("table")).to_contain_text("Cost of goods sold")

    page.locator("#document-postings").click()
    expect(
        page.get_by_role("heading", name=f"Postings of shipment {shipment.number}")
    ).to_be_visible()
    expect(page.get_by_role("link", name=entry.number)).to_be_visible()
    page.get_by_role("link", name="Open the shipment").click()
    assert page.url.endswith(reverse("fulfillment:shipment", args=[shipment.pk]))

    page.goto(f"{live_server.url}{reverse('finance:margin')}")
    expect(page.get_by_role("heading", name="Margin by channel")).to_be_visible()
    expect(page.locator("#margin-chart rect")).to_have_count(2)
    expect(page.locator("#margin-table tbody")).to_contain_text("23.00")
    page.locator("select[name=by]").select_option("sku")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("heading", name="Margin by sku")).to_be_visible()
    with page.expect_download() as download:
        page.locator("#margin-csv").click()
    csv_text = Path(download.value.path()).read_text(encoding="utf-8")
    assert csv_text.splitlines()[0].startswith("group,id,name")
    assert ",MUG," in csv_text and "28.00" in csv_text
