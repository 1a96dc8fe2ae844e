from datetime import date
from decimal import Decimal

import pytest

from erp import events
from erp.errors import Conflict, NotPermitted, ValidationFailed
from erp.models import ApprovalRequest
from erp.services import approvals
from inventory.models import Lot, SkuCost, StockLedgerEntry
from inventory.services import costing
from purchasing.events import GOODS_RECEIVED
from purchasing.models import PurchaseOrderState, Receipt
from purchasing.services import purchase_orders, receiving
from tests.factories import SkuFactory
from tests.factories.purchasing import SupplierItemFactory
from tests.purchasing.conftest import line_of

S = PurchaseOrderState


@pytest.fixture
def heard():
    seen = []

    def listen(event):
        seen.append(event)

    events.subscribe(GOODS_RECEIVED)(listen)
    yield seen
    events.unsubscribe(GOODS_RECEIVED, listen)


def on_hand(sku, location, status="sellable"):
    return sum(
        StockLedgerEntry.objects.filter(sku=sku, location=location, status=status).values_list(
            "quantity", flat=True
        )
    )


def test_a_partial_receipt_books_the_ledger_and_leaves_the_line_open(
    sent_po, tee, dock, receive, heard
):
    receipt = receive(sent_po, tee, 4, scanned_code=tee.barcode)
    sent_po.refresh_from_db()
    line = line_of(sent_po, tee)
    assert sent_po.state == S.PARTIALLY_RECEIVED
    assert (line.quantity_received, line.open_quantity) == (4, 6)
    assert on_hand(tee, dock) == 4
    entry = StockLedgerEntry.objects.get(sku=tee)
    assert entry.kind == "receipt" and entry.reference == receipt.number
    assert receipt.lines.get().scanned_code == tee.barcode
    [event] = heard
    assert event.payload == {
        "receipt_id": receipt.pk,
        "purchase_order_id": sent_po.pk,
        "supplier_id": sent_po.supplier_id,
        "lines": [
            {
                "sku_id": tee.pk,
                "location_id": dock.pk,
                "status": "sellable",
                "quantity": 4,
                "unit_cost": "4.0000",
                "amount": "16.00",
            }
        ],
        "total": "16.00",
    }


def test_the_receipt_moves_the_moving_average_cost(sent_po, tee, dock, receive, manager):
    receiving_cost_before = costing.unit_costs([tee.pk])[tee.pk]
    assert receiving_cost_before == Decimal("10.00")
    receive(sent_po, tee, 10)
    assert costing.unit_costs([tee.pk])[tee.pk] == Decimal("4.0000")
    assert SkuCost.objects.filter(sku=tee).exists()


def test_receiving_everything_completes_the_po(sent_po, tee, mug, receive):
    receive(sent_po, tee, 10)
    receive(sent_po, mug, 12)
    sent_po.refresh_from_db()
    assert sent_po.state == S.RECEIVED and sent_po.received_at


def test_a_foreign_currency_po_is_costed_in_the_base_currency(
    supplier, dock, tee_item, buyer, receive, heard
):
    supplier.currency = "EUR"
    supplier.save()
    po = purchase_orders.create_purchase_order(
        supplier=supplier,
        destination=dock,
        actor=buyer,
        exchange_rate="1.25",
        lines=[{"sku": tee_item.sku, "quantity": 2}],
    )
    purchase_orders.submit_purchase_order(purchase_order=po, actor=buyer)
    receive(po, tee_item.sku, 2)
    assert heard[0].payload["lines"][0]["unit_cost"] == "5.0000"
    assert heard[0].payload["total"] == "10.00"


def test_receiving_on_a_cancelled_or_closed_po_is_refused(sent_po, tee, receive, buyer):
    receive(sent_po, tee, 4)
    purchase_orders.close_purchase_order(purchase_order=sent_po, actor=buyer, reason="Short")
    with pytest.raises(Conflict) as refused:
        receive(sent_po, tee, 1)
    assert refused.value.errors[0].code == "not_receivable"
    assert Receipt.objects.count() == 1 and StockLedgerEntry.objects.count() == 1


def test_receiving_on_a_draft_is_refused(supplier, dock, tee_item, buyer, receive):
    po = purchase_orders.create_purchase_order(
        supplier=supplier,
        destination=dock,
        actor=buyer,
        lines=[{"sku": tee_item.sku, "quantity": 2}],
    )
    with pytest.raises(Conflict):
        receive(po, tee_item.sku, 1)
    assert not StockLedgerEntry.objects.exists()


def test_over_receipt_beyond_tolerance_needs_approval(sent_po, tee, receive):
    with pytest.raises(Conflict) as refused:
        receive(sent_po, tee, 11)
    assert refused.value.errors[0].code == "over_receipt_needs_approval"
    assert not Receipt.objects.exists() and not StockLedgerEntry.objects.exists()


def test_over_receipt_within_the_suppliers_tolerance_is_let_in(sent_po, tee, receive):
    sent_po.supplier.over_receipt_tolerance_percent = Decimal("10")
    sent_po.supplier.save()
    receive(sent_po, tee, 11)
    line = line_of(sent_po, tee)
    assert (line.quantity_received, line.over_receipt_approved) == (11, 1)
    with pytest.raises(Conflict):
        receive(sent_po, tee, 1)


def test_an_approved_over_receipt_lets_the_units_in(sent_po, tee, receive, warehouse_user, manager):
    receive(sent_po, tee, 10)
    over = receiving.request_over_receipt(
        line=line_of(sent_po, tee), quantity=3, actor=warehouse_user, note="Extra carton"
    )
    assert over.approval.kind == "over_receipt"
    with pytest.raises(NotPermitted):
        approvals.decide_approval(request_id=over.approval.pk, actor=warehouse_user, approve=True)
    approvals.decide_approval(request_id=over.approval.pk, actor=manager, approve=True)
    receive(sent_po, tee, 3)
    line = line_of(sent_po, tee)
    assert (line.quantity_received, line.over_receipt_approved) == (13, 3)
    with pytest.raises(Conflict):
        receive(sent_po, tee, 1)


def test_a_rejected_over_receipt_lets_nothing_more_in(
    sent_po, tee, receive, warehouse_user, manager
):
    receive(sent_po, tee, 10)
    over = receiving.request_over_receipt(
        line=line_of(sent_po, tee), quantity=3, actor=warehouse_user
    )
    approvals.decide_approval(request_id=over.approval.pk, actor=manager, approve=False, note="No")
    assert ApprovalRequest.objects.get(pk=over.approval.pk).state == "rejected"
    with pytest.raises(Conflict):
        receive(sent_po, tee, 1)


@pytest.fixture
def yoghurt_po(supplier, dock, buyer):
    yoghurt = SkuFactory(code="YOG", lot_tracked=True, expiry_tracked=True, unit_cost="1.00")
    SupplierItemFactory(supplier=supplier, sku=yoghurt, unit_cost=Decimal("0.50"))
    po = purchase_orders.create_purchase_order(
        supplier=supplier, destination=dock, actor=buyer, lines=[{"sku": yoghurt, "quantity": 24}]
    )
    purchase_orders.submit_purchase_order(purchase_order=po, actor=buyer)
    return po, yoghurt


def test_a_lot_without_expiry_for_an_expiry_tracked_sku_is_refused(yoghurt_po, receive):
    po, yoghurt = yoghurt_po
    with pytest.raises(ValidationFailed) as refused:
        receive(po, yoghurt, 24, lot_code="L1")
    assert refused.value.errors[0].field == "lines[0].expires_on"
    assert not Lot.objects.exists() and not StockLedgerEntry.objects.exists()


def test_a_lot_tracked_sku_needs_its_lot(yoghurt_po, receive):
    po, yoghurt = yoghurt_po
    with pytest.raises(ValidationFailed) as refused:
        receive(po, yoghurt, 24, expires_on=date(2030, 1, 1))
    assert refused.value.errors[0].field == "lines[0].lot_code"


def test_a_lot_with_expiry_is_received_into_that_lot(yoghurt_po, receive, dock):
    po, yoghurt = yoghurt_po
    receipt = receive(po, yoghurt, 24, lot_code="L1", expires_on=date(2030, 1, 1))
    lot = Lot.objects.get(sku=yoghurt, code="L1")
    assert lot.expires_on == date(2030, 1, 1)
    assert receipt.lines.get().lot == lot
    assert StockLedgerEntry.objects.get(sku=yoghurt).lot == lot


def test_serial_tracked_skus_need_one_serial_per_unit(supplier, dock, buyer, receive):
    phone = SkuFactory(code="PHONE", serial_tracked=True)
    SupplierItemFactory(supplier=supplier, sku=phone, unit_cost=Decimal("100"))
    po = purchase_orders.create_purchase_order(
        supplier=supplier, destination=dock, actor=buyer, lines=[{"sku": phone, "quantity": 2}]
    )
    purchase_orders.submit_purchase_order(purchase_order=po, actor=buyer)
    with pytest.raises(ValidationFailed) as refused:
        receive(po, phone, 2, serials=["A1"])
    assert refused.value.errors[0].field == "lines[0].serials"
    receipt = receive(po, phone, 2, serials=["A1", "A2"])
    assert receipt.lines.get().serials == ["A1", "A2"]


def test_a_supplier_on_qa_hold_receives_into_inspection(sent_po, tee, dock, receive):
    sent_po.supplier.qa_hold = True
    sent_po.supplier.save()
    with pytest.raises(ValidationFailed) as refused:
        receive(sent_po, tee, 2, status="sellable")
    assert refused.value.errors[0].code == "qa_hold"
    receive(sent_po, tee, 2)
    assert on_hand(tee, dock, "inspection") == 2 and on_hand(tee, dock) == 0


def test_a_sku_on_qa_hold_from_this_supplier_receives_into_inspection(
    sent_po, tee, mug, tee_item, dock, receive
):
    tee_item.qa_hold = True
    tee_item.save()
    receive(sent_po, tee, 2)
    receive(sent_po, mug, 6)
    assert on_hand(tee, dock, "inspection") == 2 and on_hand(mug, dock) == 6


def test_the_receiver_may_send_units_to_inspection(sent_po, tee, dock, receive):
    receive(sent_po, tee, 2, status="inspection")
    assert on_hand(tee, dock, "inspection") == 2


def test_a_line_of_another_po_is_refused(
    sent_po, tee, warehouse_user, supplier, dock, buyer, tee_item
):
    other = purchase_orders.create_purchase_order(
        supplier=supplier,
        destination=dock,
        actor=buyer,
        lines=[{"sku": tee_item.sku, "quantity": 2}],
    )
    with pytest.raises(ValidationFailed):
        receiving.receive_goods(
            purchase_order=sent_po,
            actor=warehouse_user,
            lines=[{"line_id": other.lines.get().pk, "quantity": 1}],
        )


def test_buyers_do_not_receive(sent_po, tee, buyer):
    with pytest.raises(NotPermitted):
        receiving.receive_goods(
            purchase_order=sent_po,
            actor=buyer,
            lines=[{"line_id": line_of(sent_po, tee).pk, "quantity": 1}],
        )


def test_a_drop_ship_po_is_never_received_at_the_dock(supplier, tee_item, buyer, receive):
    from erp.models import Location
    from tests.factories import LocationFactory

    node = LocationFactory(code="DS-ACME", kind=Location.Kind.DROPSHIP)
    supplier.dropship_location = node
    supplier.save()
    po = purchase_orders.create_purchase_order(
        supplier=supplier,
        destination=node,
        kind="drop_ship",
        actor=buyer,
        lines=[{"sku": tee_item.sku, "quantity": 1}],
    )
    purchase_orders.submit_purchase_order(purchase_order=po, actor=buyer)
    with pytest.raises(Conflict) as refused:
        receive(po, tee_item.sku, 1)
    assert refused.value.errors[0].code == "drop_ship"
    assert not StockLedgerEntry.objects.exists()


def test_a_purchase_receipt_is_on_the_books_once_at_the_pos_cost(sent_po, tee, receive):
    from finance.models import JournalEntry, JournalLine

    receive(sent_po, tee, 4)

    # The ledger's receipt event names the receipt that values the units: finance posts
    # the purchase receipt (at the PO's cost) and not the stock receipt as well.
    assert list(JournalEntry.objects.values_list("event", flat=True)) == [
        "purchasing.goods_received"
    ]
    debits = JournalLine.objects.filter(account__role="inventory").values_list("debit", flat=True)
    assert list(debits) == [Decimal("16.00")]
