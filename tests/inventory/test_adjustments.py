from decimal import Decimal

import pytest

from erp.errors import NotPermitted, ValidationFailed
from erp.models import ApprovalRequest
from erp.services.approvals import decide_approval
from inventory.errors import InsufficientStock
from inventory.models import InventoryAdjustment, StockLedgerEntry
from inventory.services.adjustments import decide_adjustment, request_adjustment
from tests.factories import SkuFactory
from tests.inventory.conftest import balance

pytestmark = pytest.mark.django_db


@pytest.fixture
def cheap(db):
    return SkuFactory(code="CHEAP", unit_cost=Decimal("2.00"))


@pytest.fixture
def dear(db):
    return SkuFactory(code="DEAR", unit_cost=Decimal("300.00"))


def test_a_small_adjustment_posts_at_once(cheap, node, warehouse_user, stocked):
    stocked(cheap, node, 10)

    adjustment = request_adjustment(
        sku=cheap, location=node, quantity=-3, reason_code="count_variance", actor=warehouse_user
    )

    assert adjustment.state == "posted" and adjustment.value == Decimal("6.00")
    assert balance(cheap, node).on_hand == 7
    entry = StockLedgerEntry.objects.get(kind="adjustment")
    assert (entry.quantity, entry.actor, entry.reference) == (
        -3,
        warehouse_user,
        f"ADJ-{adjustment.pk}",
    )


def test_a_write_off_above_the_threshold_waits_for_a_manager(
    dear, node, warehouse_user, manager, stocked
):
    stocked(dear, node, 5)

    adjustment = request_adjustment(
        sku=dear,
        location=node,
        quantity=-1,
        reason_code="damage",
        actor=warehouse_user,
        note="forklift",
    )

    assert adjustment.state == "pending_approval"
    assert balance(dear, node).on_hand == 5
    request = ApprovalRequest.objects.get()
    assert (request.kind, request.amount, request.requested_by) == (
        "inventory_write_off",
        Decimal("300.00"),
        warehouse_user,
    )

    decide_adjustment(adjustment=adjustment, actor=manager, approve=True, note="ok")

    adjustment.refresh_from_db()
    assert adjustment.state == "posted"
    assert balance(dear, node).on_hand == 4
    assert StockLedgerEntry.objects.get(kind="disposal").actor == manager


def test_approving_your_own_adjustment_is_refused(dear, node, manager, stocked):
    stocked(dear, node, 5)
    adjustment = request_adjustment(
        sku=dear, location=node, quantity=-2, reason_code="shrink", actor=manager
    )

    with pytest.raises(NotPermitted) as caught:
        decide_adjustment(adjustment=adjustment, actor=manager, approve=True)

    assert caught.value.errors[0].code == "own_request"
    assert balance(dear, node).on_hand == 5


def test_a_warehouse_user_cannot_approve_a_write_off(dear, node, manager, warehouse_user, stocked):
    stocked(dear, node, 5)
    adjustment = request_adjustment(
        sku=dear, location=node, quantity=-2, reason_code="damage", actor=manager
    )

    with pytest.raises(NotPermitted):
        decide_adjustment(adjustment=adjustment, actor=warehouse_user, approve=True)

    assert InventoryAdjustment.objects.get().state == "pending_approval"


def test_rejecting_needs_a_reason_and_posts_nothing(dear, node, warehouse_user, manager, stocked):
    stocked(dear, node, 5)
    adjustment = request_adjustment(
        sku=dear, location=node, quantity=-2, reason_code="damage", actor=warehouse_user
    )

    with pytest.raises(ValidationFailed):
        decide_adjustment(adjustment=adjustment, actor=manager, approve=False)
    decide_adjustment(
        adjustment=adjustment, actor=manager, approve=False, note="found it on the shelf"
    )

    adjustment.refresh_from_db()
    assert adjustment.state == "rejected"
    assert balance(dear, node).on_hand == 5
    request = ApprovalRequest.objects.get()
    assert (request.state, request.decided_by, request.decision_note) == (
        "rejected",
        manager,
        "found it on the shelf",
    )


def test_a_decided_request_cannot_be_decided_again(
    dear, node, warehouse_user, manager, other_manager, stocked
):
    stocked(dear, node, 5)
    request_adjustment(
        sku=dear, location=node, quantity=-1, reason_code="damage", actor=warehouse_user
    )
    request = ApprovalRequest.objects.get()
    decide_approval(request_id=request.pk, actor=manager, approve=True)

    from erp.errors import Conflict

    with pytest.raises(Conflict):
        decide_approval(request_id=request.pk, actor=other_manager, approve=False, note="late")
    assert balance(dear, node).on_hand == 4


def test_adjustment_history_records_who_changed_what(dear, node, warehouse_user, manager, stocked):
    stocked(dear, node, 5)
    adjustment = request_adjustment(
        sku=dear, location=node, quantity=-1, reason_code="damage", actor=warehouse_user
    )
    decide_adjustment(adjustment=adjustment, actor=manager, approve=True)

    records = list(adjustment.history.order_by("history_id"))
    assert [r.history_user for r in records] == [warehouse_user, manager]
    changes = records[1].diff_against(records[0]).changes
    assert {(c.field, c.old, c.new) for c in changes if c.field == "state"} == {
        ("state", "pending_approval", "posted")
    }


def test_removing_more_than_on_hand_is_refused_before_approval(dear, node, warehouse_user, stocked):
    stocked(dear, node, 1)

    with pytest.raises(InsufficientStock):
        request_adjustment(
            sku=dear, location=node, quantity=-3, reason_code="damage", actor=warehouse_user
        )

    assert not InventoryAdjustment.objects.exists()
    assert not ApprovalRequest.objects.exists()


def test_an_adjustment_of_zero_or_with_an_unknown_reason_is_refused(cheap, node, warehouse_user):
    with pytest.raises(ValidationFailed):
        request_adjustment(
            sku=cheap, location=node, quantity=0, reason_code="damage", actor=warehouse_user
        )
    with pytest.raises(ValidationFailed):
        request_adjustment(
            sku=cheap, location=node, quantity=1, reason_code="whim", actor=warehouse_user
        )
    assert not InventoryAdjustment.objects.exists()
