"""The settings flow over HTTP (the back office's own HTMX requests): a manager changes a
routing rule, a return policy and an approval threshold, sees the preview before saving,
and each change applies to the next order, return and adjustment, with history."""

from decimal import Decimal

import pytest
from django.urls import reverse

from erp.errors import ValidationFailed
from erp.models import ApprovalPolicy
from inventory.models import InventoryAdjustment
from orders.models import ShippingRate
from returns.models import ReturnPolicy
from returns.services.rmas import create_rma
from tests.erp.settings_scenario import arrange, nodes_of

pytestmark = pytest.mark.django_db(transaction=True)
HTMX = {"HTTP_HX_REQUEST": "true"}


def _history(client, url_name, pk):
    response = client.get(reverse(url_name, args=[pk]), **HTMX)
    return response.context["history"].entries[0].record


def test_each_setting_changed_in_the_back_office_applies_to_the_next_order_return_and_adjustment(
    client, manager, integration_user
):
    world = arrange(manager, integration_user)
    assert nodes_of(world.first_order) == {"EAST"}
    client.force_login(manager)

    # The routing rule: preview, then save; the next order ships from the west.
    rate = world.east_rate
    data = {"origin_region": "us-east", "zone": "mid", "cost": "15.00", "transit_days": 3}
    preview = client.post(reverse("orders:shipping-rate-preview", args=[rate.pk]), data, **HTMX)
    assert "1 unshipped order(s) ship to an area of zone mid." in preview.content.decode()
    assert "Nodes shipping from us-east: EAST" in preview.content.decode()
    saved = client.post(
        reverse("orders:shipping-rate-edit", args=[rate.pk]),
        {**data, "reason": "East carrier surcharge"},
        **HTMX,
    )
    assert saved["HX-Redirect"] == reverse("orders:shipping-rate-detail", args=[rate.pk])
    entry = _history(client, "orders:shipping-rate-history", rate.pk)
    assert (entry.history_user, entry.history_change_reason) == (manager, "East carrier surcharge")
    assert nodes_of(world.next_order()) == {"WEST"}

    # The return policy: refused at 30 days, accepted at 60.
    with pytest.raises(ValidationFailed):
        create_rma(order_id=world.old_order.pk, lines=[world.return_line], actor=manager)
    policy = ReturnPolicy.objects.get(channel=world.shop)
    form = {
        "window_days": 60,
        "receipt_expected_days": 14,
        "return_shipping_paid_by": "buyer",
        "restocking_fee_percent": "0",
        "refund_timing": "on_receipt",
    }
    preview = client.post(reverse("returns:return-policy-preview", args=[policy.pk]), form, **HTMX)
    assert "applies to 0 open RMA(s) of all of SHOP" in preview.content.decode()
    client.post(
        reverse("returns:return-policy-edit", args=[policy.pk]),
        {**form, "reason": "Holiday returns extended"},
        **HTMX,
    )
    entry = _history(client, "returns:return-policy-history", policy.pk)
    assert (entry.history_user, entry.history_change_reason) == (
        manager,
        "Holiday returns extended",
    )
    assert create_rma(order_id=world.old_order.pk, lines=[world.return_line], actor=manager).pk

    # The approval threshold: a write-off under it posts; lowered, the next one waits.
    assert world.write_off_one().state == InventoryAdjustment.State.POSTED
    threshold = world.write_off_policy
    form = {"label": "Write-off", "threshold": "10.00", "active": "on"}
    preview = client.post(
        reverse("approval-policy-preview", args=[threshold.pk]), form, **HTMX
    ).content.decode()
    assert "The threshold changes from 250.00 to 10.00." in preview
    client.post(
        reverse("approval-policy-edit", args=[threshold.pk]),
        {**form, "reason": "Shrink audit"},
        **HTMX,
    )
    entry = _history(client, "approval-policy-history", threshold.pk)
    assert (entry.history_user, entry.history_change_reason) == (manager, "Shrink audit")
    assert world.write_off_one().state == InventoryAdjustment.State.PENDING_APPROVAL
    assert ShippingRate.objects.get(pk=rate.pk).cost == Decimal("15.00")
    assert ApprovalPolicy.objects.get(pk=threshold.pk).threshold == Decimal("10.00")
