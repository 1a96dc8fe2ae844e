"""Inspection and disposition: each disposition moves the units where they belong."""

from decimal import Decimal

import pytest

from erp.errors import NotPermitted, ValidationFailed
from erp.events import subscribe, unsubscribe
from erp.models import ApprovalRequest
from inventory.models import InventoryAdjustment, SerialNumber, StockLedgerEntry
from inventory.services.adjustments import decide_adjustment
from inventory.services.ledger import SELLABLE_STOCK_ARRIVED
from returns.models import Inspection, RepairOrder, SupplierClaim
from returns.selectors import items_awaiting_inspection, open_repairs, units_awaiting_inspection
from returns.services.inspection import SUPPLIER_CLAIM_OPENED, complete_repair, inspect_return
from returns.services.receiving import receive_return
from tests.factories import SkuFactory
from tests.factories.returns import ReturnPolicyFactory, ShippedLine, shipped_order
from tests.returns.conftest import on_hand

pytestmark = pytest.mark.django_db


@pytest.fixture
def received_tees(tee_order, tee, changed_mind, authorize, node, warehouse_user):
    rma = authorize(tee_order, [(tee, 3, changed_mind)])
    receive_return(
        rma_id=rma.pk,
        location=node,
        lines=[{"rma_line_id": rma.lines.get().pk, "quantity": 3}],
        actor=warehouse_user,
    )
    return rma


@pytest.fixture
def received_phones(phone_order, phone, changed_mind, authorize, node, warehouse_user):
    rma = authorize(phone_order, [(phone, 2, changed_mind, {"serials": ["SN-1"]})])
    receive_return(
        rma_id=rma.pk,
        location=node,
        lines=[{"rma_line_id": rma.lines.get().pk, "quantity": 2, "serials": ["SN-1", "SN-2"]}],
        actor=warehouse_user,
    )
    return rma


def inspect(rma, actor, *results):
    return inspect_return(rma_id=rma.pk, results=list(results), actor=actor)


def by_line(rma, **result):
    return {"rma_line_id": rma.lines.get().pk, **result}


def test_restocking_moves_units_to_sellable_and_announces_the_stock(
    received_tees, tee, node, warehouse_user
):
    announced = []
    handler = subscribe(SELLABLE_STOCK_ARRIVED)(announced.append)
    try:
        inspections = inspect(
            received_tees,
            warehouse_user,
            by_line(received_tees, quantity=2, grade="like_new", disposition="restock"),
        )
    finally:
        unsubscribe(SELLABLE_STOCK_ARRIVED, handler)

    assert [(i.quantity, i.grade, i.disposition) for i in inspections] == [
        (2, "like_new", "restock")
    ]
    assert (on_hand(tee, node, "inspection"), on_hand(tee, node, "sellable")) == (1, 2)
    moves = StockLedgerEntry.objects.filter(kind="status_change").values_list(
        "status", "quantity", "reference"
    )
    assert set(moves) == {
        ("inspection", -2, received_tees.number),
        ("sellable", 2, received_tees.number),
    }
    assert [event.payload["sku_ids"] for event in announced] == [[tee.pk]]
    received_tees.refresh_from_db()
    assert received_tees.state == "received"


def test_inspecting_every_unit_marks_the_rma_inspected(received_tees, tee, node, warehouse_user):
    inspect(
        received_tees,
        warehouse_user,
        by_line(received_tees, quantity=1, grade="new", disposition="restock"),
        by_line(received_tees, quantity=1, grade="used", disposition="quarantine"),
        by_line(received_tees, quantity=1, grade="damaged", disposition="refurbish", note="seam"),
    )

    assert (
        on_hand(tee, node, "sellable"),
        on_hand(tee, node, "quarantine"),
        on_hand(tee, node, "inspection"),
    ) == (1, 2, 0)
    repair = RepairOrder.objects.get()
    assert (repair.sku, repair.quantity, repair.state, repair.note) == (tee, 1, "open", "seam")
    assert list(open_repairs()) == [repair]
    received_tees.refresh_from_db()
    assert received_tees.state == "inspected" and received_tees.inspected_at is not None
    assert units_awaiting_inspection(received_tees.pk) == 0


def test_inspecting_a_unit_not_received_is_refused_and_writes_nothing(
    tee_order, tee, changed_mind, authorize, node, warehouse_user
):
    rma = authorize(tee_order, [(tee, 3, changed_mind)])
    receive_return(
        rma_id=rma.pk,
        location=node,
        lines=[{"rma_line_id": rma.lines.get().pk, "quantity": 1}],
        actor=warehouse_user,
    )

    with pytest.raises(ValidationFailed) as refused:
        inspect(rma, warehouse_user, by_line(rma, quantity=2, grade="new", disposition="restock"))

    assert (refused.value.errors[0].field, refused.value.errors[0].code) == (
        "results[0].rma_line_id",
        "not_received",
    )
    assert not Inspection.objects.exists()
    assert on_hand(tee, node, "sellable") == 0


def test_a_serial_that_did_not_arrive_cannot_be_inspected(received_phones, warehouse_user):
    with pytest.raises(ValidationFailed) as refused:
        inspect(
            received_phones,
            warehouse_user,
            {"serial": "SN-3", "grade": "new", "disposition": "restock"},
        )

    assert (refused.value.errors[0].field, refused.value.errors[0].code) == (
        "results[0].serial",
        "not_received",
    )


def test_a_unit_is_not_inspected_twice(received_tees, warehouse_user):
    inspect(
        received_tees, warehouse_user, by_line(received_tees, grade="new", disposition="restock")
    )

    with pytest.raises(ValidationFailed) as refused:
        inspect(
            received_tees,
            warehouse_user,
            by_line(received_tees, quantity=1, grade="new", disposition="restock"),
        )
    assert refused.value.errors[0].code == "not_received"


def test_serials_are_inspected_one_by_one_and_follow_their_unit(
    received_phones, phone, node, warehouse_user
):
    inspect(
        received_phones,
        warehouse_user,
        {"serial": "SN-1", "grade": "new", "disposition": "restock"},
    )

    assert on_hand(phone, node, "sellable") == 1
    serial = SerialNumber.objects.get(sku=phone, serial="SN-1")
    assert (serial.state, serial.status) == ("in_stock", "sellable")


def test_never_restock_families_cannot_be_restocked(
    shop, node, policy, soap, changed_mind, authorize, warehouse_user
):
    ReturnPolicyFactory(channel=shop, product_family="hygiene", never_restock=True)
    order = shipped_order(shop, [ShippedLine(soap, 1)], location=node)
    rma = authorize(order, [(soap, 1, changed_mind)])
    receive_return(
        rma_id=rma.pk,
        location=node,
        lines=[{"rma_line_id": rma.lines.get().pk, "quantity": 1}],
        actor=warehouse_user,
    )

    with pytest.raises(ValidationFailed) as refused:
        inspect(rma, warehouse_user, by_line(rma, grade="new", disposition="restock"))

    assert (refused.value.errors[0].field, refused.value.errors[0].code) == (
        "results[0].disposition",
        "never_restock",
    )
    assert on_hand(soap, node, "sellable") == 0
    inspect(rma, warehouse_user, by_line(rma, grade="new", disposition="dispose"))
    assert on_hand(soap, node, "inspection") == 0


def test_damaged_units_are_never_restocked(received_tees, warehouse_user):
    with pytest.raises(ValidationFailed) as refused:
        inspect(
            received_tees,
            warehouse_user,
            by_line(received_tees, quantity=1, grade="defective", disposition="restock"),
        )
    assert refused.value.errors[0].code == "grade_not_sellable"


def test_electronics_are_inspected_by_scanning_each_serial(shop, received_phones, warehouse_user):
    ReturnPolicyFactory(channel=shop, product_family="electronics", always_inspect_serials=True)

    with pytest.raises(ValidationFailed) as refused:
        inspect(
            received_phones,
            warehouse_user,
            by_line(received_phones, quantity=1, grade="new", disposition="restock"),
        )
    assert (refused.value.errors[0].field, refused.value.errors[0].code) == (
        "results[0].serial",
        "scan_serial",
    )

    # SN-2 shipped on the order but was not the serial on the RMA: never restocked.
    with pytest.raises(ValidationFailed) as swapped:
        inspect(
            received_phones,
            warehouse_user,
            {"serial": "SN-2", "grade": "new", "disposition": "restock"},
        )
    assert swapped.value.errors[0].code == "serial_discrepancy"

    inspect(
        received_phones,
        warehouse_user,
        {"serial": "SN-1", "grade": "new", "disposition": "restock"},
        {"serial": "SN-2", "grade": "new", "disposition": "quarantine"},
    )
    received_phones.refresh_from_db()
    assert received_phones.state == "inspected"


def test_a_small_disposal_is_written_off_at_once(received_tees, tee, node, warehouse_user):
    (inspection,) = inspect(
        received_tees,
        warehouse_user,
        by_line(received_tees, quantity=1, grade="damaged", disposition="dispose"),
    )

    assert inspection.write_off.state == "posted" and inspection.write_off.value == Decimal("8.00")
    assert on_hand(tee, node, "inspection") == 2
    disposal = StockLedgerEntry.objects.get(kind="disposal")
    assert (disposal.status, disposal.quantity) == ("inspection", -1)


def test_a_disposal_above_the_threshold_waits_for_a_manager_then_leaves_stock(
    received_phones, phone, node, warehouse_user, manager
):
    (inspection,) = inspect(
        received_phones,
        warehouse_user,
        {"serial": "SN-2", "grade": "defective", "disposition": "dispose"},
    )

    adjustment = inspection.write_off
    assert adjustment.state == "pending_approval"
    approval = ApprovalRequest.objects.get(kind="inventory_write_off")
    assert approval.requested_by == warehouse_user and approval.amount == Decimal("300.00")
    assert on_hand(phone, node, "inspection") == 2

    decide_adjustment(adjustment=adjustment, actor=manager, approve=True, note="scrap")

    assert on_hand(phone, node, "inspection") == 1
    assert StockLedgerEntry.objects.get(kind="disposal").actor == manager


def test_a_rejected_disposal_puts_the_units_back_in_the_inspection_queue(
    received_phones, warehouse_user, manager
):
    (inspection,) = inspect(
        received_phones,
        warehouse_user,
        {"serial": "SN-2", "grade": "defective", "disposition": "dispose"},
    )
    waiting = {item.serial for item in items_awaiting_inspection()}
    assert waiting == {"SN-1"}

    decide_adjustment(
        adjustment=inspection.write_off, actor=manager, approve=False, note="repair it"
    )

    assert {item.serial for item in items_awaiting_inspection()} == {"SN-1", "SN-2"}
    inspect(
        received_phones,
        warehouse_user,
        {"serial": "SN-2", "grade": "defective", "disposition": "refurbish"},
    )
    assert InventoryAdjustment.objects.get().state == "rejected"


def test_return_to_vendor_quarantines_the_units_and_records_a_claim(
    received_tees, tee, node, warehouse_user
):
    with pytest.raises(ValidationFailed) as refused:
        inspect(
            received_tees,
            warehouse_user,
            by_line(received_tees, quantity=2, grade="defective", disposition="return_to_vendor"),
        )
    assert refused.value.errors[0].field == "results[0].supplier"

    heard = []
    subscribe(SUPPLIER_CLAIM_OPENED)(heard.append)
    try:
        inspect(
            received_tees,
            warehouse_user,
            by_line(
                received_tees,
                quantity=2,
                grade="defective",
                disposition="return_to_vendor",
                supplier="Acme Textiles",
            ),
        )
    finally:
        unsubscribe(SUPPLIER_CLAIM_OPENED, heard.append)

    claim = SupplierClaim.objects.get()
    assert [event.payload for event in heard] == [
        {
            "claim_id": claim.pk,
            "rma_id": claim.rma_id,
            "sku_id": tee.pk,
            "location_id": node.pk,
            "supplier": "Acme Textiles",
            "quantity": 2,
            "unit_cost": str(claim.unit_cost),
            "amount": "16.00",
            "reason": "changed_mind",
            "occurred_at": claim.created_at.isoformat(),
        }
    ]
    assert (claim.supplier, claim.sku, claim.quantity, claim.amount, claim.reason.code) == (
        "Acme Textiles",
        tee,
        2,
        Decimal("16.00"),
        "changed_mind",
    )
    assert on_hand(tee, node, "quarantine") == 2


def test_a_repaired_unit_is_restocked_and_one_beyond_repair_is_written_off(
    received_tees, tee, node, warehouse_user
):
    inspect(
        received_tees,
        warehouse_user,
        by_line(received_tees, quantity=2, grade="damaged", disposition="refurbish"),
    )
    first = RepairOrder.objects.get()
    inspect(
        received_tees,
        warehouse_user,
        by_line(received_tees, quantity=1, grade="damaged", disposition="refurbish"),
    )
    second = RepairOrder.objects.exclude(pk=first.pk).get()

    complete_repair(repair_id=first.pk, actor=warehouse_user, outcome="restock", note="stitched")
    complete_repair(repair_id=second.pk, actor=warehouse_user, outcome="dispose")

    assert (on_hand(tee, node, "sellable"), on_hand(tee, node, "quarantine")) == (2, 0)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state) == ("restocked", "disposed")
    assert second.write_off.state == "posted"
    assert not open_repairs().exists()


def test_customer_service_cannot_inspect(received_tees, cs_user):
    with pytest.raises(NotPermitted):
        inspect(received_tees, cs_user, by_line(received_tees, grade="new", disposition="restock"))


def test_unexpected_items_are_inspected_by_their_received_item(received_tees, node, warehouse_user):
    mug = SkuFactory(code="MUG")
    receive_return(
        rma_id=received_tees.pk,
        location=node,
        unexpected=[{"sku": "MUG", "quantity": 1}],
        actor=warehouse_user,
    )
    item = received_tees.received_items.get(sku=mug)

    inspect(
        received_tees,
        warehouse_user,
        {"received_item_id": item.pk, "grade": "new", "disposition": "restock"},
    )

    assert on_hand(mug, node, "sellable") == 1
