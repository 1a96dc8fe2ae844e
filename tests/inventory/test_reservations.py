import pytest

from erp.errors import Conflict, ValidationFailed
from inventory.errors import InsufficientStock
from inventory.models import Reservation, StockLedgerEntry
from inventory.services.movements import change_status
from inventory.services.reservations import consume_reservation, release_reservation, reserve_stock
from tests.factories import (
    AllocationRuleFactory,
    ChannelFactory,
    LocationFactory,
    SafetyStockFactory,
)
from tests.inventory.conftest import balance

pytestmark = pytest.mark.django_db


def _reserve(sku, node, channel, quantity, actor, line="L1"):
    return reserve_stock(
        sku=sku, location=node, channel=channel, quantity=quantity, line_reference=line, actor=actor
    )


def test_reserving_holds_sellable_units(sku, node, channel, manager, stocked):
    stocked(sku, node, 10)

    reservation = _reserve(sku, node, channel, 4, manager)

    assert reservation.state == "active" and reservation.quantity == 4
    assert (balance(sku, node).on_hand, balance(sku, node).reserved) == (10, 4)


def test_reserving_more_than_available_is_refused(sku, node, channel, manager, stocked):
    stocked(sku, node, 3)

    with pytest.raises(InsufficientStock):
        _reserve(sku, node, channel, 4, manager)

    assert not Reservation.objects.exists()
    assert balance(sku, node).reserved == 0


def test_safety_stock_is_not_promised(sku, node, channel, manager, stocked):
    stocked(sku, node, 5)
    SafetyStockFactory(sku=sku, location=node, quantity=2)

    with pytest.raises(InsufficientStock):
        _reserve(sku, node, channel, 4, manager)
    _reserve(sku, node, channel, 3, manager)


def test_units_protected_for_another_channel_cannot_be_reserved(
    sku, node, channel, manager, stocked
):
    stocked(sku, node, 10)
    wholesale = ChannelFactory(code="B2B", eligible_locations=[node])
    AllocationRuleFactory(channel=wholesale, protected=3)

    _reserve(sku, node, channel, 7, manager)
    with pytest.raises(InsufficientStock) as caught:
        _reserve(sku, node, channel, 1, manager, line="L2")

    assert caught.value.errors[0].code == "protected_stock"
    _reserve(sku, node, wholesale, 3, manager, line="W1")
    assert balance(sku, node).reserved == 10


def test_a_channels_own_reservations_use_up_its_protection(sku, node, channel, manager, stocked):
    stocked(sku, node, 10)
    wholesale = ChannelFactory(code="B2B", eligible_locations=[node])
    AllocationRuleFactory(channel=wholesale, protected=3)
    _reserve(sku, node, wholesale, 2, manager, line="W1")

    # 8 remain; 1 of the 3 protected units is still ring-fenced for wholesale.
    _reserve(sku, node, channel, 7, manager)
    with pytest.raises(InsufficientStock):
        _reserve(sku, node, channel, 1, manager, line="L2")


def test_a_node_the_channel_does_not_sell_from_is_refused(sku, channel, manager, stocked):
    elsewhere = LocationFactory(code="FAR")
    stocked(sku, elsewhere, 5)

    with pytest.raises(ValidationFailed) as caught:
        _reserve(sku, elsewhere, channel, 1, manager)

    assert caught.value.errors[0].code == "not_eligible"


def test_reserved_units_cannot_be_moved_out_of_sellable(sku, node, channel, manager, stocked):
    stocked(sku, node, 5)
    _reserve(sku, node, channel, 4, manager)

    with pytest.raises(InsufficientStock) as caught:
        change_status(
            sku=sku,
            location=node,
            quantity=2,
            from_status="sellable",
            to_status="damaged",
            actor=manager,
            reason="dropped",
        )

    assert caught.value.errors[0].code == "reserved_stock"


def test_releasing_gives_the_units_back(sku, node, channel, manager, stocked):
    stocked(sku, node, 5)
    reservation = _reserve(sku, node, channel, 4, manager)

    release_reservation(reservation_id=reservation.pk, actor=manager, quantity=1)
    assert balance(sku, node).reserved == 3
    release_reservation(reservation_id=reservation.pk, actor=manager)

    reservation.refresh_from_db()
    assert reservation.state == "released"
    assert balance(sku, node).reserved == 0
    with pytest.raises(Conflict):
        release_reservation(reservation_id=reservation.pk, actor=manager)


def test_consuming_ships_stock_and_the_reservation_together(sku, node, channel, manager, stocked):
    stocked(sku, node, 5)
    reservation = _reserve(sku, node, channel, 3, manager)

    consume_reservation(reservation_id=reservation.pk, actor=manager, quantity=2, reference="SHP-1")

    assert (balance(sku, node).on_hand, balance(sku, node).reserved) == (3, 1)
    shipment = StockLedgerEntry.objects.get(kind="shipment")
    assert (shipment.quantity, shipment.reference) == (-2, "SHP-1")
    with pytest.raises(ValidationFailed):
        consume_reservation(reservation_id=reservation.pk, actor=manager, quantity=2)
    consume_reservation(reservation_id=reservation.pk, actor=manager, quantity=1)
    reservation.refresh_from_db()
    assert reservation.state == "consumed"


def test_reserving_twice_for_the_same_line_adds_to_one_reservation(
    sku, node, channel, manager, stocked
):
    stocked(sku, node, 5)

    _reserve(sku, node, channel, 1, manager)
    _reserve(sku, node, channel, 2, manager)

    assert Reservation.objects.get().quantity == 3
