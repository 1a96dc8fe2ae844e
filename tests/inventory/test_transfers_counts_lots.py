from datetime import date, timedelta

import pytest

from erp.errors import Conflict, ValidationFailed
from inventory.errors import InsufficientStock
from inventory.models import InventoryAdjustment, Transfer
from inventory.selectors import inventory_accuracy
from inventory.services.counts import close_count, create_count, record_count
from inventory.services.lots import quarantine_expired_lots, register_lot, suggest_lots
from inventory.services.movements import receive_stock
from inventory.services.transfers import (
    close_transfer_with_discrepancy,
    create_transfer,
    receive_transfer,
)
from tests.factories import SkuFactory
from tests.inventory.conftest import balance

pytestmark = pytest.mark.django_db


def test_a_transfer_moves_stock_through_in_transit(sku, node, second_node, warehouse_user, stocked):
    stocked(sku, node, 10)

    transfer = create_transfer(
        from_location=node,
        to_location=second_node,
        lines=[{"sku": sku, "quantity": 6}],
        actor=warehouse_user,
    )

    assert balance(sku, node).on_hand == 4
    assert balance(sku, second_node, "in_transit").on_hand == 6
    line = transfer.lines.get()
    receive_transfer(transfer_id=transfer.pk, received={line.pk: 4}, actor=warehouse_user)
    transfer.refresh_from_db()
    assert transfer.state == "partially_received"
    assert (balance(sku, second_node).on_hand, balance(sku, second_node, "in_transit").on_hand) == (
        4,
        2,
    )

    close_transfer_with_discrepancy(
        transfer_id=transfer.pk, actor=warehouse_user, note="2 lost in transit"
    )

    transfer.refresh_from_db()
    line.refresh_from_db()
    assert (transfer.state, line.quantity_missing) == ("closed_with_discrepancy", 2)
    assert balance(sku, second_node, "in_transit").on_hand == 0


def test_transferring_more_than_on_hand_is_refused(sku, node, second_node, warehouse_user, stocked):
    stocked(sku, node, 2)

    with pytest.raises(InsufficientStock):
        create_transfer(
            from_location=node,
            to_location=second_node,
            lines=[{"sku": sku, "quantity": 3}],
            actor=warehouse_user,
        )

    assert not Transfer.objects.exists()


def test_receiving_more_than_is_in_transit_is_refused(
    sku, node, second_node, warehouse_user, stocked
):
    stocked(sku, node, 5)
    transfer = create_transfer(
        from_location=node,
        to_location=second_node,
        lines=[{"sku": sku, "quantity": 2}],
        actor=warehouse_user,
    )

    with pytest.raises(ValidationFailed):
        receive_transfer(
            transfer_id=transfer.pk, received={transfer.lines.get().pk: 3}, actor=warehouse_user
        )

    receive_transfer(
        transfer_id=transfer.pk, received={transfer.lines.get().pk: 2}, actor=warehouse_user
    )
    with pytest.raises(Conflict):
        receive_transfer(
            transfer_id=transfer.pk, received={transfer.lines.get().pk: 1}, actor=warehouse_user
        )


def test_a_blind_count_turns_variances_into_adjustments(node, warehouse_user, manager, stocked):
    shirts = SkuFactory(code="SHIRT", product_family="apparel", unit_cost="5.00")
    socks = SkuFactory(code="SOCKS", product_family="apparel", unit_cost="1.00", barcode="777")
    stocked(shirts, node, 10)
    stocked(socks, node, 20)
    count = create_count(
        location=node, scope="family", product_family="apparel", actor=warehouse_user
    )

    record_count(count_id=count.pk, sku_code_or_barcode="SHIRT", counted=10, actor=warehouse_user)
    with pytest.raises(ValidationFailed):
        close_count(count_id=count.pk, actor=warehouse_user)
    record_count(count_id=count.pk, sku_code_or_barcode="777", counted=18, actor=warehouse_user)
    adjustments = close_count(count_id=count.pk, actor=warehouse_user)

    assert [(a.sku.code, a.quantity, a.state) for a in adjustments] == [("SOCKS", -2, "posted")]
    assert balance(socks, node).on_hand == 18
    assert inventory_accuracy(location=node) == pytest.approx(0.5)


def test_scanning_a_sku_not_on_the_count_is_refused(node, warehouse_user, stocked):
    stocked(SkuFactory(code="A", product_family="toys"), node, 1)
    count = create_count(location=node, scope="family", product_family="toys", actor=warehouse_user)

    with pytest.raises(ValidationFailed) as caught:
        record_count(count_id=count.pk, sku_code_or_barcode="NOPE", counted=1, actor=warehouse_user)

    assert caught.value.errors[0].code == "not_on_count"


def test_fefo_suggests_first_expiring_lots_and_never_expired_ones(node, manager):
    sku = SkuFactory(lot_tracked=True, expiry_tracked=True)
    today = date(2026, 11, 23)
    expired = register_lot(sku=sku, code="OLD", expires_on=today - timedelta(days=1), actor=manager)
    soon = register_lot(sku=sku, code="SOON", expires_on=today + timedelta(days=5), actor=manager)
    later = register_lot(
        sku=sku, code="LATER", expires_on=today + timedelta(days=50), actor=manager
    )
    for lot in (expired, soon, later):
        receive_stock(sku=sku, location=node, quantity=3, actor=manager, lot=lot)

    plan = suggest_lots(sku=sku, location=node, quantity=4, today=today)

    assert [(lot.code, qty) for lot, qty in plan] == [("SOON", 3), ("LATER", 1)]


def test_expired_lots_move_to_quarantine(node, manager):
    sku = SkuFactory(lot_tracked=True, expiry_tracked=True)
    lot = register_lot(sku=sku, code="OLD", expires_on=date(2020, 1, 1), actor=manager)
    receive_stock(sku=sku, location=node, quantity=3, actor=manager, lot=lot)

    assert quarantine_expired_lots() == 3

    assert (balance(sku, node).on_hand, balance(sku, node, "quarantine").on_hand) == (0, 3)
    assert lot.balances.get(status="quarantine").on_hand == 3


def test_an_expiry_tracked_lot_needs_an_expiry_date(manager):
    sku = SkuFactory(lot_tracked=True, expiry_tracked=True)

    with pytest.raises(ValidationFailed):
        register_lot(sku=sku, code="X", expires_on=None, actor=manager)


def test_counts_are_not_adjusted_twice(node, warehouse_user, stocked):
    sku = SkuFactory(product_family="toys", unit_cost="1.00")
    stocked(sku, node, 4)
    count = create_count(location=node, scope="all", actor=warehouse_user)
    record_count(count_id=count.pk, sku_code_or_barcode=sku.code, counted=5, actor=warehouse_user)
    close_count(count_id=count.pk, actor=warehouse_user)

    with pytest.raises(Conflict):
        close_count(count_id=count.pk, actor=warehouse_user)
    assert InventoryAdjustment.objects.count() == 1
