"""Finance in a real headless Chromium: uploads the three sample settlements (Amazon flat
file V2, Shopify payout, eBay Finances), sees the orders matched on each, opens the
settlement variances queue and accepts Shopify's fee difference with a note; the
acceptance is posted to the settlement variance account.

The live server posts journal entries, so the tables are transactional (PostgreSQL)."""

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from decimal import Decimal  # noqa: E402

import pytest  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from finance.models import Settlement, SettlementVariance, VarianceKind, VarianceState  # noqa: E402
from finance.services.settlements import import_settlement  # noqa: E402
from tests.browser import open_nav, sign_in  # noqa: E402
from tests.factories.erp import ChannelFactory  # noqa: E402
from tests.factories.settlements import FIXTURES, booked_order, booked_refund, fixture  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
D = Decimal


@pytest.fixture
def books(transactional_db, finance_user):
    amazon = ChannelFactory(code="AMZ", name="Amazon US", kind="amazon", fee_rate=D("0.15"))
    shop = ChannelFactory(code="SHOP", name="Shopify", kind="shopify", fee_rate=D("0.0320"))
    ebay = ChannelFactory(code="EBAY", name="eBay", kind="ebay", fee_rate=D("0.1320"))
    booked_order(amazon, "112-4829304-5566021", sale="58.47", tax="5.00", fee="8.77")
    booked_order(amazon, "114-7730021-3349812", sale="19.99", tax="1.65")
    refunded = booked_order(amazon, "113-1029384-7712093", sale="24.99", tax="2.06")
    import_settlement(
        channel=amazon,
        source="",
        data=fixture("amazon_settlement_v2_previous.tsv"),
        actor=finance_user,
    )
    booked_refund(refunded, "27.05")
    booked_order(shop, "5841237409851", sale="102.14", fee="3.26")
    booked_order(shop, "5841237409877", sale="55.10")  # 1.76 expected, 1.90 charged
    # Refunded here, but its sale was paid in a payout never imported: amount mismatch.
    returned = booked_order(shop, "5841237402233", sale="8.56", fee="0")
    booked_refund(returned, "8.56")
    booked_order(ebay, "27-11842-90315", sale="65.48", tax="6.14", fee="9.45")
    return amazon, shop, ebay


def _upload(page, channel_label: str, file_name: str, matched: str):
    open_nav(page, "Settlements")
    page.get_by_label("Channel").first.select_option(label=channel_label)
    page.locator("#id_file").set_input_files(str(FIXTURES / file_name))
    page.get_by_role("button", name="Upload and reconcile").click()
    # The import job runs (a Celery task; eager here) and the page shows where it went.
    page.get_by_role("link", name="Open settlement").click()
    expect(page.locator("#orders-matched")).to_have_text(matched)


def test_finance_uploads_the_three_samples_and_accepts_a_variance(
    books, finance_user, live_server, browser_page
):
    page = browser_page
    sign_in(page, live_server, finance_user)
    _upload(page, "AMZ · Amazon US", "amazon_settlement_v2.tsv", "3 / 3")
    expect(page.get_by_text("REVERSAL_REIMBURSEMENT").first).to_be_visible()
    _upload(page, "SHOP · Shopify", "shopify_balance_transactions.json", "1 / 3")
    expect(page.get_by_text("Fee differs from the expected fee")).to_be_visible()
    _upload(page, "EBAY · eBay", "ebay_finances_transactions.json", "1 / 2")
    expect(page.get_by_text("Order not found")).to_be_visible()

    # The list shows all three (plus the earlier Amazon settlement), with open variances.
    open_nav(page, "Settlements")
    expect(page.locator("#settlement-results tbody tr")).to_have_count(4)

    open_nav(page, "Exceptions")
    page.get_by_role("link", name="Settlement variances").first.click()
    fee = SettlementVariance.objects.get(kind=VarianceKind.FEE_MISMATCH)
    row = page.locator(f"#variance-{fee.pk}")
    expect(row).to_contain_text("Fee differs from the expected fee")
    row.get_by_placeholder("Note (required)").fill("Shopify charges 30c per charge on top")
    row.get_by_role("button", name="Accept").click()
    expect(page.locator(f"#variance-{fee.pk}")).to_contain_text("Accepted")
    expect(page.locator(f"#variance-{fee.pk}")).to_contain_text("JE-")

    fee.refresh_from_db()
    assert fee.state == VarianceState.ACCEPTED and fee.decided_by == finance_user
    lines = {line.account.role: line for line in fee.journal_entry.lines.select_related("account")}
    assert lines["settlement_variance"].debit == D("0.14")
    assert lines["clearing"].credit == D("0.14")
    assert Settlement.objects.count() == 4
