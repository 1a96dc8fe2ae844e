"""Slots and waves: released orders grouped by cutoff and priority, pick lists in slot order."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from erp.errors import NotPermitted, ValidationFailed
from erp.models import Location
from fulfillment.models import PickList, PickTask, Slot, Wave
from fulfillment.services.waves import assign_slot, build_waves
from inventory.services.movements import receive_stock
from orders.models import Allocation, ChannelOrderPolicy, DropshipSource, OrderEvent, OrderState
from tests.factories import ChannelFactory, LocationFactory, SkuFactory
from tests.factories.fulfillment import (
    CarrierServiceFactory,
    ChannelFulfillmentPolicyFactory,
    released_order,
    stocked_sku,
)

pytestmark = pytest.mark.django_db

# Wednesday 5 March 2025, 10:00 UTC (the node's zone in these tests).
WEDNESDAY_10AM = datetime(2025, 3, 5, 10, 0, tzinfo=UTC)
TONIGHT = datetime(2025, 3, 5, 23, 59, 59, tzinfo=UTC)


@pytest.fixture(autouse=True)
def utc(settings):
    settings.TIME_ZONE = "UTC"


@pytest.fixture
def node(db):
    return LocationFactory(code="WH-A", priority=1)


@pytest.fixture
def shop(node):
    channel = ChannelFactory(code="SHOP", kind="shopify", eligible_locations=[node])
    ChannelOrderPolicy.objects.create(channel=channel, priority=50)
    return channel


@pytest.fixture
def services(db):
    """Standard leaves at 17:00, priority at 12:00; nothing carries economy."""
    standard = CarrierServiceFactory(code="GROUND", service_level="standard", cutoff_time=time(17))
    priority = CarrierServiceFactory(
        carrier=standard.carrier, code="NDA", service_level="priority", cutoff_time=time(12)
    )
    return standard, priority


def sku_at(node, manager, slot=None, quantity=100, **fields):
    return stocked_sku(node, quantity, manager, slot=slot, **fields)


def test_released_orders_become_a_wave_with_pick_lists_in_slot_order(
    node, shop, services, manager, warehouse_user
):
    b2 = sku_at(node, manager, "B-02-1")
    a10 = sku_at(node, manager, "A-10-1")
    a2 = sku_at(node, manager, "A-2-1")
    loose = sku_at(node, manager)
    first = released_order(shop, [(b2, 1), (loose, 2)], manager, ship_by=TONIGHT)
    second = released_order(shop, [(a10, 3), (a2, 1)], manager, ship_by=TONIGHT)

    waves = build_waves(location=node, actor=warehouse_user, now=WEDNESDAY_10AM)

    assert len(waves) == 1
    wave = Wave.objects.get()
    assert (wave.order_count, wave.line_count, wave.state) == (2, 4, Wave.State.OPEN)
    assert wave.cutoff_at == datetime(2025, 3, 5, 17, 0, tzinfo=UTC)
    tasks = list(PickTask.objects.filter(pick_list__wave=wave).order_by("sequence"))
    assert [t.slot_code for t in tasks] == ["A-2-1", "A-10-1", "B-02-1", ""]
    assert [t.sku_id for t in tasks] == [a2.pk, a10.pk, b2.pk, loose.pk]
    assert [t.quantity for t in tasks] == [1, 3, 1, 2]
    assert waves[0].unslotted_skus == [loose.code]
    for order in (first, second):
        order.refresh_from_db()
        assert order.state == OrderState.PICKING
        event = OrderEvent.objects.filter(order=order, to_state=OrderState.PICKING).get()
        assert event.from_state == OrderState.RELEASED
        assert event.message == f"In wave {wave.number}"
        assert event.actor == warehouse_user


def test_orders_are_grouped_by_the_next_cutoff_of_their_service_level(
    node, shop, services, manager, warehouse_user
):
    sku = sku_at(node, manager, "A-01-1")
    standard = released_order(shop, [(sku, 1)], manager, service_level="standard")
    priority = released_order(shop, [(sku, 1)], manager, service_level="priority")
    economy = released_order(shop, [(sku, 1)], manager, service_level="economy")

    waves = build_waves(location=node, actor=warehouse_user, now=WEDNESDAY_10AM)

    by_cutoff = {
        wave.cutoff_at: set(
            PickTask.objects.filter(pick_list__wave=wave).values_list("order_id", flat=True)
        )
        for wave in waves
    }
    assert by_cutoff == {
        datetime(2025, 3, 5, 12, 0, tzinfo=UTC): {priority.pk},
        datetime(2025, 3, 5, 17, 0, tzinfo=UTC): {standard.pk},
        TONIGHT: {economy.pk},  # no service carries economy: the end of the day
    }
    assert [w.cutoff_at for w in waves] == sorted(by_cutoff)


def test_after_a_cutoff_the_next_working_days_cutoff_applies(
    node, shop, services, manager, warehouse_user
):
    sku = sku_at(node, manager, "A-01-1")
    released_order(shop, [(sku, 1)], manager, service_level="priority")
    friday_1pm = datetime(2025, 3, 7, 13, 0, tzinfo=UTC)

    (wave,) = build_waves(location=node, actor=warehouse_user, now=friday_1pm)

    assert wave.cutoff_at == datetime(2025, 3, 10, 12, 0, tzinfo=UTC)  # Monday noon


def test_strict_penalty_orders_due_today_get_a_same_day_wave_first(
    node, shop, services, manager, warehouse_user
):
    marketplace = ChannelFactory(code="MKT", kind="amazon", eligible_locations=[node])
    ChannelOrderPolicy.objects.create(channel=marketplace, priority=90)
    ChannelFulfillmentPolicyFactory(channel=marketplace, strict_penalties=True)
    sku = sku_at(node, manager, "A-01-1")
    ordinary = released_order(shop, [(sku, 1)], manager, ship_by=TONIGHT)
    strict_today = released_order(marketplace, [(sku, 1)], manager, ship_by=TONIGHT)
    strict_later = released_order(
        marketplace, [(sku, 1)], manager, ship_by=TONIGHT + timedelta(days=2)
    )

    waves = build_waves(location=node, actor=warehouse_user, now=WEDNESDAY_10AM, pick_list_size=1)

    same_day, regular = waves
    assert (same_day.same_day, same_day.priority, same_day.order_count) == (True, 0, 1)
    assert PickTask.objects.get(pick_list__wave=same_day).order_id == strict_today.pk
    assert same_day.cutoff_at == regular.cutoff_at == datetime(2025, 3, 5, 17, tzinfo=UTC)
    # In the regular wave the strict channel still goes first, despite its priority 90.
    walk = list(
        PickTask.objects.filter(pick_list__wave=regular)
        .order_by("pick_list__sequence")
        .values_list("order_id", flat=True)
    )
    assert walk == [strict_later.pk, ordinary.pk]
    assert regular.same_day is False and regular.priority == 50


def test_channel_priority_then_ship_by_order_the_pick_lists(
    node, shop, services, manager, warehouse_user
):
    b2b = ChannelFactory(code="B2B", kind="b2b", eligible_locations=[node])
    ChannelOrderPolicy.objects.create(channel=b2b, priority=10)
    sku = sku_at(node, manager, "A-01-1")
    shop_late = released_order(shop, [(sku, 1)], manager, ship_by=TONIGHT + timedelta(days=3))
    shop_soon = released_order(shop, [(sku, 1)], manager, ship_by=TONIGHT + timedelta(days=1))
    b2b_order = released_order(b2b, [(sku, 1)], manager, ship_by=TONIGHT + timedelta(days=5))

    (wave,) = build_waves(location=node, actor=warehouse_user, now=WEDNESDAY_10AM, pick_list_size=1)

    lists = PickList.objects.filter(wave=wave).order_by("sequence")
    assert [pl.tasks.get().order_id for pl in lists] == [b2b_order.pk, shop_soon.pk, shop_late.pk]
    assert wave.priority == 10


def test_pick_lists_hold_whole_orders_up_to_their_size(
    node, shop, services, manager, warehouse_user
):
    skus = [sku_at(node, manager, f"A-0{n}-1") for n in range(1, 4)]
    big = released_order(shop, [(s, 1) for s in skus], manager, ship_by=TONIGHT)
    small_one = released_order(shop, [(skus[0], 1)], manager, ship_by=TONIGHT + timedelta(days=1))
    small_two = released_order(shop, [(skus[1], 1)], manager, ship_by=TONIGHT + timedelta(days=2))

    (wave,) = build_waves(location=node, actor=warehouse_user, now=WEDNESDAY_10AM, pick_list_size=2)

    contents = [
        sorted(set(pl.tasks.values_list("order_id", flat=True)))
        for pl in PickList.objects.filter(wave=wave).order_by("sequence")
    ]
    # The 3-line order is larger than a list: alone; the two small ones share the next.
    assert contents == [[big.pk], sorted([small_one.pk, small_two.pk])]


def test_max_orders_waves_the_most_urgent_and_leaves_the_rest_released(
    node, shop, services, manager, warehouse_user
):
    sku = sku_at(node, manager, "A-01-1")
    later = released_order(shop, [(sku, 1)], manager, ship_by=TONIGHT + timedelta(days=2))
    sooner = released_order(shop, [(sku, 1)], manager, ship_by=TONIGHT)

    (wave,) = build_waves(location=node, actor=warehouse_user, now=WEDNESDAY_10AM, max_orders=1)

    assert PickTask.objects.get(pick_list__wave=wave).order_id == sooner.pk
    later.refresh_from_db()
    assert later.state == OrderState.RELEASED
    assert [w.order_count for w in build_waves(location=node, actor=warehouse_user)] == [1]


def test_waved_drop_shipped_and_other_nodes_allocations_are_left_out(
    node, shop, services, manager, warehouse_user
):
    other = LocationFactory(code="WH-B", priority=5)
    supplier = LocationFactory(code="SUPPLIER", kind=Location.Kind.DROPSHIP, priority=99)
    shop.eligible_locations.add(other)
    here = sku_at(node, manager, "A-01-1")
    there = sku_at(other, manager, "A-01-1")
    shipped_by_supplier = SkuFactory(code="DROP-1")
    DropshipSource.objects.create(sku=shipped_by_supplier, location=supplier)
    mine = released_order(shop, [(here, 1)], manager)
    theirs = released_order(shop, [(there, 1)], manager)
    dropped = released_order(shop, [(shipped_by_supplier, 1)], manager)
    assert Allocation.objects.get(line__order=dropped).dropship

    waves = build_waves(location=node, actor=warehouse_user, now=WEDNESDAY_10AM)

    assert set(PickTask.objects.values_list("order_id", flat=True)) == {mine.pk}
    assert [w.order_count for w in waves] == [1]
    assert build_waves(location=node, actor=warehouse_user, now=WEDNESDAY_10AM) == []
    for order in (theirs, dropped):
        order.refresh_from_db()
        assert order.state == OrderState.RELEASED


def test_an_order_split_over_two_nodes_is_waved_at_each(
    node, shop, services, manager, warehouse_user
):
    other = LocationFactory(code="WH-B", priority=5)
    shop.eligible_locations.add(other)
    sku = sku_at(node, manager, "A-01-1", quantity=2)
    receive_stock(sku=sku, location=other, quantity=3, actor=manager)
    order = released_order(shop, [(sku, 5)], manager)
    assert sorted(
        Allocation.objects.filter(line__order=order).values_list("quantity", flat=True)
    ) == [2, 3]

    build_waves(location=node, actor=warehouse_user, now=WEDNESDAY_10AM)
    order.refresh_from_db()
    assert order.state == OrderState.PICKING
    build_waves(location=other, actor=warehouse_user, now=WEDNESDAY_10AM)

    assert sorted(
        PickTask.objects.filter(order=order).values_list("location__code", "quantity")
    ) == [
        ("WH-A", 2),
        ("WH-B", 3),
    ]


def _build_counting_queries(node, actor):
    actor.has_perm("fulfillment.add_wave")  # permissions cached: count the wave's own queries
    with CaptureQueriesContext(connection) as queries:
        build_waves(location=node, actor=actor, now=WEDNESDAY_10AM)
    return len(queries)


def test_building_waves_takes_the_same_queries_for_2_and_for_12_orders(
    node, shop, services, manager, warehouse_user
):
    skus = [sku_at(node, manager, f"A-0{n}-1") for n in range(1, 4)]
    for index in range(2):
        released_order(shop, [(skus[index], 1), (skus[2], 1)], manager)
    few = _build_counting_queries(node, warehouse_user)
    for index in range(12):
        released_order(shop, [(skus[index % 2], 1), (skus[2], 2)], manager)

    many = _build_counting_queries(node, warehouse_user)

    assert PickTask.objects.count() == 28
    assert many == few


@pytest.mark.parametrize("role_user", ["cs_user", "integration_user", "finance_user"])
def test_only_the_floor_and_managers_build_waves(node, shop, manager, role_user, request):
    sku = sku_at(node, manager, "A-01-1")
    released_order(shop, [(sku, 1)], manager)

    with pytest.raises(NotPermitted):
        build_waves(location=node, actor=request.getfixturevalue(role_user))

    assert build_waves(location=node, actor=manager)[0].order_count == 1


@pytest.mark.parametrize(
    "arguments, field",
    [({"pick_list_size": 0}, "pick_list_size"), ({"max_orders": 0}, "max_orders")],
)
def test_bad_wave_arguments_are_refused(node, warehouse_user, arguments, field):
    with pytest.raises(ValidationFailed) as refused:
        build_waves(location=node, actor=warehouse_user, **arguments)
    assert refused.value.errors[0].field == field


def test_a_drop_ship_node_has_no_waves(warehouse_user, db):
    supplier = LocationFactory(code="SUPPLIER", kind=Location.Kind.DROPSHIP)
    with pytest.raises(ValidationFailed) as refused:
        build_waves(location=supplier, actor=warehouse_user)
    assert refused.value.errors[0].code == "not_picked"


def test_assigning_a_slot_normalizes_it_and_moving_it_keeps_history(node, warehouse_user):
    sku = SkuFactory(code="TEE")

    slot = assign_slot(sku=sku, location=node, code=" a-3-2 ", actor=warehouse_user)
    moved = assign_slot(sku=sku, location=node, code="B-11-1", actor=warehouse_user)

    assert moved.pk == slot.pk
    assert Slot.objects.get().code == "B-11-1"
    assert [h.code for h in Slot.history.order_by("history_id")] == ["A-3-2", "B-11-1"]
    assert Slot.history.last().history_user == warehouse_user


@pytest.mark.parametrize("code", ["", "A3-2", "A-1234-1", "A-1-123", "a_1_2"])
def test_a_slot_code_that_is_not_aisle_bay_level_is_refused(node, warehouse_user, code):
    with pytest.raises(ValidationFailed) as refused:
        assign_slot(sku=SkuFactory(), location=node, code=code, actor=warehouse_user)
    assert (refused.value.errors[0].field, refused.value.errors[0].code) == ("code", "invalid_slot")
    assert not Slot.objects.exists()


def test_customer_service_cannot_assign_slots(node, cs_user):
    with pytest.raises(NotPermitted):
        assign_slot(sku=SkuFactory(), location=node, code="A-1-1", actor=cs_user)
