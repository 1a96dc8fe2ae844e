"""The warehouse dashboard's figures: today's waves with progress, late orders, pickers'
lines per hour. One query per figure, however many rows."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from fulfillment.models import PickTask
from fulfillment.selectors import late_orders, picker_productivity, todays_waves
from fulfillment.services.picking import confirm_pick, report_short_pick
from fulfillment.services.waves import build_waves
from orders.models import Order, OrderState
from tests.factories import ChannelFactory, LocationFactory, UserFactory
from tests.factories.fulfillment import released_order, stocked_sku

pytestmark = pytest.mark.django_db


@pytest.fixture
def node(db):
    return LocationFactory(code="WH-A")


@pytest.fixture
def shop(node):
    return ChannelFactory(code="SHOP", eligible_locations=[node])


@pytest.fixture
def skus(node, manager):
    return [stocked_sku(node, 100, manager, slot=f"A-0{n}-1", code=f"S{n}") for n in (1, 2, 3)]


def pick_all(tasks, user):
    for task in tasks:
        confirm_pick(
            task_id=task.pk,
            slot_code=task.slot_code,
            barcode=task.sku.barcode,
            quantity=task.quantity,
            actor=user,
        )


def test_todays_waves_show_lines_picked_out_of_total(
    shop, node, skus, manager, warehouse_user, django_assert_num_queries
):
    for _ in range(2):
        released_order(shop, [(skus[0], 1), (skus[1], 2), (skus[2], 1)], manager)
    (wave,) = build_waves(location=node, actor=manager)
    first, second, third, *_ = PickTask.objects.select_related("sku").order_by("sequence")
    pick_all([first, second], warehouse_user)
    report_short_pick(task_id=third.pk, quantity_found=0, actor=warehouse_user)

    with django_assert_num_queries(1):
        (row,) = list(todays_waves(location=node))

    assert row.pk == wave.pk
    assert (row.lines_picked, row.lines_total) == (3, 6)
    assert row.units_total == 8
    assert row.units_picked == first.quantity + second.quantity


def test_same_day_waves_come_first_and_old_waves_are_not_today(
    shop, node, skus, manager, django_assert_num_queries
):
    released_order(shop, [(skus[0], 1)], manager)
    (old,) = build_waves(location=node, actor=manager)
    type(old).objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=3),
        cutoff_at=timezone.now() - timedelta(days=3),
    )
    released_order(shop, [(skus[0], 1)], manager)
    (regular,) = build_waves(location=node, actor=manager)
    released_order(shop, [(skus[1], 1)], manager)
    (same_day,) = build_waves(location=node, actor=manager)
    type(same_day).objects.filter(pk=same_day.pk).update(same_day=True)

    with django_assert_num_queries(1):
        rows = [wave.pk for wave in todays_waves()]

    assert rows == [same_day.pk, regular.pk]


def test_late_orders_are_those_past_ship_by_and_not_shipped(shop, node, skus, manager):
    now = timezone.now()
    late = released_order(shop, [(skus[0], 1)], manager, ship_by=now - timedelta(hours=2))
    later = released_order(shop, [(skus[0], 1)], manager, ship_by=now - timedelta(hours=1))
    released_order(shop, [(skus[0], 1)], manager, ship_by=now + timedelta(hours=5))
    shipped = released_order(shop, [(skus[0], 1)], manager, ship_by=now - timedelta(hours=3))
    Order.objects.filter(pk=shipped.pk).update(state=OrderState.SHIPPED)
    elsewhere = LocationFactory(code="WH-Z")

    assert [o.pk for o in late_orders()] == [late.pk, later.pk]
    assert [o.pk for o in late_orders(location=node)] == [late.pk, later.pk]
    assert list(late_orders(location=elsewhere)) == []


def at(hour: int, minute: int) -> datetime:
    """Today at this local time."""
    zone = timezone.get_current_timezone()
    return datetime.combine(timezone.localdate(), time(hour, minute), tzinfo=zone)


def test_productivity_is_lines_per_active_hour_per_picker(
    shop, node, skus, manager, django_assert_num_queries
):
    ada = UserFactory(username="ada", roles=["warehouse"])
    bob = UserFactory(username="bob", roles=["warehouse"])
    for _ in range(3):
        released_order(shop, [(skus[0], 1), (skus[1], 1)], manager)
    build_waves(location=node, actor=manager)
    tasks = list(PickTask.objects.select_related("sku").order_by("pk"))
    pick_all(tasks[:4], ada)
    pick_all(tasks[4:5], bob)
    moments = [at(9, 10), at(9, 50), at(10, 5), at(10, 20), at(10, 40)]
    for task, moment in zip(tasks[:5], moments, strict=True):
        PickTask.objects.filter(pk=task.pk).update(picked_at=moment)

    with django_assert_num_queries(1):
        figures = picker_productivity(now=at(12, 0))

    # Ada finished 4 lines in two clock hours (9 and 10), Bob 1 in one.
    assert [(f.username, f.lines, f.active_hours, f.lines_per_hour) for f in figures] == [
        ("ada", 4, 2, 2.0),
        ("bob", 1, 1, 1.0),
    ]
    assert picker_productivity(location=LocationFactory(code="WH-Z"), now=at(12, 0)) == []
    assert picker_productivity(now=at(12, 0) + timedelta(days=1)) == []
