"""Picking with a scanner: slot and barcode checks, FEFO lots, serials, short picks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from erp.errors import Conflict, NotPermitted, ValidationFailed
from fulfillment.models import PickConfirmation, PickList, PickTask, ShortPick, Wave
from fulfillment.selectors import open_short_picks
from fulfillment.services.picking import (
    confirm_pick,
    report_short_pick,
    resolve_short_pick,
    start_pick_list,
)
from fulfillment.services.waves import build_waves
from inventory.models import CycleCount, Reservation, StockBalance
from inventory.services.movements import receive_stock
from orders.models import Allocation, LineState, OrderEvent, OrderState
from orders.services.cancellation import cancel_order
from tests.factories import ChannelFactory, LocationFactory, LotFactory, UserFactory
from tests.factories.fulfillment import released_order, stocked_sku

pytestmark = pytest.mark.django_db


@pytest.fixture
def node(db):
    return LocationFactory(code="WH-A", priority=1)


@pytest.fixture
def other_node(db):
    return LocationFactory(code="WH-B", priority=2)


@pytest.fixture
def shop(node, other_node):
    return ChannelFactory(code="SHOP", kind="shopify", eligible_locations=[node, other_node])


@pytest.fixture
def tee(node, manager):
    return stocked_sku(node, 10, manager, slot="A-01-1", code="TEE", barcode="0400000000017")


def waved(shop, lines, manager, node):
    """A released order at `node`, waved: its tasks in line order."""
    order = released_order(shop, lines, manager)
    build_waves(location=node, actor=manager)
    return order, list(PickTask.objects.filter(order=order).order_by("line__line_number"))


def pick(task, user, quantity=None, *, slot=None, barcode=None, **kwargs):
    return confirm_pick(
        task_id=task.pk,
        slot_code=task.slot_code if slot is None else slot,
        barcode=task.sku.barcode if barcode is None else barcode,
        quantity=task.quantity if quantity is None else quantity,
        actor=user,
        **kwargs,
    )


def test_scanning_slot_and_barcode_confirms_the_pick_and_finishes_list_and_wave(
    shop, node, tee, manager, warehouse_user
):
    _, (task,) = waved(shop, [(tee, 2)], manager, node)

    picked = pick(task, warehouse_user)

    assert (picked.state, picked.quantity_picked, picked.picked_by) == (
        PickTask.State.PICKED,
        2,
        warehouse_user,
    )
    confirmation = PickConfirmation.objects.get()
    assert (confirmation.quantity, confirmation.scanned_barcode, confirmation.picked_by) == (
        2,
        "0400000000017",
        warehouse_user,
    )
    pick_list = PickList.objects.get()
    assert (pick_list.state, pick_list.assigned_to) == (PickList.State.DONE, warehouse_user)
    assert Wave.objects.get().state == Wave.State.PICKED
    # Stock leaves at shipment, not at the pick.
    assert StockBalance.objects.get(sku=tee, location=node).on_hand == 10


def test_the_sku_code_scans_too_and_a_slot_matches_however_it_is_padded(
    shop, node, tee, manager, warehouse_user
):
    _, (task,) = waved(shop, [(tee, 1)], manager, node)

    picked = pick(task, warehouse_user, slot="a-1-01", barcode="TEE")

    assert picked.state == PickTask.State.PICKED


@pytest.mark.parametrize(
    "scan, field, code",
    [
        ({"slot": "A-02-1"}, "slot_code", "wrong_slot"),
        ({"slot": ""}, "slot_code", "wrong_slot"),
        ({"barcode": "0400000000999"}, "barcode", "wrong_barcode"),
        ({"barcode": ""}, "barcode", "wrong_barcode"),
    ],
)
def test_a_wrong_slot_or_barcode_is_refused_and_nothing_is_written(
    shop, node, tee, manager, warehouse_user, scan, field, code
):
    _, (task,) = waved(shop, [(tee, 1)], manager, node)

    with pytest.raises(ValidationFailed) as refused:
        pick(task, warehouse_user, **scan)

    assert (refused.value.errors[0].field, refused.value.errors[0].code) == (field, code)
    task.refresh_from_db()
    assert (task.state, task.quantity_picked) == (PickTask.State.OPEN, 0)
    assert not PickConfirmation.objects.exists()
    assert PickList.objects.get().state == PickList.State.OPEN


def test_picks_add_up_and_more_than_remains_is_a_conflict(shop, node, tee, manager, warehouse_user):
    _, (task,) = waved(shop, [(tee, 3)], manager, node)
    pick(task, warehouse_user, 2)
    assert PickList.objects.get().state == PickList.State.IN_PROGRESS

    with pytest.raises(Conflict) as refused:
        pick(task, warehouse_user, 2)

    assert refused.value.errors[0].code == "more_than_remaining"
    assert PickConfirmation.objects.count() == 1
    assert pick(task, warehouse_user, 1).state == PickTask.State.PICKED


def test_confirming_a_finished_pick_again_is_a_conflict(shop, node, tee, manager, warehouse_user):
    _, (task,) = waved(shop, [(tee, 1)], manager, node)
    pick(task, warehouse_user)

    with pytest.raises(Conflict) as refused:
        pick(task, warehouse_user)

    assert refused.value.errors[0].code == "already_picked"
    assert PickConfirmation.objects.count() == 1


@pytest.mark.parametrize("quantity", [0, -1, 1.5, True, "1"])
def test_a_quantity_that_is_not_a_positive_whole_number_is_refused(
    shop, node, tee, manager, warehouse_user, quantity
):
    _, (task,) = waved(shop, [(tee, 1)], manager, node)
    with pytest.raises(ValidationFailed) as refused:
        pick(task, warehouse_user, quantity)
    assert refused.value.errors[0].field == "quantity"


@pytest.mark.parametrize("role_user", ["cs_user", "integration_user"])
def test_only_the_floor_confirms_picks(shop, node, tee, manager, role_user, request):
    _, (task,) = waved(shop, [(tee, 1)], manager, node)
    with pytest.raises(NotPermitted):
        pick(task, request.getfixturevalue(role_user))


def test_a_pick_list_being_picked_by_someone_else_is_refused(
    shop, node, tee, manager, warehouse_user
):
    waved(shop, [(tee, 1)], manager, node)
    pick_list = PickList.objects.get()
    start_pick_list(pick_list_id=pick_list.pk, actor=warehouse_user)
    colleague = UserFactory(username="picker-2", roles=["warehouse"])

    with pytest.raises(Conflict) as refused:
        start_pick_list(pick_list_id=pick_list.pk, actor=colleague)

    assert refused.value.errors[0].code == "taken"
    assert Wave.objects.get().state == Wave.State.PICKING


# --- lots ----------------------------------------------------------------------------------


@pytest.fixture
def vitamins(node, other_node, manager):
    """Lots at WH-A: EXPIRED (sellable still), SOON (4), LATE (10); ELSEWHERE only at WH-B."""
    today = timezone.localdate()
    sku = stocked_sku(
        node, 0, manager, slot="C-01-1", code="VIT", lot_tracked=True, expiry_tracked=True
    )
    lots = {
        code: LotFactory(sku=sku, code=code, expires_on=today + timedelta(days=days))
        for code, days in [("EXPIRED", -1), ("SOON", 10), ("LATE", 60), ("ELSEWHERE", 30)]
    }
    for code, quantity in [("EXPIRED", 5), ("SOON", 4), ("LATE", 10)]:
        receive_stock(sku=sku, location=node, quantity=quantity, lot=lots[code], actor=manager)
    receive_stock(sku=sku, location=other_node, quantity=5, lot=lots["ELSEWHERE"], actor=manager)
    return sku


def lots_picked(task):
    return list(
        PickConfirmation.objects.filter(task=task)
        .order_by("pk")
        .values_list("lot__code", "quantity", "off_suggestion")
    )


def test_lots_are_picked_first_expiring_first_never_expired(
    shop, node, vitamins, manager, warehouse_user
):
    _, (task,) = waved(shop, [(vitamins, 6)], manager, node)

    pick(task, warehouse_user)

    assert lots_picked(task) == [("SOON", 4, False), ("LATE", 2, False)]


def test_units_picked_and_not_shipped_are_not_suggested_again(
    shop, node, vitamins, manager, warehouse_user
):
    _, (first,) = waved(shop, [(vitamins, 4)], manager, node)
    pick(first, warehouse_user)
    _, (second,) = waved(shop, [(vitamins, 1)], manager, node)

    pick(second, warehouse_user)

    assert lots_picked(second) == [("LATE", 1, False)]


def test_another_unexpired_lot_may_be_scanned_and_is_flagged(
    shop, node, vitamins, manager, warehouse_user
):
    _, (task,) = waved(shop, [(vitamins, 3)], manager, node)

    pick(task, warehouse_user, lot_code="LATE")

    assert lots_picked(task) == [("LATE", 3, True)]


@pytest.mark.parametrize(
    "lot_code, code",
    [
        ("EXPIRED", "lot_expired"),
        ("ELSEWHERE", "lot_not_here"),
        ("NOPE", "unknown_lot"),
    ],
)
def test_an_expired_absent_or_unknown_lot_is_refused(
    shop, node, vitamins, manager, warehouse_user, lot_code, code
):
    _, (task,) = waved(shop, [(vitamins, 2)], manager, node)

    with pytest.raises(ValidationFailed) as refused:
        pick(task, warehouse_user, lot_code=lot_code)

    assert (refused.value.errors[0].field, refused.value.errors[0].code) == ("lot_code", code)
    assert not PickConfirmation.objects.exists()


def test_more_of_a_lot_than_it_holds_is_refused(shop, node, vitamins, manager, warehouse_user):
    _, (task,) = waved(shop, [(vitamins, 5)], manager, node)
    with pytest.raises(ValidationFailed) as refused:
        pick(task, warehouse_user, lot_code="SOON")
    assert refused.value.errors[0].code == "lot_not_here"


def test_a_lot_for_a_sku_without_lots_is_refused(shop, node, tee, manager, warehouse_user):
    _, (task,) = waved(shop, [(tee, 1)], manager, node)
    with pytest.raises(ValidationFailed) as refused:
        pick(task, warehouse_user, lot_code="SOON")
    assert refused.value.errors[0].code == "not_tracked"


# --- serials -------------------------------------------------------------------------------


@pytest.fixture
def phone(node, other_node, manager):
    sku = stocked_sku(
        node,
        3,
        manager,
        slot="D-01-1",
        code="PHONE",
        serial_tracked=True,
        serials=["S1", "S2", "S3"],
    )
    receive_stock(sku=sku, location=other_node, quantity=1, serials=["S9"], actor=manager)
    return sku


def test_serial_tracked_skus_record_one_scanned_serial_per_unit(
    shop, node, phone, manager, warehouse_user
):
    _, (task,) = waved(shop, [(phone, 2)], manager, node)

    pick(task, warehouse_user, serials=["S2", " S1 "])

    assert sorted(PickConfirmation.objects.values_list("serial", "quantity")) == [
        ("S1", 1),
        ("S2", 1),
    ]


@pytest.mark.parametrize(
    "serials, code",
    [
        (["S1"], "count"),
        (["S1", "S1"], "count"),
        (["S1", "S9"], "serial_not_here"),
        (["S1", "NOPE"], "serial_not_here"),
    ],
)
def test_serials_must_be_as_many_as_units_and_in_stock_here(
    shop, node, phone, manager, warehouse_user, serials, code
):
    _, (task,) = waved(shop, [(phone, 2)], manager, node)

    with pytest.raises(ValidationFailed) as refused:
        pick(task, warehouse_user, serials=serials)

    assert (refused.value.errors[0].field, refused.value.errors[0].code) == ("serials", code)
    assert not PickConfirmation.objects.exists()


def test_a_serial_already_picked_for_another_order_is_refused(
    shop, node, phone, manager, warehouse_user
):
    _, (first,) = waved(shop, [(phone, 1)], manager, node)
    _, (second,) = waved(shop, [(phone, 1)], manager, node)
    pick(first, warehouse_user, serials=["S3"])

    with pytest.raises(ValidationFailed) as refused:
        pick(second, warehouse_user, serials=["S3"])

    assert refused.value.errors[0].code == "serial_already_picked"


def test_serials_for_a_sku_without_serials_are_refused(shop, node, tee, manager, warehouse_user):
    _, (task,) = waved(shop, [(tee, 1)], manager, node)
    with pytest.raises(ValidationFailed) as refused:
        pick(task, warehouse_user, serials=["X1"])
    assert refused.value.errors[0].code == "not_tracked"


# --- short picks ---------------------------------------------------------------------------


def test_a_short_pick_counts_the_sku_releases_and_reroutes_the_missing_units(
    shop, node, other_node, tee, manager, warehouse_user
):
    receive_stock(sku=tee, location=other_node, quantity=5, actor=manager)
    order, (task,) = waved(shop, [(tee, 3)], manager, node)

    short = report_short_pick(
        task_id=task.pk, quantity_found=1, actor=warehouse_user, note="slot nearly empty"
    )

    task.refresh_from_db()
    assert (task.state, task.quantity_picked, task.quantity_short) == (PickTask.State.SHORT, 1, 2)
    assert (short.quantity, short.rerouted, short.note) == (2, 2, "slot nearly empty")
    # 10 on hand, 1 of them already in the picker's tote: 9 should be on the shelf.
    assert list(short.count.lines.values_list("sku_id", "expected")) == [(tee.pk, 9)]
    assert short.count.location == node
    allocations = sorted(
        Allocation.objects.filter(line__order=order, active=True).values_list(
            "location__code", "quantity"
        )
    )
    assert allocations == [("WH-A", 1), ("WH-B", 2)]
    reserved = dict(
        Reservation.objects.filter(state="active").values_list("location__code", "quantity")
    )
    assert reserved == {"WH-A": 1, "WH-B": 2}
    assert StockBalance.objects.get(sku=tee, location=node, status="sellable").reserved == 1
    assert order.lines.get().state == LineState.ALLOCATED
    assert OrderEvent.objects.filter(order=order, kind="short_pick").exists()
    assert list(open_short_picks()) == [short]
    # The re-routed units are picked at WH-B, in a wave of their own there.
    (wave,) = build_waves(location=other_node, actor=warehouse_user)
    assert PickTask.objects.get(pick_list__wave=wave).quantity == 2
    order.refresh_from_db()
    assert order.state == OrderState.PICKING


def test_a_short_pick_with_no_stock_elsewhere_backorders_until_stock_arrives(
    shop, node, other_node, tee, manager, warehouse_user, django_capture_on_commit_callbacks
):
    order, (task,) = waved(shop, [(tee, 2)], manager, node)

    short = report_short_pick(task_id=task.pk, quantity_found=0, actor=warehouse_user)

    assert (short.quantity, short.rerouted) == (2, 0)
    line = order.lines.get()
    assert line.state == LineState.BACKORDERED
    assert not Allocation.objects.filter(line=line, active=True).exists()
    with django_capture_on_commit_callbacks(execute=True):
        receive_stock(sku=tee, location=other_node, quantity=4, actor=manager)
    line.refresh_from_db()
    assert line.state == LineState.ALLOCATED
    assert list(
        Allocation.objects.filter(line=line, active=True).values_list("location__code", "quantity")
    ) == [("WH-B", 2)]


def test_a_second_short_pick_of_the_sku_joins_the_open_count(
    shop, node, other_node, tee, manager, warehouse_user
):
    _, (first,) = waved(shop, [(tee, 2)], manager, node)
    _, (second,) = waved(shop, [(tee, 2)], manager, node)

    one = report_short_pick(task_id=first.pk, quantity_found=1, actor=warehouse_user)
    two = report_short_pick(task_id=second.pk, quantity_found=0, actor=warehouse_user)

    assert one.count == two.count
    assert CycleCount.objects.count() == 1


def test_a_lot_tracked_short_pick_picks_found_units_fefo_and_opens_no_count(
    shop, node, vitamins, manager, warehouse_user
):
    _, (task,) = waved(shop, [(vitamins, 6)], manager, node)

    short = report_short_pick(task_id=task.pk, quantity_found=5, actor=warehouse_user)

    assert short.count is None
    assert lots_picked(task) == [("SOON", 4, False), ("LATE", 1, False)]


@pytest.mark.parametrize("found, code", [(2, "not_short"), (3, "not_short"), (-1, "min_value")])
def test_a_short_pick_must_be_short(shop, node, tee, manager, warehouse_user, found, code):
    _, (task,) = waved(shop, [(tee, 2)], manager, node)

    with pytest.raises(ValidationFailed) as refused:
        report_short_pick(task_id=task.pk, quantity_found=found, actor=warehouse_user)

    assert refused.value.errors[0].code == code
    assert not ShortPick.objects.exists()
    assert not CycleCount.objects.exists()


def test_a_resolved_short_pick_leaves_the_queue(shop, node, tee, manager, warehouse_user):
    _, (task,) = waved(shop, [(tee, 2)], manager, node)
    short = report_short_pick(task_id=task.pk, quantity_found=1, actor=warehouse_user)

    with pytest.raises(ValidationFailed):
        resolve_short_pick(short_pick_id=short.pk, actor=warehouse_user, resolution=" ")
    resolve_short_pick(short_pick_id=short.pk, actor=warehouse_user, resolution="count closed")

    assert list(open_short_picks()) == []
    with pytest.raises(Conflict):
        resolve_short_pick(short_pick_id=short.pk, actor=warehouse_user, resolution="again")


# --- cancellation --------------------------------------------------------------------------


def test_cancelling_an_order_cancels_its_pick_tasks_and_refuses_further_picks(
    shop, node, tee, manager, warehouse_user
):
    order, (task,) = waved(shop, [(tee, 2)], manager, node)
    pick(task, warehouse_user, 1)

    cancel_order(order_id=order.pk, actor=manager, reason="customer changed their mind")

    task.refresh_from_db()
    assert task.state == PickTask.State.CANCELLED
    assert PickList.objects.get().state == PickList.State.DONE
    with pytest.raises(Conflict) as refused:
        pick(task, warehouse_user, 1)
    assert refused.value.errors[0].code == "cancelled"
    assert StockBalance.objects.get(sku=tee, location=node, status="sellable").reserved == 0


# Savepoint, lock the task's order, lock the task with its pick list, insert the
# confirmation, update the task, is a task of the list still open, release.
PICK_QUERIES = 7


def test_a_pick_takes_the_same_queries_for_an_order_of_three_lines_or_five(
    shop, node, manager, warehouse_user, django_assert_num_queries
):
    skus = [
        stocked_sku(node, 10, manager, slot=f"B-0{n}-1", code=f"Q{n}", barcode=f"04000000001{n}")
        for n in range(1, 6)
    ]
    _, small = waved(shop, [(sku, 2) for sku in skus[:3]], manager, node)
    _, large = waved(shop, [(sku, 2) for sku in skus], manager, node)
    pick(small[0], warehouse_user)  # permissions resolved, each list started
    pick(large[0], warehouse_user)
    assert (small[1].sku, large[1].sku) == (skus[1], skus[1])  # the scans read, not counted

    with django_assert_num_queries(PICK_QUERIES):
        pick(small[1], warehouse_user)
    with django_assert_num_queries(PICK_QUERIES):
        pick(large[1], warehouse_user)

    assert PickTask.objects.get(pk=large[1].pk).state == PickTask.State.PICKED
    assert PickTask.objects.filter(pick_list=large[1].pick_list_id, state="open").count() == 3
