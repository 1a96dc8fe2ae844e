"""The planner's morning in real headless Chromium: proposals grouped by supplier, a
quantity off the pack refused, another accepted, a line dropped, the proposal accepted
into a draft PO that opens from the flash."""

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import re  # noqa: E402

import pytest  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

from purchasing.models import Proposal, PurchaseOrder  # noqa: E402
from tests.browser import open_nav, sign_in  # noqa: E402
from tests.factories import SkuFactory  # noqa: E402
from tests.factories.purchasing import SupplierFactory, SupplierItemFactory  # noqa: E402
from tests.purchasing.planning import run, ship_weekly  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def test_a_planner_reviews_proposals_and_accepts_one_into_a_draft_po(
    live_server, transactional_db, planner, node, browser_page
):
    page = browser_page
    acme = SupplierFactory(code="ACME", name="Acme Supply")
    globex = SupplierFactory(code="GLOBEX", name="Globex")
    tee, mug, cap = SkuFactory(code="TEE-B"), SkuFactory(code="MUG-B"), SkuFactory(code="CAP-B")
    SupplierItemFactory(supplier=acme, sku=tee, preferred=True, moq=6, pack_multiple=6)
    SupplierItemFactory(supplier=acme, sku=mug, preferred=True)
    SupplierItemFactory(supplier=globex, sku=cap, preferred=True)
    for sku in (tee, mug, cap):
        ship_weekly(sku, node, [7, 7, 7, 7], planner)
    run(planner)
    proposal = Proposal.objects.get(supplier=acme)
    tee_line = proposal.lines.get(sku=tee)
    mug_line = proposal.lines.get(sku=mug)

    sign_in(page, live_server, planner)
    open_nav(page, "Replenishment")
    expect(page.get_by_role("heading", name="Reorder proposals")).to_be_visible()
    expect(page.locator('[data-supplier="ACME"]')).to_contain_text("Acme Supply")
    expect(page.locator('[data-supplier="GLOBEX"]')).to_contain_text("CAP-B")
    row = page.locator(f"#line-{tee_line.pk}")
    expect(row).to_contain_text("reorder point 10")

    row.get_by_label("Quantity of TEE-B").fill("20")
    row.get_by_role("button", name="Set").click()
    row = page.locator(f"#line-{tee_line.pk}")
    expect(row.get_by_role("alert")).to_contain_text("packs of 6")
    row.get_by_label("Quantity of TEE-B").fill("24")
    row.get_by_role("button", name="Set").click()
    expect(page.locator(".flash")).to_contain_text("TEE-B: 24 to order.")

    page.locator(f"#line-{mug_line.pk}").get_by_role("button", name="Drop MUG-B").click()
    expect(page.locator(".flash")).to_contain_text("MUG-B dropped")
    expect(page.locator(f"#line-{mug_line.pk}")).to_have_count(0)

    page.locator(f"#proposal-{proposal.pk}").get_by_role("button", name="Accept → draft PO").click()
    expect(page.locator(".flash")).to_contain_text(f"Proposal {proposal.pk} accepted: draft PO-")
    expect(page.locator(f"#proposal-{proposal.pk}")).to_have_count(0)
    expect(page.locator('[data-supplier="GLOBEX"]')).to_be_visible()

    po = PurchaseOrder.objects.get()
    assert po.state == "draft" and po.supplier == acme and po.destination == node
    assert list(po.lines.values_list("sku__code", "quantity_ordered")) == [("TEE-B", 24)]
    page.goto(f"{live_server.url}/purchasing/orders/{po.pk}/")
    expect(page.get_by_role("heading", name=re.compile(po.number))).to_be_visible()
    expect(page.locator("#po-lines")).to_contain_text("TEE-B")
