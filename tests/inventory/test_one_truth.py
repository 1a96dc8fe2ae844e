"""Available-to-promise has one definition (inventory.selectors.ATP_SQL) that the channel
feed, the reserve API, routing under its lock, the stock API and the screens all read, and
one reservation path (reserve_many) that single-row callers go through."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from erp.models import Location
from inventory import selectors
from inventory.errors import InsufficientStock
from inventory.models import Reservation
from inventory.services.reservations import (
    ReservationRequest,
    lock_stock_for_routing,
    release_reservation,
    reserve_many,
    reserve_stock,
)
from tests.conftest import token_client
from tests.factories import (
    AllocationRuleFactory,
    ChannelFactory,
    LocationFactory,
    SafetyStockFactory,
    SkuFactory,
)
from tests.inventory.conftest import balance

pytestmark = pytest.mark.django_db


def _figure(channel, sku):
    return selectors.compute_availability(channel=channel, sku_ids=[sku.pk])[sku.pk]


@pytest.fixture
def store(db):
    return LocationFactory(code="STORE-1", kind=Location.Kind.STORE, shelf_floor=2)


@pytest.fixture
def backroom(db):
    """A node that holds stock but does not ship (a showroom, a returns cage)."""
    return LocationFactory(code="SHOWROOM", can_ship=False)


# --- nodes that do not ship ---------------------------------------------------------------


def test_the_feed_does_not_promise_stock_at_a_node_that_does_not_ship(sku, node, backroom, stocked):
    channel = ChannelFactory(code="WEB", eligible_locations=[node, backroom])
    stocked(sku, node, 3)
    stocked(sku, backroom, 10)

    figure = _figure(channel, sku)

    assert (figure.pool, figure.available, figure.reservable) == (3, 3, 3)
    assert selectors.channel_pools(channel_id=channel.pk, sku_ids=[sku.pk]) == {sku.pk: 3}


def test_stock_at_a_node_that_does_not_ship_cannot_be_reserved(
    sku, node, backroom, manager, stocked
):
    channel = ChannelFactory(code="WEB", eligible_locations=[node, backroom])
    stocked(sku, backroom, 10)

    with pytest.raises(InsufficientStock):
        reserve_stock(
            sku=sku,
            location=backroom,
            channel=channel,
            quantity=1,
            line_reference="L1",
            actor=manager,
        )

    assert not Reservation.objects.exists()
    assert balance(sku, backroom).reserved == 0


# --- a store's shelf floor -----------------------------------------------------------------


def test_a_stores_shelf_floor_is_kept_out_of_the_feed(sku, store, stocked):
    channel = ChannelFactory(code="WEB", eligible_locations=[store])
    stocked(sku, store, 5)

    assert _figure(channel, sku).available == 3
    assert selectors.available_to_promise(sku_id=sku.pk, location_id=store.pk) == 3


def test_the_reserve_api_never_takes_a_stores_shelf_floor(sku, store, manager, stocked):
    channel = ChannelFactory(code="WEB", eligible_locations=[store])
    stocked(sku, store, 5)

    with pytest.raises(InsufficientStock):
        reserve_stock(
            sku=sku, location=store, channel=channel, quantity=4, line_reference="L1", actor=manager
        )
    reservation = reserve_stock(
        sku=sku, location=store, channel=channel, quantity=3, line_reference="L1", actor=manager
    )

    assert reservation.quantity == 3
    assert balance(sku, store).reserved == 3


def test_routing_reads_the_same_atp_under_its_lock(sku, node, store, backroom, stocked):
    channel = ChannelFactory(code="WEB", eligible_locations=[node, store, backroom])
    stocked(sku, node, 4)
    stocked(sku, store, 5)
    stocked(sku, backroom, 7)
    SafetyStockFactory(sku=sku, location=node, quantity=1)

    stock = lock_stock_for_routing(channel=channel, sku_ids=[sku.pk])

    assert stock.atp == {(sku.pk, node.pk): 3, (sku.pk, store.pk): 3, (sku.pk, backroom.pk): 0}
    assert stock.atp == selectors.node_atp(sku_ids=[sku.pk])
    assert stock.reservable == {sku.pk: 6} == {sku.pk: _figure(channel, sku).reservable}


def test_the_stock_api_and_screens_show_the_same_atp(sku, node, store, backroom, stocked):
    stocked(sku, node, 4)
    stocked(sku, store, 5)
    stocked(sku, backroom, 7)
    SafetyStockFactory(sku=sku, location=node, quantity=1)
    expected = {"WH-A": 3, "STORE-1": 3, "SHOWROOM": 0}

    by_api = {row.location.code: row.available for row in selectors.balances(sku_id=sku.pk)}
    by_node_screen = {row.code: row.available for row in selectors.sku_stock_by_node(sku=sku)}
    at_store = selectors.stock_at_node(location=store).get(pk=sku.pk).available

    assert by_api == expected == by_node_screen
    assert at_store == 3


def test_the_stock_api_answers_available_to_promise(sku, store, manager, stocked):
    stocked(sku, store, 5)

    response = token_client(manager).get("/api/v1/stock/balances/", {"sku": sku.code})

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert (row["on_hand"], row["reserved"], row["available"]) == (5, 0, 3)


# --- ring-fences bind only on stock the protecting channel could ship ------------------------


@pytest.fixture
def network(db):
    return {code: LocationFactory(code=code) for code in ("WH-EAST", "WH-CENT", "3PL-ATL")}


def test_a_ring_fence_does_not_hold_back_units_its_channel_cannot_ship(sku, network, stocked):
    web = ChannelFactory(code="WEB", eligible_locations=[network["WH-EAST"], network["WH-CENT"]])
    b2b = ChannelFactory(code="B2B", eligible_locations=[network["WH-CENT"], network["3PL-ATL"]])
    AllocationRuleFactory(channel=b2b, protected=5)
    stocked(sku, network["WH-EAST"], 6)

    figure = _figure(web, sku)

    assert (figure.pool, figure.protected_for_others, figure.reservable) == (6, 0, 6)


def test_a_ring_fence_holds_back_at_most_the_stock_both_channels_share(sku, network, stocked):
    web = ChannelFactory(code="WEB", eligible_locations=[network["WH-EAST"], network["WH-CENT"]])
    b2b = ChannelFactory(code="B2B", eligible_locations=[network["WH-CENT"], network["3PL-ATL"]])
    AllocationRuleFactory(channel=b2b, protected=5)
    stocked(sku, network["WH-EAST"], 6)
    stocked(sku, network["WH-CENT"], 3)
    stocked(sku, network["3PL-ATL"], 20)

    figure = _figure(web, sku)

    assert (figure.pool, figure.protected_for_others, figure.reservable) == (9, 3, 6)
    assert _figure(b2b, sku).pool == 23


def test_the_reserve_path_honours_the_shared_node_ring_fence(sku, network, manager, stocked):
    web = ChannelFactory(code="WEB", eligible_locations=[network["WH-EAST"], network["WH-CENT"]])
    b2b = ChannelFactory(code="B2B", eligible_locations=[network["WH-CENT"], network["3PL-ATL"]])
    AllocationRuleFactory(channel=b2b, protected=5)
    stocked(sku, network["WH-EAST"], 6)
    stocked(sku, network["WH-CENT"], 3)

    reserve_stock(
        sku=sku,
        location=network["WH-EAST"],
        channel=web,
        quantity=6,
        line_reference="A",
        actor=manager,
    )
    with pytest.raises(InsufficientStock) as refused:
        reserve_stock(
            sku=sku,
            location=network["WH-CENT"],
            channel=web,
            quantity=1,
            line_reference="B",
            actor=manager,
        )

    assert refused.value.errors[0].code == "protected_stock"
    assert balance(sku, network["WH-CENT"]).reserved == 0


# --- one reservation path -------------------------------------------------------------------


def test_reserving_again_for_a_line_at_the_same_node_adds_to_its_reservation(
    sku, node, channel, manager, stocked
):
    stocked(sku, node, 10)

    with transaction.atomic():
        stock = lock_stock_for_routing(channel=channel, sku_ids=[sku.pk])
        [first] = reserve_many(
            channel=channel,
            requests=[ReservationRequest(sku.pk, node.pk, 2, "ORDER-1:1")],
            stock=stock,
            actor=manager,
        )
    with transaction.atomic():
        stock = lock_stock_for_routing(channel=channel, sku_ids=[sku.pk])
        [again] = reserve_many(
            channel=channel,
            requests=[ReservationRequest(sku.pk, node.pk, 3, "ORDER-1:1")],
            stock=stock,
            actor=manager,
        )

    assert again.pk == first.pk
    assert Reservation.objects.get().quantity == 5
    assert balance(sku, node).reserved == 5


def test_a_partial_release_shrinks_the_reservation_and_the_balance(
    sku, node, channel, manager, stocked
):
    stocked(sku, node, 10)
    reservation = reserve_stock(
        sku=sku, location=node, channel=channel, quantity=4, line_reference="L1", actor=manager
    )

    release_reservation(reservation_id=reservation.pk, actor=manager, quantity=1)
    reservation.refresh_from_db()

    assert (reservation.state, reservation.quantity) == ("active", 3)
    assert balance(sku, node).reserved == 3
    release_reservation(reservation_id=reservation.pk, actor=manager)
    reservation.refresh_from_db()
    assert (reservation.state, reservation.quantity) == ("released", 3)
    assert balance(sku, node).reserved == 0


def test_reserving_a_batch_costs_the_same_queries_for_one_line_or_many(
    node, channel, manager, stocked
):
    skus = [SkuFactory(code=f"S{n}") for n in range(6)]
    for item in skus:
        stocked(item, node, 10)

    def queries(count):
        with transaction.atomic(), CaptureQueriesContext(connection) as captured:
            stock = lock_stock_for_routing(channel=channel, sku_ids=[s.pk for s in skus[:count]])
            reserve_many(
                channel=channel,
                requests=[
                    ReservationRequest(s.pk, node.pk, 1, f"Q{count}:{s.code}") for s in skus[:count]
                ],
                stock=stock,
                actor=manager,
            )
        return len(captured)

    assert queries(1) == queries(6)
