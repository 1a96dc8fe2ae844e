"""Packing: the box suggestion, and packages of picked units only."""

import pytest

from erp.errors import Conflict, NotPermitted, ValidationFailed
from fulfillment.models import Package, PackageLine, PickTask
from fulfillment.services.packing import pack_order, suggest_box
from fulfillment.services.picking import confirm_pick
from fulfillment.services.waves import build_waves
from orders.models import OrderEvent, OrderState
from orders.services.cancellation import cancel_order
from tests.factories import ChannelFactory, LocationFactory, SkuFactory
from tests.factories.fulfillment import BoxFactory, released_order, stocked_sku

pytestmark = pytest.mark.django_db


@pytest.fixture
def boxes(db):
    """S 3 l / 2 kg, M 9 l / 10 kg, L 36 l / 20 kg; an inactive 1 l mailer."""
    BoxFactory(code="MAILER", length_mm=100, width_mm=100, height_mm=100, active=False)
    return {
        "S": BoxFactory(
            code="S", length_mm=200, width_mm=150, height_mm=100, max_weight_grams=2000
        ),
        "M": BoxFactory(code="M", length_mm=300, width_mm=200, height_mm=150),
        "L": BoxFactory(
            code="L", length_mm=400, width_mm=300, height_mm=300, max_weight_grams=20000
        ),
    }


def cube(code, side=100, weight=200):
    return SkuFactory(code=code, length_mm=side, width_mm=side, height_mm=side, weight_grams=weight)


def test_the_smallest_box_that_takes_the_volume_at_the_fill_factor_is_suggested(boxes):
    two = suggest_box([(cube("C1"), 2)])  # 2 l of items need 2.5 l at 80 %
    three = suggest_box([(cube("C1"), 3)])  # 3.75 l: S (3 l) is too small

    assert two.box == boxes["S"]
    assert (two.items_volume_mm3, two.needed_volume_mm3, two.items_weight_grams) == (
        2_000_000,
        2_500_000,
        400,
    )
    assert "S is the smallest box" in two.explanation
    assert three.box == boxes["M"]
    assert three.rejected == [("S", "too small (3.00 l < 3.75 l)")]


def test_the_weight_with_the_box_and_the_longest_item_decide_too(boxes):
    heavy = suggest_box([(cube("IRON", weight=1900), 1)])  # 1,900 g + 150 g tare > 2 kg
    long = suggest_box([(SkuFactory(length_mm=350, width_mm=50, height_mm=50), 1)])

    assert heavy.box == boxes["M"]
    assert heavy.rejected[0] == ("S", "too heavy (2050 g > 2000 g)")
    assert long.box == boxes["L"]
    assert [code for code, _ in long.rejected] == ["S", "M"]


def test_when_no_box_fits_none_is_suggested_and_it_says_so(boxes):
    suggestion = suggest_box([(cube("BIG", side=500), 1)])
    assert suggestion.box is None
    assert "No box fits" in suggestion.explanation
    assert [code for code, _ in suggestion.rejected] == ["S", "M", "L"]


# --- packing -------------------------------------------------------------------------------


@pytest.fixture
def node(db):
    return LocationFactory(code="WH-A", priority=1)


@pytest.fixture
def shop(node):
    return ChannelFactory(code="SHOP", eligible_locations=[node])


@pytest.fixture
def skus(node, manager):
    return [
        stocked_sku(
            node,
            20,
            manager,
            slot=f"A-0{n}-1",
            code=f"ITEM{n}",
            weight_grams=100,
            length_mm=100,
            width_mm=100,
            height_mm=50,
        )
        for n in (1, 2)
    ]


def picked_order(shop, node, lines, manager, picker, *, leave_open=()):
    """A released order waved at `node`; every task picked except the SKUs in leave_open."""
    order = released_order(shop, lines, manager)
    build_waves(location=node, actor=manager)
    for task in PickTask.objects.filter(order=order).select_related("sku"):
        if task.sku not in leave_open:
            confirm_pick(
                task_id=task.pk,
                slot_code=task.slot_code,
                barcode=task.sku.barcode,
                quantity=task.quantity,
                actor=picker,
            )
    order.refresh_from_db()
    return order, {line.sku_id: line for line in order.lines.all()}


def pack(order, node, lines, user, box_code="M", weight_grams=900, **kwargs):
    return pack_order(
        order_id=order.pk,
        location_id=node.pk,
        lines={line.pk: quantity for line, quantity in lines},
        box_code=box_code,
        weight_grams=weight_grams,
        actor=user,
        **kwargs,
    )


def test_packing_everything_picked_records_the_package_and_the_order_is_packed(
    shop, node, skus, boxes, manager, warehouse_user
):
    order, lines = picked_order(shop, node, [(skus[0], 2), (skus[1], 1)], manager, warehouse_user)

    package = pack(order, node, [(lines[skus[0].pk], 2), (lines[skus[1].pk], 1)], warehouse_user)

    assert (package.box, package.weight_grams, package.packed_by) == (
        boxes["M"],
        900,
        warehouse_user,
    )
    assert (package.length_mm, package.width_mm, package.height_mm) == (300, 200, 150)
    assert package.suggested_box == boxes["S"]  # 1.5 l of items, 450 g with the box
    assert sorted(PackageLine.objects.values_list("line_id", "quantity")) == sorted(
        [(lines[skus[0].pk].pk, 2), (lines[skus[1].pk].pk, 1)]
    )
    order.refresh_from_db()
    assert order.state == OrderState.PACKED
    assert OrderEvent.objects.filter(order=order, to_state=OrderState.PACKED).exists()


def test_an_order_packed_in_two_packages_is_packed_after_the_second(
    shop, node, skus, boxes, manager, warehouse_user
):
    order, lines = picked_order(shop, node, [(skus[0], 2)], manager, warehouse_user)

    pack(order, node, [(lines[skus[0].pk], 1)], warehouse_user)
    order.refresh_from_db()
    assert order.state == OrderState.PICKING
    pack(order, node, [(lines[skus[0].pk], 1)], warehouse_user, box_code="S")

    order.refresh_from_db()
    assert order.state == OrderState.PACKED
    assert Package.objects.count() == 2


def test_packing_more_than_picked_and_unpacked_is_refused(
    shop, node, skus, boxes, manager, warehouse_user
):
    order, lines = picked_order(
        shop, node, [(skus[0], 2), (skus[1], 1)], manager, warehouse_user, leave_open=[skus[1]]
    )
    pack(order, node, [(lines[skus[0].pk], 1)], warehouse_user)

    for wanted in ([(lines[skus[0].pk], 2)], [(lines[skus[1].pk], 1)]):
        with pytest.raises(ValidationFailed) as refused:
            pack(order, node, wanted, warehouse_user)
        assert refused.value.errors[0].code == "more_than_picked"
    assert Package.objects.count() == 1


def test_units_picked_elsewhere_cannot_be_packed_here(
    shop, node, skus, boxes, manager, warehouse_user
):
    order, lines = picked_order(shop, node, [(skus[0], 1)], manager, warehouse_user)
    elsewhere = LocationFactory(code="WH-Z")

    with pytest.raises(ValidationFailed) as refused:
        pack(order, elsewhere, [(lines[skus[0].pk], 1)], warehouse_user)

    assert refused.value.errors[0].code == "more_than_picked"


def test_with_a_task_still_open_the_order_stays_picking(
    shop, node, skus, boxes, manager, warehouse_user
):
    order, lines = picked_order(
        shop, node, [(skus[0], 1), (skus[1], 1)], manager, warehouse_user, leave_open=[skus[1]]
    )

    pack(order, node, [(lines[skus[0].pk], 1)], warehouse_user)

    order.refresh_from_db()
    assert order.state == OrderState.PICKING


@pytest.mark.parametrize(
    "change, field, code",
    [
        ({"box_code": "NOPE"}, "box_code", "unknown_box"),
        ({"box_code": "S", "weight_grams": 2500}, "weight_grams", "too_heavy"),
        ({"weight_grams": 0}, "weight_grams", "min_value"),
        ({"box_code": None}, "box_code", "required"),
        ({"box_code": None, "dimensions": (300, 0, 100)}, "box_code", "required"),
        ({"lines": {}}, "lines", "required"),
        ({"lines": {"x": 1}}, "lines.x", "invalid"),
        ({"lines": {999999: 1}}, "lines.999999", "not_on_order"),
    ],
)
def test_bad_packing_input_is_refused_with_the_field(
    shop, node, skus, boxes, manager, warehouse_user, change, field, code
):
    order, lines = picked_order(shop, node, [(skus[0], 1)], manager, warehouse_user)
    arguments = {
        "order_id": order.pk,
        "location_id": node.pk,
        "lines": {lines[skus[0].pk].pk: 1},
        "box_code": "M",
        "weight_grams": 500,
        "actor": warehouse_user,
    } | change

    with pytest.raises(ValidationFailed) as refused:
        pack_order(**arguments)

    assert (refused.value.errors[0].field, refused.value.errors[0].code) == (field, code)
    assert not Package.objects.exists()


def test_a_package_in_its_own_carton_takes_the_given_dimensions(
    shop, node, skus, boxes, manager, warehouse_user
):
    order, lines = picked_order(shop, node, [(skus[0], 1)], manager, warehouse_user)

    package = pack(
        order,
        node,
        [(lines[skus[0].pk], 1)],
        warehouse_user,
        box_code=None,
        dimensions=(610, 400, 90),
    )

    assert package.box is None
    assert (package.length_mm, package.width_mm, package.height_mm) == (610, 400, 90)


def test_a_cancelled_or_unpicked_order_cannot_be_packed(
    shop, node, skus, boxes, manager, warehouse_user
):
    order, lines = picked_order(shop, node, [(skus[1], 1)], manager, warehouse_user)
    released = released_order(shop, [(skus[0], 1)], manager)
    cancel_order(order_id=order.pk, actor=manager, reason="fraud")

    with pytest.raises(Conflict) as cancelled:
        pack(order, node, [(lines[skus[1].pk], 1)], warehouse_user)
    with pytest.raises(Conflict) as unpicked:
        pack(released, node, [(released.lines.get(), 1)], warehouse_user)

    assert cancelled.value.errors[0].code == "cancelled"
    assert unpicked.value.errors[0].code == "not_picked"


def test_customer_service_cannot_pack(shop, node, skus, boxes, manager, warehouse_user, cs_user):
    order, lines = picked_order(shop, node, [(skus[0], 1)], manager, warehouse_user)
    with pytest.raises(NotPermitted):
        pack(order, node, [(lines[skus[0].pk], 1)], cs_user)


# Savepoint, the boxes in use, lock the order, the node, the order's lines, what is
# packable, insert the package, insert its lines, timeline row, is everything packed; the
# order becomes packed: update, history row, timeline row; release.
PACK_QUERIES = 14


def test_packing_takes_the_same_queries_for_one_line_or_many(
    shop, node, boxes, manager, warehouse_user, django_assert_num_queries
):
    many = [
        stocked_sku(node, 20, manager, slot=f"C-0{n}-1", code=f"P{n}", weight_grams=100)
        for n in range(1, 6)
    ]
    first, first_lines = picked_order(shop, node, [(many[0], 1)], manager, warehouse_user)
    one, one_lines = picked_order(shop, node, [(many[1], 1)], manager, warehouse_user)
    five, five_lines = picked_order(shop, node, [(sku, 1) for sku in many], manager, warehouse_user)
    pack(first, node, [(first_lines[many[0].pk], 1)], warehouse_user)  # permissions resolved

    with django_assert_num_queries(PACK_QUERIES):
        pack(one, node, [(one_lines[many[1].pk], 1)], warehouse_user)
    with django_assert_num_queries(PACK_QUERIES):
        pack(five, node, [(five_lines[sku.pk], 1) for sku in many], warehouse_user)

    five.refresh_from_db()
    assert five.state == OrderState.PACKED
    assert PackageLine.objects.filter(package__order=five).count() == 5
    [latest] = five.history.order_by("-history_id")[:1]
    assert (latest.state, latest.history_type, latest.history_user) == (
        OrderState.PACKED,
        "~",
        warehouse_user,
    )
