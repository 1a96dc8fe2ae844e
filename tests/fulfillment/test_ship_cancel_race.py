"""A shipment and a cancellation racing for one line, on the production paths
(`confirm_shipment` and the orders cancel services) with separate PostgreSQL connections:
exactly one wins, and reservations, allocations and the ledger agree whichever did."""

import time

import pytest

from fulfillment.models import PickTask, Shipment
from fulfillment.services.packing import pack_order
from fulfillment.services.picking import confirm_pick
from fulfillment.services.shipping import confirm_shipment
from fulfillment.services.waves import build_waves
from inventory.models import Reservation, StockBalance, StockLedgerEntry
from inventory.services.verification import find_balance_differences
from orders.models import LineState, OrderState
from orders.services.cancellation import cancel_line, cancel_order
from tests.factories import ChannelFactory, LocationFactory
from tests.factories.fulfillment import BoxFactory, CarrierFactory, released_order, stocked_sku
from tests.fulfillment.test_core_concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROUNDS = 4


@pytest.fixture
def floor(manager):
    node = LocationFactory(code="WH-A")
    channel = ChannelFactory(code="SHOP", kind="b2b", eligible_locations=[node])
    sku = stocked_sku(node, 100, manager, slot="A-01-1", code="TEE")
    BoxFactory(code="M")
    return node, channel, sku, CarrierFactory(code="UPS")


def packed_with_label(floor, manager, number: int):
    """An order of 2 tees, picked, packed and labelled: the parcel waits for the truck."""
    node, channel, sku, carrier = floor
    order = released_order(channel, [(sku, 2)], manager)
    build_waves(location=node, actor=manager)
    task = PickTask.objects.get(order=order)
    confirm_pick(
        task_id=task.pk, slot_code="A-01-1", barcode=sku.barcode, quantity=2, actor=manager
    )
    package = pack_order(
        order_id=order.pk,
        location_id=node.pk,
        lines={order.lines.get().pk: 2},
        box_code="M",
        weight_grams=500,
        actor=manager,
    )
    shipment = Shipment.objects.create(
        order=order,
        location=node,
        package=package,
        carrier=carrier,
        tracking_number=f"1Z{number:04d}",
        created_by=manager,
    )
    return order, shipment


def ship_or_cancel(number: int, ship, cancel):
    """Both on their own connections at once; even rounds give the shipment a head start of
    a few milliseconds, odd rounds the cancellation, so each wins at least once and the
    loser always waits on the winner's locks."""

    def act(index):
        if index != number % 2:
            time.sleep(0.05)
        return ship() if index == 0 else cancel()

    return race(act, 2)


def assert_stock_agrees(sku) -> None:
    active = sum(
        Reservation.objects.filter(sku=sku, state=Reservation.State.ACTIVE).values_list(
            "quantity", flat=True
        )
    )
    assert sum(StockBalance.objects.filter(sku=sku).values_list("reserved", flat=True)) == active
    assert find_balance_differences() == []


def assert_one_winner(order, shipment, sku, outcomes, errors, *, cancelled_units: int) -> str:
    assert len(outcomes) == 1 and len(errors) == 1, (outcomes, errors)
    order.refresh_from_db()
    shipment.refresh_from_db()
    line = order.lines.get()
    shipped_entries = StockLedgerEntry.objects.filter(kind="shipment", reference=shipment.number)
    reserved = sum(
        Reservation.objects.filter(
            line_reference=line.reference, state=Reservation.State.ACTIVE
        ).values_list("quantity", flat=True)
    )
    if shipment.state == Shipment.State.SHIPPED:
        assert errors[0].errors[0].code in {"not_cancellable", "below_fulfilled"}
        assert order.state == OrderState.SHIPPED
        assert (line.quantity_shipped, line.quantity_cancelled, line.state) == (2, 0, "shipped")
        assert sum(-entry.quantity for entry in shipped_entries) == 2
        assert reserved == 0
        assert_stock_agrees(sku)
        return "shipped"
    assert errors[0].errors[0].code in {"cancelled", "not_packed", "more_than_picked"}
    assert not shipped_entries.exists()
    assert line.quantity_shipped == 0
    assert line.quantity_cancelled == cancelled_units
    assert reserved == (0 if line.state == LineState.CANCELLED else line.open_quantity)
    assert sum(a.quantity for a in line.allocations.filter(active=True)) == reserved
    assert_stock_agrees(sku)
    return "cancelled"


def test_a_shipment_and_an_order_cancellation_racing_one_wins(floor, manager, cs_user):
    sku = floor[2]
    winners = []
    for number in range(ROUNDS):
        order, shipment = packed_with_label(floor, manager, number)

        outcomes, errors = ship_or_cancel(
            number,
            lambda shipment=shipment: confirm_shipment(shipment_id=shipment.pk, actor=manager),
            lambda order=order: cancel_order(order_id=order.pk, actor=cs_user, reason="called"),
        )

        winners.append(assert_one_winner(order, shipment, sku, outcomes, errors, cancelled_units=0))
        if winners[-1] == "cancelled":
            assert order.state == OrderState.CANCELLED
            assert order.lines.get().state == LineState.CANCELLED
            assert shipment.state == Shipment.State.VOIDED
    assert set(winners) == {"shipped", "cancelled"}


def test_cancelling_the_whole_line_races_the_shipment_like_the_order(floor, manager, cs_user):
    """The order's only line cancelled in full is the order cancelled."""
    sku, winners = floor[2], []
    for number in range(ROUNDS):
        order, shipment = packed_with_label(floor, manager, number)
        line = order.lines.get()

        outcomes, errors = ship_or_cancel(
            number,
            lambda shipment=shipment: confirm_shipment(shipment_id=shipment.pk, actor=manager),
            lambda line=line: cancel_line(
                line_id=line.pk, actor=cs_user, quantity=2, reason="not wanted"
            ),
        )

        winners.append(assert_one_winner(order, shipment, sku, outcomes, errors, cancelled_units=2))
    assert set(winners) == {"shipped", "cancelled"}


def test_a_packed_unit_cannot_be_cancelled_from_under_the_shipment(floor, manager, cs_user):
    """CS cancels one of the two packed units while the parcel is scanned out. Those
    units are in the box: whichever comes first, the parcel ships both and the
    cancellation is refused (settle it as a return), as a channel edit would be. Before,
    a cancellation that came first took the unit's reservation from under the packed
    parcel, which could then never ship."""
    sku = floor[2]
    for number in range(ROUNDS):
        order, shipment = packed_with_label(floor, manager, number)
        line = order.lines.get()

        outcomes, errors = ship_or_cancel(
            number,
            lambda shipment=shipment: confirm_shipment(shipment_id=shipment.pk, actor=manager),
            lambda line=line: cancel_line(
                line_id=line.pk, actor=cs_user, quantity=1, reason="one only"
            ),
        )

        assert assert_one_winner(order, shipment, sku, outcomes, errors, cancelled_units=0) == (
            "shipped"
        )
