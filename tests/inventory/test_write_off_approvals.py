"""Write-offs always go through the approvals policy, whatever starts them, and the value
that decides it does not depend on a figure the requester can change first."""

from decimal import Decimal

import pytest

from erp.models import ApprovalRequest
from erp.services.approvals import decide_approval
from erp.services.master_data import update_sku
from inventory.models import InventoryAdjustment, StockLedgerEntry
from inventory.services.adjustments import request_adjustment
from inventory.services.transfers import (
    close_transfer_with_discrepancy,
    create_transfer,
    receive_transfer,
)
from tests.conftest import token_client
from tests.inventory.conftest import balance

pytestmark = pytest.mark.django_db


def _transfer_with_missing_units(sku, node, second_node, warehouse_user, stocked, *, missing):
    stocked(sku, node, 20)
    transfer = create_transfer(
        from_location=node,
        to_location=second_node,
        lines=[{"sku": sku, "quantity": 10}],
        actor=warehouse_user,
    )
    line = transfer.lines.get()
    receive_transfer(
        transfer_id=transfer.pk, received={line.pk: 10 - missing}, actor=warehouse_user
    )
    return transfer


def test_units_missing_from_a_transfer_wait_for_a_managers_write_off_above_the_threshold(
    sku, node, second_node, warehouse_user, manager, stocked
):
    sku.unit_cost = Decimal("100.00")  # 3 missing × 100 = 300 > the 250 write-off threshold
    sku.save()
    transfer = _transfer_with_missing_units(
        sku, node, second_node, warehouse_user, stocked, missing=3
    )

    close_transfer_with_discrepancy(transfer_id=transfer.pk, actor=warehouse_user, note="lost")

    adjustment = InventoryAdjustment.objects.get()
    assert (adjustment.state, adjustment.quantity, adjustment.value) == (
        "pending_approval",
        -3,
        Decimal("300.00"),
    )
    assert balance(sku, second_node, "in_transit").on_hand == 0
    assert balance(sku, second_node, "quarantine").on_hand == 3  # held, not gone yet
    request = ApprovalRequest.objects.get(state="pending")
    assert request.kind == "inventory_write_off"

    decide_approval(request_id=request.pk, actor=manager, approve=True, note="")

    assert balance(sku, second_node, "quarantine").on_hand == 0
    assert StockLedgerEntry.objects.filter(kind="disposal", quantity=-3).count() == 1


def test_a_small_transfer_loss_is_written_off_at_once(
    sku, node, second_node, warehouse_user, stocked
):
    transfer = _transfer_with_missing_units(
        sku, node, second_node, warehouse_user, stocked, missing=2
    )

    close_transfer_with_discrepancy(transfer_id=transfer.pk, actor=warehouse_user, note="lost")

    assert InventoryAdjustment.objects.get().state == "posted"
    assert not ApprovalRequest.objects.exists()
    assert balance(sku, second_node, "quarantine").on_hand == 0
    assert balance(sku, second_node, "in_transit").on_hand == 0


def test_lowering_the_cost_first_does_not_shrink_a_write_off_below_approval(
    sku, node, integration_user, stocked
):
    sku.unit_cost = Decimal("17.773")
    sku.save()
    stocked(sku, node, 100)
    update_sku(sku=sku, actor=integration_user, data={"unit_cost": Decimal("0.01")})
    sku.refresh_from_db()

    adjustment = request_adjustment(
        sku=sku,
        location=node,
        quantity=-100,
        reason_code="shrink",
        actor=integration_user,
    )

    assert adjustment.state == "pending_approval"
    assert adjustment.value == Decimal("1777.30")
    assert balance(sku, node).on_hand == 100


def test_the_same_holds_over_the_api(sku, node, integration_user, stocked):
    sku.unit_cost = Decimal("17.773")
    sku.save()
    stocked(sku, node, 100)
    api = token_client(integration_user)
    assert api.patch(f"/api/v1/skus/{sku.code}/", {"unit_cost": "0.01"}).status_code == 200

    response = api.post(
        "/api/v1/stock/adjustments/",
        {"sku": sku.code, "location": node.code, "quantity": -100, "reason_code": "shrink"},
    )

    assert response.status_code == 201, response.json()
    assert (response.json()["state"], response.json()["value"]) == ("pending_approval", "1777.30")
    assert balance(sku, node).on_hand == 100
