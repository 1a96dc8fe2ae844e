"""A cycle count while the floor keeps working: picks, shipments and receipts made while a
count is open do not turn into variances (the expected figure is taken when a line is
counted, net of units picked off the shelf and not shipped yet)."""

import pytest

from fulfillment.services.labels import create_label
from fulfillment.services.shipping import confirm_shipment
from inventory.models import InventoryAdjustment, StockBalance
from inventory.services.counts import close_count, create_count, record_count
from inventory.services.movements import receive_stock
from tests.fulfillment.test_views import build_floor, packed, picked

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor(manager):
    return build_floor(manager)


def _count_tee(floor, warehouse_user):
    """A routine count of the tee's family (a count opened by a short pick would also keep
    routing away from the node: tests/orders/test_routing.py)."""
    floor.tee.product_family = "tees-under-count"
    floor.tee.save(update_fields=["product_family"])
    return create_count(
        location=floor.node,
        scope="family",
        product_family="tees-under-count",
        actor=warehouse_user,
    )


def _sellable(floor):
    return StockBalance.objects.get(sku=floor.tee, location=floor.node, status="sellable")


def test_units_shipped_while_the_count_is_open_are_not_a_variance(floor, manager, warehouse_user):
    count = _count_tee(floor, warehouse_user)  # 10 on the shelf
    order, package = packed(floor, manager, [(floor.tee, 3)])
    shipment = create_label(package_id=package.pk, actor=manager)
    confirm_shipment(shipment_id=shipment.pk, actor=manager)  # 7 left

    record_count(count_id=count.pk, sku_code_or_barcode="TEE-01", counted=7, actor=warehouse_user)
    adjustments = close_count(count_id=count.pk, actor=manager)

    assert adjustments == []
    assert _sellable(floor).on_hand == 7


def test_units_picked_but_not_shipped_are_not_on_the_shelf_and_not_a_variance(
    floor, manager, warehouse_user
):
    count = _count_tee(floor, warehouse_user)
    picked(floor, manager, [(floor.tee, 4)])  # 4 in a tote, 6 on the shelf

    record_count(count_id=count.pk, sku_code_or_barcode="TEE-01", counted=6, actor=warehouse_user)
    adjustments = close_count(count_id=count.pk, actor=manager)

    assert adjustments == []
    assert _sellable(floor).on_hand == 10


def test_a_real_shortfall_found_during_work_is_adjusted_by_the_variance_only(
    floor, manager, warehouse_user
):
    count = _count_tee(floor, warehouse_user)
    picked(floor, manager, [(floor.tee, 2)])  # 8 should be on the shelf
    record_count(count_id=count.pk, sku_code_or_barcode="TEE-01", counted=7, actor=warehouse_user)
    receive_stock(sku=floor.tee, location=floor.node, quantity=5, actor=manager)  # after the scan

    [adjustment] = close_count(count_id=count.pk, actor=manager)

    assert adjustment.quantity == -1
    assert adjustment.state == InventoryAdjustment.State.POSTED
    assert _sellable(floor).on_hand == 10 + 5 - 1
