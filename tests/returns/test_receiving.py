"""Receipt at the dock: units enter inspection with a ledger entry; surprises are flagged."""

import pytest

from erp.errors import Conflict, NotPermitted, ValidationFailed
from inventory.models import SerialNumber, StockLedgerEntry
from returns.models import ReceivedItem, ReturnReceipt
from returns.selectors import find_rmas_for_scan, open_discrepancies
from returns.services.receiving import receive_return, resolve_discrepancy
from returns.services.rmas import cancel_rma
from tests.factories import LotFactory, SkuFactory
from tests.factories.returns import ShippedLine, shipped_order
from tests.returns.conftest import on_hand

pytestmark = pytest.mark.django_db


@pytest.fixture
def tee_rma(tee_order, tee, changed_mind, authorize):
    return authorize(tee_order, [(tee, 3, changed_mind)])


def receive(rma, actor, node, lines=(), unexpected=()):
    return receive_return(
        rma_id=rma.pk, location=node, lines=list(lines), unexpected=list(unexpected), actor=actor
    )


def test_received_units_enter_inspection_with_a_return_receipt_ledger_entry(
    tee_rma, tee, node, warehouse_user
):
    line = tee_rma.lines.get()

    receipt = receive(tee_rma, warehouse_user, node, [{"rma_line_id": line.pk, "quantity": 2}])

    assert on_hand(tee, node, "inspection") == 2 and on_hand(tee, node, "sellable") == 0
    entry = StockLedgerEntry.objects.get()
    assert (entry.kind, entry.status, entry.quantity, entry.reference, entry.actor) == (
        "return_receipt",
        "inspection",
        2,
        tee_rma.number,
        warehouse_user,
    )
    assert "changed_mind" in entry.reason
    item = receipt.items.get()
    assert (item.rma_line, item.quantity, item.discrepancy) == (line, 2, "")
    line.refresh_from_db()
    tee_rma.refresh_from_db()
    assert line.quantity_received == 2
    assert tee_rma.state == "partially_received"


def test_receiving_every_unit_marks_the_rma_received(tee_rma, node, warehouse_user):
    line = tee_rma.lines.get()
    receive(tee_rma, warehouse_user, node, [{"rma_line_id": line.pk, "quantity": 1}])
    receive(tee_rma, warehouse_user, node, [{"rma_line_id": line.pk, "quantity": 2}])

    tee_rma.refresh_from_db()
    assert tee_rma.state == "received" and tee_rma.received_at is not None
    assert [h.state for h in tee_rma.history.order_by("history_id")][-2:] == [
        "partially_received",
        "received",
    ]


def test_more_than_authorized_on_a_line_is_refused_and_writes_nothing(
    tee_order, tee, changed_mind, authorize, node, warehouse_user
):
    rma = authorize(tee_order, [(tee, 1, changed_mind)])

    with pytest.raises(ValidationFailed) as refused:
        receive(rma, warehouse_user, node, [{"rma_line_id": rma.lines.get().pk, "quantity": 2}])

    assert (refused.value.errors[0].field, refused.value.errors[0].code) == (
        "lines[0].quantity",
        "more_than_authorized",
    )
    assert not StockLedgerEntry.objects.exists() and not ReturnReceipt.objects.exists()


def test_unexpected_items_are_received_into_inspection_and_flagged(tee_rma, node, warehouse_user):
    mug = SkuFactory(code="MUG")

    receive(
        tee_rma,
        warehouse_user,
        node,
        unexpected=[{"sku": "MUG", "quantity": 1, "note": "a mug in the tee parcel"}],
    )

    item = ReceivedItem.objects.get()
    assert (item.sku, item.rma_line, item.discrepancy, item.note) == (
        mug,
        None,
        "unexpected_item",
        "a mug in the tee parcel",
    )
    assert on_hand(mug, node, "inspection") == 1
    assert list(open_discrepancies()) == [item]


def test_a_serial_that_was_not_expected_or_never_shipped_is_flagged_and_received(
    phone_order, phone, changed_mind, authorize, node, warehouse_user
):
    rma = authorize(phone_order, [(phone, 2, changed_mind, {"serials": ["SN-1"]})])
    line = rma.lines.get()

    receive(
        rma,
        warehouse_user,
        node,
        [{"rma_line_id": line.pk, "quantity": 2, "serials": ["SN-2", "SN-X"]}],
    )

    flags = dict(ReceivedItem.objects.values_list("serial", "discrepancy"))
    assert flags == {"SN-2": "serial_not_expected", "SN-X": "serial_not_shipped"}
    assert on_hand(phone, node, "inspection") == 2
    assert dict(
        SerialNumber.objects.filter(sku=phone, serial__in=["SN-2", "SN-X"]).values_list(
            "serial", "status"
        )
    ) == {"SN-2": "inspection", "SN-X": "inspection"}
    assert open_discrepancies().count() == 2


def test_the_expected_serials_arrive_without_a_flag(
    phone_order, phone, changed_mind, authorize, node, warehouse_user
):
    rma = authorize(phone_order, [(phone, 2, changed_mind, {"serials": ["SN-1", "SN-2"]})])

    receive(
        rma,
        warehouse_user,
        node,
        [{"rma_line_id": rma.lines.get().pk, "quantity": 2, "serials": ["SN-1", "SN-2"]}],
    )

    assert set(ReceivedItem.objects.values_list("serial", "discrepancy", "quantity")) == {
        ("SN-1", "", 1),
        ("SN-2", "", 1),
    }
    serial = SerialNumber.objects.get(sku=phone, serial="SN-1")
    assert (serial.state, serial.status, serial.location) == ("in_stock", "inspection", node)


def test_serial_tracked_units_need_one_serial_each(
    phone_order, phone, changed_mind, authorize, node, warehouse_user
):
    rma = authorize(phone_order, [(phone, 2, changed_mind)])

    with pytest.raises(ValidationFailed) as refused:
        receive(
            rma,
            warehouse_user,
            node,
            [{"rma_line_id": rma.lines.get().pk, "quantity": 2, "serials": ["SN-1"]}],
        )

    assert (refused.value.errors[0].field, refused.value.errors[0].code) == (
        "lines[0].serials",
        "count",
    )
    assert not StockLedgerEntry.objects.exists()


def test_a_lot_other_than_expected_is_flagged(
    shop, node, policy, changed_mind, authorize, warehouse_user
):
    syrup = SkuFactory(code="SYRUP", lot_tracked=True)
    shipped_lot, other_lot = LotFactory(sku=syrup, code="L1"), LotFactory(sku=syrup, code="L2")
    order = shipped_order(shop, [ShippedLine(syrup, 2, lot=shipped_lot)], location=node)
    rma = authorize(order, [(syrup, 2, changed_mind, {"lot": "L1"})])
    line = rma.lines.get()

    receive(rma, warehouse_user, node, [{"rma_line_id": line.pk, "quantity": 1}])
    receive(rma, warehouse_user, node, [{"rma_line_id": line.pk, "quantity": 1, "lot": "L2"}])

    assert list(ReceivedItem.objects.order_by("pk").values_list("lot", "discrepancy")) == [
        (shipped_lot.pk, ""),
        (other_lot.pk, "lot_mismatch"),
    ]


def test_a_line_that_is_not_on_the_rma_is_refused(
    tee_rma, node, warehouse_user, phone_order, phone, changed_mind, authorize
):
    other = authorize(phone_order, [(phone, 1, changed_mind)])

    with pytest.raises(ValidationFailed) as refused:
        receive(
            tee_rma, warehouse_user, node, [{"rma_line_id": other.lines.get().pk, "quantity": 1}]
        )
    assert refused.value.errors[0].code == "not_on_rma"


def test_customer_service_cannot_receive(tee_rma, node, cs_user):
    with pytest.raises(NotPermitted):
        receive(tee_rma, cs_user, node, [{"rma_line_id": tee_rma.lines.get().pk, "quantity": 1}])


def test_a_cancelled_rma_takes_no_receipts(tee_rma, node, cs_user, warehouse_user):
    cancel_rma(rma_id=tee_rma.pk, actor=cs_user, reason="duplicate")

    with pytest.raises(Conflict):
        receive(
            tee_rma, warehouse_user, node, [{"rma_line_id": tee_rma.lines.get().pk, "quantity": 1}]
        )


def test_the_dock_finds_the_rma_by_number_order_or_label(tee_order, tee, changed_mind, authorize):
    rma = authorize(tee_order, [(tee, 1, changed_mind)], return_label_reference="1ZRET9")

    for code in (rma.number.lower(), tee_order.external_id, "1ZRET9"):
        assert list(find_rmas_for_scan(code)) == [rma]
    assert not find_rmas_for_scan("nothing").exists()


def test_customer_service_resolves_a_discrepancy(tee_rma, node, warehouse_user, cs_user):
    SkuFactory(code="MUG")
    receive(tee_rma, warehouse_user, node, unexpected=[{"sku": "MUG", "quantity": 1}])
    item = ReceivedItem.objects.get()

    with pytest.raises(ValidationFailed):
        resolve_discrepancy(item_id=item.pk, actor=cs_user, resolution="")
    resolve_discrepancy(item_id=item.pk, actor=cs_user, resolution="buyer sent a gift; keep it")

    item.refresh_from_db()
    assert item.discrepancy_resolved_by == cs_user and not open_discrepancies().exists()
    with pytest.raises(Conflict):
        resolve_discrepancy(item_id=item.pk, actor=cs_user, resolution="again")
