import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from erp.errors import NotPermitted, ValidationFailed
from inventory.errors import InsufficientStock
from inventory.models import StockLedgerEntry
from inventory.services.movements import change_status, receive_stock
from tests.factories import LotFactory, SkuFactory
from tests.inventory.conftest import balance, ledger_sum

pytestmark = pytest.mark.django_db


def test_a_receipt_writes_a_ledger_entry_and_the_balance(sku, node, manager):
    receive_stock(
        sku=sku, location=node, quantity=12, actor=manager, reference="ASN-1", reason="3PL receipt"
    )

    entry = StockLedgerEntry.objects.get()
    assert (entry.kind, entry.quantity, entry.status, entry.reference) == (
        "receipt",
        12,
        "sellable",
        "ASN-1",
    )
    assert entry.actor == manager and entry.reason == "3PL receipt"
    assert balance(sku, node).on_hand == 12


def test_receiving_into_inspection_keeps_it_out_of_sellable(sku, node, manager):
    receive_stock(sku=sku, location=node, quantity=3, actor=manager, status="inspection")

    assert balance(sku, node, "inspection").on_hand == 3
    assert balance(sku, node).on_hand == 0


@pytest.mark.parametrize("quantity", [0, -4, 2.5, "3"])
def test_zero_negative_or_fractional_quantities_are_refused(sku, node, manager, quantity):
    with pytest.raises(ValidationFailed) as caught:
        receive_stock(sku=sku, location=node, quantity=quantity, actor=manager)

    assert caught.value.errors[0].field == "quantity"
    assert not StockLedgerEntry.objects.exists()


def test_a_user_without_the_role_cannot_receive(sku, node, cs_user):
    with pytest.raises(NotPermitted):
        receive_stock(sku=sku, location=node, quantity=1, actor=cs_user)


def test_a_lot_tracked_sku_needs_a_lot(node, manager):
    sku = SkuFactory(lot_tracked=True)

    with pytest.raises(ValidationFailed) as caught:
        receive_stock(sku=sku, location=node, quantity=1, actor=manager)

    assert caught.value.errors[0].field == "lot"


def test_a_serial_already_in_stock_is_refused(node, manager):
    sku = SkuFactory(serial_tracked=True)
    receive_stock(sku=sku, location=node, quantity=2, actor=manager, serials=["S1", "S2"])

    with pytest.raises(ValidationFailed) as caught:
        receive_stock(sku=sku, location=node, quantity=1, actor=manager, serials=["S2"])

    assert caught.value.errors[0].code == "serial_in_stock"
    assert balance(sku, node).on_hand == 2


def test_status_change_moves_units_between_statuses(sku, node, manager, stocked):
    stocked(sku, node, 5)

    change_status(
        sku=sku,
        location=node,
        quantity=2,
        from_status="sellable",
        to_status="damaged",
        actor=manager,
        reason="crushed carton",
    )

    assert (balance(sku, node).on_hand, balance(sku, node, "damaged").on_hand) == (3, 2)
    assert ledger_sum(sku, node, "damaged") == 2


def test_status_change_from_a_status_with_no_stock_is_refused(sku, node, manager, stocked):
    stocked(sku, node, 5)

    with pytest.raises(InsufficientStock):
        change_status(
            sku=sku,
            location=node,
            quantity=1,
            from_status="quarantine",
            to_status="sellable",
            actor=manager,
            reason="released",
        )

    assert StockLedgerEntry.objects.count() == 1


def test_lot_balances_follow_the_ledger(node, manager):
    lot = LotFactory()
    receive_stock(sku=lot.sku, location=node, quantity=4, actor=manager, lot=lot)

    change_status(
        sku=lot.sku,
        location=node,
        quantity=1,
        from_status="sellable",
        to_status="quarantine",
        actor=manager,
        reason="QA hold",
        lot=lot,
    )

    assert lot.balances.get(status="sellable").on_hand == 3
    assert lot.balances.get(status="quarantine").on_hand == 1


def test_the_database_refuses_to_update_or_delete_ledger_entries(sku, node, manager, stocked):
    stocked(sku, node, 5)

    with pytest.raises(DatabaseError), transaction.atomic():
        StockLedgerEntry.objects.update(quantity=50)
    with pytest.raises(DatabaseError), transaction.atomic():
        StockLedgerEntry.objects.all().delete()

    assert StockLedgerEntry.objects.get().quantity == 5


def test_verify_inventory_reports_a_balance_that_drifted_from_the_ledger(
    sku, node, stocked, capsys
):
    stocked(sku, node, 5)
    call_command("verify_inventory")
    assert "differences: 0" in capsys.readouterr().out

    with connection.cursor() as cursor:
        cursor.execute("UPDATE inventory_stockbalance SET on_hand = 7")
    with pytest.raises(SystemExit) as exit_code:
        call_command("verify_inventory")

    assert exit_code.value.code == 1
    assert "balance 7 ≠ ledger 5" in capsys.readouterr().out
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inventory_stockbalance SET on_hand = 5")
