"""What fulfillment added to inventory and orders: consuming reservations by lot and
serial, counts of given SKUs, set-based order transitions, re-routing lines in flight."""

import pytest

from erp.errors import Conflict, NotPermitted, ValidationFailed
from inventory.models import LotBalance, Reservation, SerialNumber, StockBalance, StockLedgerEntry
from inventory.services.counts import SKUS_SCOPE, create_count
from inventory.services.movements import receive_stock
from inventory.services.reservations import (
    Consumption,
    consume_reservations,
    release_reservation,
    reserve_stock,
)
from inventory.services.verification import find_balance_differences
from orders.models import Allocation, LineState, Order, OrderEvent, OrderState
from orders.services.in_fulfillment import advance_orders, route_line_in_fulfillment
from orders.services.shipments import take_back_short_units
from tests.factories import ChannelFactory, LocationFactory, LotFactory, SkuFactory
from tests.factories.fulfillment import released_order, stocked_sku

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def ledger_matches_balances():
    yield
    assert find_balance_differences() == []


@pytest.fixture
def node(db):
    return LocationFactory(code="WH-A", priority=1)


@pytest.fixture
def other(db):
    return LocationFactory(code="WH-B", priority=2)


@pytest.fixture
def channel(node, other):
    return ChannelFactory(code="WEB", eligible_locations=[node, other])


def reserve(sku, node, channel, quantity, manager, line="order-line:1"):
    return reserve_stock(
        sku=sku,
        location=node,
        channel=channel,
        quantity=quantity,
        line_reference=line,
        actor=manager,
    )


def test_consuming_by_lot_ships_each_lot_and_shrinks_the_hold(node, channel, manager):
    sku = SkuFactory(code="VIT", lot_tracked=True)
    first, second = LotFactory(sku=sku, code="L1"), LotFactory(sku=sku, code="L2")
    receive_stock(sku=sku, location=node, quantity=3, lot=first, actor=manager)
    receive_stock(sku=sku, location=node, quantity=3, lot=second, actor=manager)
    reservation = reserve(sku, node, channel, 5, manager)

    consume_reservations(
        consumptions=[
            Consumption(reservation.pk, 3, first.pk),
            Consumption(reservation.pk, 1, second.pk),
        ],
        actor=manager,
        reference="SH0000001",
    )

    reservation.refresh_from_db()
    assert (reservation.state, reservation.quantity) == (Reservation.State.ACTIVE, 1)
    balance = StockBalance.objects.get(sku=sku, location=node, status="sellable")
    assert (balance.on_hand, balance.reserved) == (2, 1)
    assert dict(LotBalance.objects.values_list("lot__code", "on_hand")) == {"L1": 0, "L2": 2}
    assert sorted(
        StockLedgerEntry.objects.filter(kind="shipment").values_list(
            "lot__code", "quantity", "reference"
        )
    ) == [("L1", -3, "SH0000001"), ("L2", -1, "SH0000001")]

    consume_reservations(
        consumptions=[Consumption(reservation.pk, 1, second.pk)], actor=manager, reference="SH2"
    )
    reservation.refresh_from_db()
    assert reservation.state == Reservation.State.CONSUMED


def test_more_than_reserved_refuses_the_whole_parcel(node, channel, manager):
    tee, mug = SkuFactory(code="TEE"), SkuFactory(code="MUG")
    for sku in (tee, mug):
        receive_stock(sku=sku, location=node, quantity=5, actor=manager)
    tees = reserve(tee, node, channel, 2, manager, "order-line:1")
    mugs = reserve(mug, node, channel, 1, manager, "order-line:2")

    with pytest.raises(ValidationFailed) as refused:
        consume_reservations(
            consumptions=[
                Consumption(tees.pk, 2),
                Consumption(mugs.pk, 1),
                Consumption(mugs.pk, 1),
            ],
            actor=manager,
            reference="SH1",
        )

    assert (refused.value.errors[0].field, refused.value.errors[0].code) == (
        "lines[2].quantity",
        "max_value",
    )
    assert not StockLedgerEntry.objects.filter(kind="shipment").exists()
    assert StockBalance.objects.get(sku=tee, location=node).reserved == 2


def test_a_lot_is_required_exactly_for_lot_tracked_skus(node, channel, manager):
    vitamins = SkuFactory(code="VIT", lot_tracked=True)
    lot = LotFactory(sku=vitamins, code="L1")
    tee = SkuFactory(code="TEE")
    receive_stock(sku=vitamins, location=node, quantity=2, lot=lot, actor=manager)
    receive_stock(sku=tee, location=node, quantity=2, actor=manager)
    vits = reserve(vitamins, node, channel, 1, manager, "order-line:1")
    tees = reserve(tee, node, channel, 1, manager, "order-line:2")

    for consumption in (Consumption(vits.pk, 1), Consumption(tees.pk, 1, lot.pk)):
        with pytest.raises(ValidationFailed) as refused:
            consume_reservations(consumptions=[consumption], actor=manager, reference="SH1")
        assert refused.value.errors[0].code == "lot_mismatch"


def test_serials_must_be_in_stock_at_the_node_and_are_marked_shipped(node, other, channel, manager):
    phone = SkuFactory(code="PHONE", serial_tracked=True)
    receive_stock(sku=phone, location=node, quantity=2, serials=["P1", "P2"], actor=manager)
    receive_stock(sku=phone, location=other, quantity=1, serials=["P9"], actor=manager)
    reservation = reserve(phone, node, channel, 2, manager)

    for serials, code in [(("P1",), "count"), (("P1", "P9"), "serial_not_in_stock")]:
        with pytest.raises(ValidationFailed) as refused:
            consume_reservations(
                consumptions=[Consumption(reservation.pk, 2, None, serials)],
                actor=manager,
                reference="SH1",
            )
        assert refused.value.errors[0].code == code

    consume_reservations(
        consumptions=[Consumption(reservation.pk, 2, None, ("P1", "P2"))],
        actor=manager,
        reference="SH1",
    )
    assert set(SerialNumber.objects.filter(state="shipped").values_list("serial", flat=True)) == {
        "P1",
        "P2",
    }
    shipped = SerialNumber.history.filter(serial="P1").order_by("history_id").last()
    assert (shipped.state, shipped.history_user) == ("shipped", manager)


def test_a_released_reservation_cannot_be_shipped(node, channel, manager, finance_user):
    tee = SkuFactory(code="TEE")
    receive_stock(sku=tee, location=node, quantity=2, actor=manager)
    reservation = reserve(tee, node, channel, 1, manager)
    release_reservation(reservation_id=reservation.pk, actor=manager)

    with pytest.raises(Conflict):
        consume_reservations(
            consumptions=[Consumption(reservation.pk, 1)], actor=manager, reference="SH1"
        )
    with pytest.raises(NotPermitted):
        consume_reservations(
            consumptions=[Consumption(reservation.pk, 1)], actor=finance_user, reference="SH1"
        )


def test_a_count_of_given_skus_lists_exactly_them(node, manager, warehouse_user):
    tee = stocked_sku(node, 7, manager, code="TEE")
    stocked_sku(node, 3, manager, code="MUG")
    never_here = SkuFactory(code="NEW")

    count = create_count(
        location=node, scope=SKUS_SCOPE, sku_ids=[tee.pk, never_here.pk], actor=warehouse_user
    )

    assert sorted(count.lines.values_list("sku__code", "expected")) == [("NEW", 0), ("TEE", 7)]
    with pytest.raises(ValidationFailed) as refused:
        create_count(location=node, scope=SKUS_SCOPE, sku_ids=[], actor=warehouse_user)
    assert refused.value.errors[0].field == "sku_ids"


def test_many_orders_advance_in_one_go_and_an_illegal_step_refuses_them_all(node, channel, manager):
    sku = stocked_sku(node, 10, manager, code="TEE")
    orders = [released_order(channel, [(sku, 1)], manager) for _ in range(3)]

    advance_orders(orders=orders[:2], to_state=OrderState.PICKING, actor=manager, message="W1")

    assert set(
        Order.objects.filter(pk__in=[o.pk for o in orders[:2]]).values_list("state", flat=True)
    ) == {OrderState.PICKING}
    assert OrderEvent.objects.filter(kind="state", to_state="picking", message="W1").count() == 2
    assert Order.history.filter(state="picking").count() == 2
    mixed = [Order.objects.get(pk=orders[2].pk), Order.objects.get(pk=orders[0].pk)]
    with pytest.raises(Conflict):
        advance_orders(orders=mixed, to_state=OrderState.PACKED, actor=manager, message="x")
    with pytest.raises(Conflict):
        advance_orders(orders=mixed, to_state=OrderState.RELEASED, actor=manager, message="x")
    assert Order.objects.get(pk=orders[2].pk).state == OrderState.RELEASED


def test_re_routing_in_flight_avoids_the_short_node_and_nodes_counting_the_sku(
    node, other, channel, manager, warehouse_user
):
    third = LocationFactory(code="WH-C", priority=3)
    channel.eligible_locations.add(third)
    sku = stocked_sku(node, 5, manager, code="TEE")
    receive_stock(sku=sku, location=other, quantity=5, actor=manager)
    receive_stock(sku=sku, location=third, quantity=5, actor=manager)
    order = released_order(channel, [(sku, 4)], manager)
    line = order.lines.get()
    create_count(location=other, scope=SKUS_SCOPE, sku_ids=[sku.pk], actor=warehouse_user)
    at_a = Allocation.objects.get(line=line)
    take_back_short_units(allocation_id=at_a.pk, missing=2, actor=warehouse_user)  # 2 not there

    allocated = route_line_in_fulfillment(
        order=order, line=line, actor=warehouse_user, avoid_location_id=node.pk
    )

    assert allocated == 2
    assert sorted(
        Allocation.objects.filter(line=line, active=True).values_list("location__code", "quantity")
    ) == [("WH-A", 2), ("WH-C", 2)]
    assert StockBalance.objects.get(sku=sku, location=third, status="sellable").reserved == 2
    line.refresh_from_db()
    assert line.state == LineState.ALLOCATED
