"""A manager changes a routing rule, a return policy and an approval threshold in the
back office (real Chromium) and each takes effect on the next order, return and
adjustment; the history shows who changed what and why."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from erp.errors import ValidationFailed
from erp.models import ApprovalPolicy
from inventory.models import InventoryAdjustment
from returns.models import ReturnPolicy, Rma
from returns.services.rmas import create_rma
from tests.browser import assert_same_document, mark_document, sign_in
from tests.erp.settings_scenario import arrange, nodes_of

pytestmark = pytest.mark.browser


def _edit_in_browser(page, live_server, list_url, row_text, fields, reason):
    """Open a settings list, edit the row containing `row_text`, fill, give a reason,
    check the preview appeared, save; returns the record page's URL."""
    page.goto(f"{live_server.url}{list_url}")
    row = page.locator("#results tbody tr", has_text=row_text)
    row.get_by_role("link", name="Edit").click()
    for label, value in fields.items():
        # The label's text, and the required-field star after it when there is one.
        page.get_by_label(re.compile(rf"^{re.escape(label)}\*?$")).fill(value)
    expect(page.locator("#record-preview li").first).to_be_visible()
    page.get_by_label("Reason for this change").fill(reason)
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".flash")).to_contain_text("saved")


def _history_shows(page, username, reason):
    mark_document(page)
    page.get_by_role("tab", name="History").click()
    newest = page.locator(".history-entry").first
    expect(newest).to_contain_text("changed")
    expect(newest).to_contain_text(username)
    expect(newest).to_contain_text(reason)
    assert_same_document(page)


def test_a_manager_changes_a_rate_a_return_policy_and_a_threshold_and_each_applies_next(
    live_server, transactional_db, manager, integration_user, browser_page
):
    page = browser_page
    world = arrange(manager, integration_user)
    assert nodes_of(world.first_order) == {"EAST"}
    with pytest.raises(ValidationFailed) as refused:
        create_rma(order_id=world.old_order.pk, lines=[world.return_line], actor=manager)
    assert refused.value.errors[0].code == "outside_window"
    assert world.write_off_one().state == InventoryAdjustment.State.POSTED

    sign_in(page, live_server, manager)

    # 1. The routing rule: the east lane gets dearer than the west one.
    _edit_in_browser(
        page,
        live_server,
        reverse("orders:shipping-rate-list"),
        "us-east",
        {"Cost": "15.00"},
        "East carrier surcharge",
    )
    _history_shows(page, manager.username, "East carrier surcharge")
    assert nodes_of(world.next_order()) == {"WEST"}

    # 2. The return policy: a 60-day window accepts the same return.
    _edit_in_browser(
        page,
        live_server,
        reverse("returns:return-policy-list"),
        "SHOP",
        {"Window days": "60"},
        "Holiday returns extended",
    )
    _history_shows(page, manager.username, "Holiday returns extended")
    rma = create_rma(order_id=world.old_order.pk, lines=[world.return_line], actor=manager)
    assert Rma.objects.filter(pk=rma.pk, order=world.old_order).exists()
    assert ReturnPolicy.objects.get(channel=world.shop).history.first().history_user == manager

    # 3. The approval threshold: refused below zero, then lowered to 10.00.
    page.goto(f"{live_server.url}{reverse('approval-policy-list')}")
    page.locator("#results tbody tr", has_text="Write-off").get_by_role("link", name="Edit").click()
    mark_document(page)
    page.get_by_label("Approval needed above").fill("-1")
    page.get_by_label("Reason for this change").fill("testing")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#id_threshold_error")).to_contain_text("greater than or equal to 0")
    expect(page.locator(".form-errors")).to_contain_text("Nothing was saved")
    assert_same_document(page)
    assert ApprovalPolicy.objects.get(pk=world.write_off_policy.pk).threshold == Decimal("250.00")

    page.get_by_label("Approval needed above").fill("10.00")
    expect(page.locator("#record-preview")).to_contain_text(
        re.compile(r"changes from 250\.00 to 10\.00")
    )
    page.get_by_label("Reason for this change").fill("Shrink audit: approve every write-off")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".flash")).to_contain_text("saved")
    _history_shows(page, manager.username, "Shrink audit: approve every write-off")
    assert world.write_off_one().state == InventoryAdjustment.State.PENDING_APPROVAL
