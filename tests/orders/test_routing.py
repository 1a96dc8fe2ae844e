from decimal import Decimal

import pytest

from erp.models import ApprovalRequest
from erp.services.approvals import decide_approval
from inventory.models import Reservation
from orders.models import Allocation, DropshipSource, ShippingRate, ShippingZone, SubstitutionRule
from tests.factories import LocationFactory, SkuFactory
from tests.orders.conftest import set_split_threshold

pytestmark = pytest.mark.django_db


def _allocations(order):
    return sorted(
        (a.line.sku.code, a.location.code, a.quantity, a.dropship)
        for a in Allocation.objects.filter(line__order=order, active=True).select_related(
            "line__sku", "location"
        )
    )


def test_the_cheapest_node_that_fills_every_line_is_chosen_and_the_order_released(
    place, tee, mug, east, west, stock, rates
):
    for node in (east, west):
        stock(tee, node, 5)
        stock(mug, node, 5)

    order = place([(tee, 2), (mug, 1)])

    assert order.state == "released"
    assert _allocations(order) == [("MUG", "EAST", 1, False), ("TEE", "EAST", 2, False)]
    decision = order.routing_decisions.get()
    assert decision.plan == "single_node"
    assert {c["node"] for c in decision.candidates} == {"EAST", "WEST"}
    assert "EAST fills every line at 6.00" in decision.explanation
    assert Reservation.objects.filter(state="active").count() == 2


def test_a_node_that_cannot_fill_everything_loses_to_one_that_can(
    place, tee, mug, east, west, stock, rates
):
    stock(tee, east, 5)
    stock(tee, west, 5)
    stock(mug, west, 5)

    order = place([(tee, 1), (mug, 1)])

    assert {a[1] for a in _allocations(order)} == {"WEST"}


def test_the_destination_decides_which_node_is_cheapest(place, tee, east, west, stock, rates):
    stock(tee, east, 5)
    stock(tee, west, 5)

    order = place([(tee, 1)], ship_postal_code="94105")

    assert _allocations(order) == [("TEE", "WEST", 1, False)]


def test_a_store_never_goes_below_its_shelf_floor(place, web, tee, stock, rates):
    store = LocationFactory(code="STORE", kind="store", region="us-east", shelf_floor=2, priority=1)
    web.eligible_locations.add(store)
    stock(tee, store, 3)

    order = place([(tee, 2)])

    assert order.state == "partially_allocated"
    assert _allocations(order) == [("TEE", "STORE", 1, False)]


def test_flagged_skus_drop_ship_when_no_node_fills_the_order(
    place, web, tee, mug, east, stock, rates
):
    supplier = LocationFactory(code="SUPPLIER", kind="dropship", region="us-central")
    DropshipSource.objects.create(sku=mug, location=supplier, cost=Decimal("3.00"))
    stock(tee, east, 5)

    order = place([(tee, 1), (mug, 2)])

    assert _allocations(order) == [("MUG", "SUPPLIER", 2, True), ("TEE", "EAST", 1, False)]
    assert order.routing_decisions.get().plan == "dropship"
    assert order.state == "released"


def test_a_cheap_split_ships_from_two_nodes(place, web, tee, mug, east, west, stock, rates):
    set_split_threshold(Decimal("20.00"))
    stock(tee, east, 5)
    stock(mug, west, 5)

    order = place([(tee, 1), (mug, 1)])

    assert _allocations(order) == [("MUG", "WEST", 1, False), ("TEE", "EAST", 1, False)]
    assert order.routing_decisions.get().plan == "split"
    assert order.state == "released"


def test_a_costly_split_waits_for_a_managers_approval(
    place, tee, mug, east, west, stock, rates, manager, cs_user
):
    stock(tee, east, 5)
    stock(mug, west, 5)

    order = place([(tee, 1), (mug, 1)])

    assert order.state == "on_hold"
    assert order.holds.get(resolved_at=None).reason == "split_needs_approval"
    assert not Reservation.objects.exists()
    request = ApprovalRequest.objects.get(kind="order_split")
    assert request.amount == Decimal("9.00")  # 6 + 9 − 6

    decide_approval(request_id=request.pk, actor=manager, approve=True, note="customer is VIP")

    order.refresh_from_db()
    assert order.state == "released"
    assert len(_allocations(order)) == 2


def test_lines_without_stock_backorder_and_route_when_stock_arrives(
    place, tee, east, stock, rates, django_capture_on_commit_callbacks
):
    order = place([(tee, 2)])
    assert order.state == "backordered"
    assert order.lines.get().state == "backordered"

    with django_capture_on_commit_callbacks(execute=True):
        stock(tee, east, 5)

    order.refresh_from_db()
    assert order.state == "released"
    assert _allocations(order) == [("TEE", "EAST", 2, False)]


def test_stock_arriving_for_skus_nobody_waits_for_sends_no_routing_task(
    place, tee, mug, east, stock, rates, monkeypatch, django_capture_on_commit_callbacks
):
    from fulfillment.tasks import route_backorders_in_fulfillment
    from orders.tasks import route_backorders

    sent = []
    for task in (route_backorders, route_backorders_in_fulfillment):
        monkeypatch.setattr(
            task, "delay", lambda sku_ids, task=task: sent.append((task.name, sku_ids))
        )
    place([(tee, 2)])  # backordered: nothing on hand

    with django_capture_on_commit_callbacks(execute=True):
        stock(mug, east, 5)
    assert sent == []

    with django_capture_on_commit_callbacks(execute=True):
        stock(tee, east, 5)
    assert sorted(sent) == sorted(
        [(route_backorders.name, [tee.pk]), (route_backorders_in_fulfillment.name, [tee.pk])]
    )


def test_a_substitute_ships_when_the_family_and_channel_allow_it(
    place, web, tee, east, stock, rates
):
    web.order_policy.allow_substitution = True
    web.order_policy.save()
    SubstitutionRule.objects.create(product_family="apparel")
    other = SkuFactory(code="TEE-V2", product_family="apparel")
    tee.substitutes.add(other)
    stock(other, east, 5)

    order = place([(tee, 1)])

    line = order.lines.get()
    assert (line.sku.code, line.ordered_sku.code) == ("TEE-V2", "TEE")
    assert order.state == "released"
    assert "substituted by TEE-V2" in order.routing_decisions.get().explanation


def test_without_the_channels_permission_no_substitute_is_used(place, tee, east, stock, rates):
    SubstitutionRule.objects.create(product_family="apparel")
    other = SkuFactory(code="TEE-V2", product_family="apparel")
    tee.substitutes.add(other)
    stock(other, east, 5)

    order = place([(tee, 1)])

    assert order.state == "backordered"


def test_routing_never_takes_units_protected_for_another_channel(
    place, web, tee, east, stock, rates
):
    from inventory.models import AllocationRule
    from tests.factories import ChannelFactory

    wholesale = ChannelFactory(code="B2B", eligible_locations=[east])
    AllocationRule.objects.create(channel=wholesale, protected=4)
    stock(tee, east, 5)

    order = place([(tee, 3)])

    assert order.state == "partially_allocated"
    assert _allocations(order) == [("TEE", "EAST", 1, False)]


def test_the_split_approval_policy_decides(place, web, tee, mug, east, west, stock, rates):
    set_split_threshold(Decimal("9.00"))
    stock(tee, east, 5)
    stock(mug, west, 5)

    order = place([(tee, 1), (mug, 1)])  # 9.00 extra: not above the threshold

    assert order.state == "released"
    assert order.routing_decisions.get().plan == "split"


def test_an_inactive_split_policy_lets_every_split_through(
    place, tee, mug, east, west, stock, rates
):
    set_split_threshold(Decimal("0.00"), active=False)
    stock(tee, east, 5)
    stock(mug, west, 5)

    order = place([(tee, 1), (mug, 1)])

    assert order.state == "released"
    assert not ApprovalRequest.objects.exists()


def test_a_split_that_eats_the_orders_margin_waits_whatever_the_threshold(
    place, tee, mug, east, west, stock, rates
):
    set_split_threshold(Decimal("100.00"))
    tee.unit_cost = mug.unit_cost = Decimal("0.00")
    tee.save()
    mug.save()
    stock(tee, east, 5)
    stock(mug, west, 5)

    order = place([(tee, 1), (mug, 1)], unit_price=Decimal("4.00"))  # margin 8 < 9 extra

    assert order.state == "on_hold"
    assert "more than the order's margin" in order.routing_decisions.get().explanation


def test_a_split_that_meets_the_promise_beats_one_node_that_misses_it(
    place, web, tee, mug, east, west, stock
):
    ShippingZone.objects.create(country="US", postal_prefix="6", zone="mid")
    slow = LocationFactory(code="SLOW", region="us-far", priority=1)
    web.eligible_locations.add(slow)
    ShippingRate.objects.create(
        origin_region="us-far", zone="mid", cost=Decimal("3.00"), transit_days=9
    )
    ShippingRate.objects.create(
        origin_region="us-east", zone="mid", cost=Decimal("6.00"), transit_days=3
    )
    ShippingRate.objects.create(
        origin_region="us-west", zone="mid", cost=Decimal("7.00"), transit_days=4
    )
    set_split_threshold(Decimal("50.00"))
    stock(tee, slow, 5)
    stock(mug, slow, 5)
    stock(tee, east, 5)
    stock(mug, west, 5)

    order = place([(tee, 1), (mug, 1)], service_level="standard")

    assert _allocations(order) == [("MUG", "WEST", 1, False), ("TEE", "EAST", 1, False)]
    decision = order.routing_decisions.get()
    assert decision.plan == "split"
    assert "SLOW fills every line but misses the standard promise" in decision.explanation


def test_a_node_recounting_a_sku_after_a_short_pick_is_not_routed_to(
    place, tee, east, west, stock, rates, warehouse_user
):
    from inventory.services.counts import create_count

    stock(tee, east, 5)
    stock(tee, west, 5)
    create_count(location=east, scope="skus", sku_ids=[tee.pk], actor=warehouse_user)

    order = place([(tee, 1)])

    assert _allocations(order) == [("TEE", "WEST", 1, False)]
