"""The fulfillment back office through HTTP as a browser (or HTMX) sends it: master data,
the warehouse dashboard, waves and the pick-list scanner, the packing station, labels and
shipments."""

import json
from datetime import time, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from erp.models import OutboxMessage
from fulfillment.models import (
    Box,
    Carrier,
    CarrierService,
    Package,
    PickConfirmation,
    PickList,
    PickTask,
    RateCard,
    Shipment,
    ShortPick,
    Slot,
    Wave,
)
from fulfillment.services import master_data
from fulfillment.services.labels import create_label
from fulfillment.services.packing import pack_order
from fulfillment.services.picking import confirm_pick
from fulfillment.services.shipping import confirm_shipment
from fulfillment.services.waves import assign_slot, build_waves
from inventory.models import Reservation, StockLedgerEntry
from orders.models import OrderState
from tests.factories import (
    ChannelFactory,
    EndpointFactory,
    LocationFactory,
    LotFactory,
    SkuFactory,
    UserFactory,
)
from tests.factories.fulfillment import (
    BoxFactory,
    ChannelFulfillmentPolicyFactory,
    released_order,
    stocked_sku,
)
from tests.fulfillment.test_rates import carrier_service, east_zones

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def triggered(response) -> set[str]:
    return set(json.loads(response["HX-Trigger"])) if "HX-Trigger" in response else set()


def form_errors(response, name="form") -> dict:
    return {field: list(errors) for field, errors in response.context[name].errors.items()}


# --- a warehouse floor ---------------------------------------------------------------------------


@pytest.fixture
def floor(manager):
    return build_floor(manager)


def build_floor(manager):
    """WH-EAST with slotted, stocked SKUs; two carriers priced to the east zone; boxes; an
    Amazon channel with strict penalties whose tracking uploads go to an endpoint."""
    east_zones()
    node = LocationFactory(code="WH-EAST", name="East warehouse", region="us-east")
    carrier_service("UPSX", "GROUND", base_price="5.20", transit_days=3)
    carrier_service("POST", "GROUND", base_price="4.10", transit_days=4)
    BoxFactory(code="S1", length_mm=300, width_mm=250, height_mm=100, max_weight_grams=5000)
    BoxFactory(code="L1", length_mm=600, width_mm=400, height_mm=400, max_weight_grams=20000)
    channel = ChannelFactory(code="AMZ-US", kind="amazon", eligible_locations=[node])
    ChannelFulfillmentPolicyFactory(
        channel=channel,
        strict_penalties=True,
        tracking_endpoint=EndpointFactory(code="amazon-tracking"),
        notification_endpoint=EndpointFactory(code="mailer"),
    )
    tee = stocked_sku(
        node,
        10,
        manager,
        slot="A-01-1",
        code="TEE-01",
        name="Organic tee",
        barcode="0790000000011",
        weight_grams=200,
        length_mm=250,
        width_mm=200,
        height_mm=30,
    )
    mug = stocked_sku(
        node,
        6,
        manager,
        slot="B-02-1",
        code="MUG-01",
        name="Enamel mug",
        barcode="0790000000028",
        weight_grams=350,
        length_mm=100,
        width_mm=100,
        height_mm=100,
    )
    return SimpleNamespace(node=node, channel=channel, tee=tee, mug=mug)


def place(floor, lines, manager, **fields):
    """A released Amazon order to New York, routed to WH-EAST."""
    fields.setdefault("ship_postal_code", "10118")
    fields.setdefault("ship_region", "NY")
    fields.setdefault("ship_city", "New York")
    fields.setdefault("extra", {"marketplace_id": "ATVPDKIKX0DER"})
    order = released_order(floor.channel, lines, manager, **fields)
    assert order.state == OrderState.RELEASED
    return order


def tasks_of(order) -> list[PickTask]:
    return list(
        PickTask.objects.filter(order=order).select_related("sku").order_by("pick_list", "sequence")
    )


def picked(floor, manager, lines, **fields):
    """An order waved and fully picked."""
    order = place(floor, lines, manager, **fields)
    build_waves(location=floor.node, actor=manager)
    for task in tasks_of(order):
        confirm_pick(
            task_id=task.pk,
            slot_code=task.slot_code,
            barcode=task.sku.barcode,
            quantity=task.quantity,
            actor=manager,
        )
    order.refresh_from_db()
    return order


def packed(floor, manager, lines, **fields):
    order = picked(floor, manager, lines, **fields)
    package = pack_order(
        order_id=order.pk,
        location_id=floor.node.pk,
        lines={line.pk: line.quantity for line in order.lines.all()},
        box_code="S1",
        weight_grams=900,
        actor=manager,
    )
    return order, package


@pytest.fixture
def carrier(manager):
    return master_data.create_carrier(
        actor=manager, data={"code": "UPSX", "name": "UPS", "active": True}
    )


@pytest.fixture
def ground(manager, carrier):
    return master_data.create_carrier_service(
        actor=manager,
        data={
            "carrier": carrier,
            "code": "GROUND",
            "name": "Ground",
            "service_level": "standard",
            "cutoff_time": time(17, 0),
            "max_weight_grams": 30000,
            "active": True,
        },
    )


def rate(manager, service, low, high, price="5.00", zone="mid"):
    return master_data.create_rate_card(
        actor=manager,
        data={
            "service": service,
            "origin_region": "us-east",
            "zone": zone,
            "min_weight_grams": low,
            "max_weight_grams": high,
            "price": Decimal(price),
            "transit_days": 3,
        },
    )


# --- master data -------------------------------------------------------------------------------


def test_a_manager_creates_a_carrier_and_its_history_records_who(client, manager):
    client.force_login(manager)

    response = client.post(
        reverse("fulfillment:carrier-create"),
        {
            "reason": "test change",
            "code": "DHLX",
            "name": "DHL Express",
            "active": "on",
            "tracking_url_template": "https://dhl.example/track?n={tracking}",
            "tracking_pattern": r"^[0-9]{10}$",
        },
    )

    carrier = Carrier.objects.get(code="DHLX")
    assert response.status_code == 302
    assert response.url == reverse("fulfillment:carrier-detail", args=[carrier.pk])
    history = client.get(reverse("fulfillment:carrier-history", args=[carrier.pk]))
    assert history.context["history"].entries[0].record.history_user == manager
    assert "created" in history.content.decode()


def test_a_carrier_whose_tracking_format_is_not_a_pattern_is_refused_inline(client, manager):
    client.force_login(manager)

    response = client.post(
        reverse("fulfillment:carrier-create"),
        {"reason": "test change", "code": "DHLX", "name": "DHL", "tracking_pattern": "^[0-9"},
        **HTMX,
    )

    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == ("erp/partials/record_form.html")
    assert "Not a regular expression" in form_errors(response)["tracking_pattern"][0]
    assert not Carrier.objects.exists()


def test_an_htmx_save_makes_the_browser_navigate_to_the_record(client, manager, carrier):
    client.force_login(manager)

    response = client.post(
        reverse("fulfillment:carrier-edit", args=[carrier.pk]),
        {"reason": "test change", "code": "UPSX", "name": "UPS United", "active": "on"},
        **HTMX,
    )

    assert response["HX-Redirect"] == reverse("fulfillment:carrier-detail", args=[carrier.pk])
    carrier.refresh_from_db()
    assert carrier.name == "UPS United"


def test_setup_screens_are_for_managers_the_floor_may_only_look(client, warehouse_user, carrier):
    client.force_login(warehouse_user)

    assert client.get(reverse("fulfillment:carrier-list")).status_code == 200
    assert client.get(reverse("fulfillment:carrier-create")).status_code == 403
    response = client.post(
        reverse("fulfillment:carrier-edit", args=[carrier.pk]),
        {"reason": "test change", "code": "UPSX", "name": "X"},
    )
    assert response.status_code == 403
    carrier.refresh_from_db()
    assert carrier.name == "UPS"


def test_a_rate_band_overlapping_another_of_the_same_lane_is_refused(client, manager, ground):
    rate(manager, ground, 0, 1000)
    client.force_login(manager)

    response = client.post(
        reverse("fulfillment:rate-card-create"),
        {
            "reason": "test change",
            "service": ground.pk,
            "origin_region": "us-east",
            "zone": "mid",
            "min_weight_grams": 500,
            "max_weight_grams": 2000,
            "price": "7.00",
            "transit_days": 3,
        },
    )

    assert response.status_code == 200
    assert form_errors(response)["max_weight_grams"] == [
        "Overlaps the band 0–1000 g of this service and lane."
    ]
    assert RateCard.objects.count() == 1


def test_the_rate_table_filters_by_carrier_lane_and_parcel_weight(client, manager, ground):
    light = rate(manager, ground, 0, 1000, "5.00")
    heavy = rate(manager, ground, 1000, 5000, "8.00")
    rate(manager, ground, 0, 1000, "9.00", zone="pacific")
    client.force_login(manager)

    response = client.get(
        reverse("fulfillment:rate-card-list"),
        {"carrier": "UPSX", "zone": "mid", "weight": 1000},
        **HTMX,
    )

    assert list(response.context["page"].object_list) == [light]
    assert [t.name for t in response.templates][0] == (
        "fulfillment/partials/master/rate-card_results.html"
    )
    response = client.get(reverse("fulfillment:rate-card-list"), {"weight": 1001, "zone": "mid"})
    assert list(response.context["page"].object_list) == [heavy]


def test_the_rate_table_runs_the_same_queries_for_one_rate_and_for_many(
    client, manager, ground, django_assert_num_queries
):
    rate(manager, ground, 0, 1000)
    client.force_login(manager)
    url = reverse("fulfillment:rate-card-list")
    client.get(url)

    # session, user, roles, count, carrier choices, service choices, page of rates with
    # their services and carriers
    with django_assert_num_queries(7):
        client.get(url)
    for band in range(1, 15):
        rate(manager, ground, band * 1000, band * 1000 + 1000)
    with django_assert_num_queries(7):
        response = client.get(url)
    assert len(response.context["page"].object_list) == 15


def test_the_floor_slots_a_sku_scanned_by_barcode(client, warehouse_user):
    node = LocationFactory(code="WH-EAST")
    tee = SkuFactory(code="TEE-01", barcode="0790000000011")
    client.force_login(warehouse_user)

    form = client.get(reverse("fulfillment:slot-create"), {"location": "WH-EAST"})
    assert form.context["form"]["location"].value() == "WH-EAST"
    response = client.post(
        reverse("fulfillment:slot-create"),
        {"reason": "test change", "location": "WH-EAST", "sku": "0790000000011", "code": "A-01-3"},
    )

    slot = Slot.objects.get()
    assert response.status_code == 302
    assert (slot.location, slot.sku, slot.code, slot.sort_key) == (
        node,
        tee,
        "A-01-3",
        "   A-001-03",
    )


def test_a_slot_code_that_is_not_aisle_bay_level_is_refused_inline(client, warehouse_user):
    LocationFactory(code="WH-EAST")
    SkuFactory(code="TEE-01")
    client.force_login(warehouse_user)

    response = client.post(
        reverse("fulfillment:slot-create"),
        {"reason": "test change", "location": "WH-EAST", "sku": "TEE-01", "code": "shelf 4"},
        **HTMX,
    )

    assert form_errors(response) == {"code": ["Use aisle-bay-level such as A-01-3."]}
    assert "has-error" in response.content.decode()
    assert not Slot.objects.exists()


def test_slotting_a_sku_again_at_its_node_moves_it(client, warehouse_user, manager):
    node = LocationFactory(code="WH-EAST")
    tee = SkuFactory(code="TEE-01")
    assign_slot(location=node, sku=tee, code="A-01-1", actor=manager)
    client.force_login(warehouse_user)

    response = client.post(
        reverse("fulfillment:slot-create"),
        {"reason": "test change", "location": "WH-EAST", "sku": "TEE-01", "code": "b-02-2"},
    )

    slot = Slot.objects.get()
    assert response.url == reverse("fulfillment:slot-detail", args=[slot.pk])
    assert slot.code == "B-02-2"


def test_slots_are_listed_per_node_and_searched_as_you_type(client, warehouse_user, manager):
    east, west = LocationFactory(code="WH-EAST"), LocationFactory(code="WH-WEST")
    tee, mug = SkuFactory(code="TEE-01"), SkuFactory(code="MUG-01")
    for node, sku, code in [(east, tee, "A-01-1"), (east, mug, "B-01-1"), (west, tee, "C-01-1")]:
        assign_slot(location=node, sku=sku, code=code, actor=manager)
    client.force_login(warehouse_user)

    response = client.get(reverse("fulfillment:slot-list"), {"node": "WH-EAST", "q": "mug"}, **HTMX)

    assert [slot.code for slot in response.context["page"].object_list] == ["B-01-1"]
    response = client.get(reverse("fulfillment:slot-list"), {"node": "WH-EAST"})
    assert [slot.code for slot in response.context["page"].object_list] == ["A-01-1", "B-01-1"]


def test_moving_a_slot_names_its_sku_and_node_and_keeps_history(client, warehouse_user, manager):
    node = LocationFactory(code="WH-EAST")
    tee = SkuFactory(code="TEE-01")
    slot = assign_slot(location=node, sku=tee, code="A-01-1", actor=manager)
    client.force_login(warehouse_user)

    page = client.get(reverse("fulfillment:slot-edit", args=[slot.pk])).content.decode()
    assert "Edit slot A-01-1 · TEE-01 at WH-EAST" in page
    client.post(
        reverse("fulfillment:slot-edit", args=[slot.pk]),
        {"reason": "test change", "code": "A-02-1"},
    )

    history = client.get(reverse("fulfillment:slot-history", args=[slot.pk]), **HTMX)
    assert history.context["history"].entries[0].changes[0].new == "A-02-1"


def test_boxes_have_no_history_tab(client, manager):
    box = master_data.create_box(
        actor=manager,
        data={
            "code": "S1",
            "name": "Small",
            "length_mm": 200,
            "width_mm": 150,
            "height_mm": 100,
            "max_weight_grams": 5000,
            "tare_grams": 120,
            "cost": Decimal("0.40"),
            "active": True,
        },
    )
    client.force_login(manager)

    page = client.get(reverse("fulfillment:box-detail", args=[box.pk])).content.decode()

    assert "200 × 150 × 100 mm" in page
    assert ">History<" not in page
    response = client.get(reverse("fulfillment:box-history", args=[box.pk]))
    assert response.url == reverse("fulfillment:box-detail", args=[box.pk])
    assert Box.objects.count() == 1


def test_a_channel_policy_is_set_with_its_endpoints(client, manager):
    from tests.factories import ChannelFactory, EndpointFactory

    channel = ChannelFactory(code="AMZ-US", kind="amazon")
    EndpointFactory(code="amazon-tracking")
    client.force_login(manager)

    client.post(
        reverse("fulfillment:policy-create"),
        {
            "reason": "test change",
            "channel": channel.pk,
            "strict_penalties": "on",
            "confirm_window_hours": 24,
            "tracking_endpoint": "",
            "notification_endpoint": "",
        },
    )

    policy = channel.fulfillment_policy
    assert (policy.strict_penalties, policy.confirm_window_hours) == (True, 24)
    listed = client.get(reverse("fulfillment:policy-list"), {"strict": "yes"})
    assert list(listed.context["page"].object_list) == [policy]


def test_carrier_services_list_by_carrier_and_level(client, manager, ground):
    client.force_login(manager)

    response = client.get(
        reverse("fulfillment:carrier-service-list"),
        {"carrier": "UPSX", "service_level": "standard"},
    )

    assert list(response.context["page"].object_list) == [ground]
    assert CarrierService.objects.count() == 1


def test_someone_without_a_role_cannot_open_the_setup(client):
    client.force_login(UserFactory(username="nobody"))

    assert client.get(reverse("fulfillment:carrier-list")).status_code == 403


# --- the warehouse dashboard and waves ---------------------------------------------------------


def test_the_dashboard_shows_todays_waves_late_orders_same_day_queue_and_productivity(
    client, warehouse_user, manager, floor
):
    late = place(floor, [(floor.tee, 1)], manager, ship_by=timezone.now() - timedelta(hours=2))
    due_today = place(floor, [(floor.mug, 1)], manager, ship_by=timezone.now() + timedelta(hours=1))
    wave = build_waves(location=floor.node, actor=manager)[0]
    task = tasks_of(late)[0]
    confirm_pick(
        task_id=task.pk, slot_code="A-01-1", barcode="TEE-01", quantity=1, actor=warehouse_user
    )
    client.force_login(warehouse_user)

    response = client.get(reverse("fulfillment:dashboard"), {"node": "WH-EAST"})

    page = response.content.decode()
    assert response.context["node"] == floor.node
    assert [w.pk for w in response.context["waves"]] == [wave.pk]
    assert "1 / 2" in page  # one of the wave's two lines picked
    assert [o.pk for o in response.context["late_orders"]] == [late.pk]
    assert {o.pk for o in response.context["same_day"]} == {late.pk, due_today.pk}
    assert [(f.username, f.lines) for f in response.context["productivity"]] == [
        (warehouse_user.username, 1)
    ]
    assert reverse("fulfillment:dashboard") in client.get(reverse("dashboard")).content.decode()


def test_the_dashboard_runs_the_same_queries_for_one_wave_and_for_many(
    client, warehouse_user, manager, floor, django_assert_num_queries
):
    place(floor, [(floor.tee, 1)], manager)
    build_waves(location=floor.node, actor=manager)
    client.force_login(warehouse_user)
    url = f"{reverse('fulfillment:dashboard')}?node=WH-EAST"
    client.get(url)

    # session, user, roles, nodes, waves with progress, late orders, same-day queue,
    # productivity
    with django_assert_num_queries(8):
        client.get(url)
    for _ in range(4):
        place(floor, [(floor.tee, 1), (floor.mug, 1)], manager)
        build_waves(location=floor.node, actor=manager, max_orders=1)
    with django_assert_num_queries(8):
        response = client.get(url)
    assert len(response.context["waves"]) == 5


def test_building_waves_over_htmx_answers_the_waves_panel_and_signals_the_floor(
    client, warehouse_user, manager, floor
):
    order = place(floor, [(floor.tee, 2), (floor.mug, 1)], manager)
    client.force_login(warehouse_user)

    response = client.post(reverse("fulfillment:build-waves"), {"node": "WH-EAST"}, **HTMX)

    wave = Wave.objects.get()
    assert [t.name for t in response.templates][0] == "fulfillment/partials/waves_panel.html"
    assert f"Built {wave.number} at WH-EAST: 1 order(s), 2 line(s)." in response.content.decode()
    assert triggered(response) >= {"queuesChanged", "floorChanged"}
    order.refresh_from_db()
    assert order.state == OrderState.PICKING
    assert [t.slot_code for t in tasks_of(order)] == ["A-01-1", "B-02-1"]


def test_a_wave_limit_the_service_refuses_is_shown_on_the_panel_and_nothing_is_built(
    client, warehouse_user, manager, floor
):
    place(floor, [(floor.tee, 1)], manager)
    client.force_login(warehouse_user)

    response = client.post(
        reverse("fulfillment:build-waves"), {"node": "WH-EAST", "max_orders": 0}, **HTMX
    )

    assert "Wave at least one order, or leave the limit empty." in response.content.decode()
    assert not Wave.objects.exists()


def test_customer_service_may_look_at_the_floor_but_not_build_waves(client, cs_user, floor):
    client.force_login(cs_user)

    assert client.get(reverse("fulfillment:dashboard")).status_code == 200
    assert client.post(reverse("fulfillment:build-waves"), {"node": "WH-EAST"}).status_code == 403
    assert not Wave.objects.exists()


def test_a_wave_page_lists_its_pick_lists_with_progress(client, warehouse_user, manager, floor):
    place(floor, [(floor.tee, 1)], manager)
    place(floor, [(floor.mug, 1)], manager)
    wave = build_waves(location=floor.node, actor=manager, pick_list_size=1)[0]
    client.force_login(warehouse_user)

    response = client.get(reverse("fulfillment:wave", args=[wave.pk]))

    pick_lists = list(response.context["pick_lists"])
    assert [(p.lines_done, p.lines_total, p.order_count) for p in pick_lists] == [(0, 1, 1)] * 2
    assert reverse("fulfillment:pick-list", args=[pick_lists[0].pk]) in response.content.decode()


# --- the pick-list scanner screen --------------------------------------------------------------


@pytest.fixture
def pick_list(floor, manager):
    order = place(floor, [(floor.tee, 2), (floor.mug, 1)], manager)
    build_waves(location=floor.node, actor=manager)
    return SimpleNamespace(order=order, pick_list=PickList.objects.get(), tasks=tasks_of(order))


def confirm_url(pick_list, task):
    return reverse("fulfillment:pick-confirm", args=[pick_list.pk, task.pk])


def test_the_pick_list_shows_the_next_task_in_slot_order(client, warehouse_user, pick_list):
    client.force_login(warehouse_user)

    response = client.get(reverse("fulfillment:pick-list", args=[pick_list.pick_list.pk]))

    page = response.content.decode()
    assert response.context["current"] == pick_list.tasks[0]
    assert response.context["scan_form"]["quantity"].value() == 2
    assert '<div class="slot">A-01-1</div>' in page
    assert "0790000000011" not in page  # the barcode is scanned, never shown to be typed
    assert "data-scan-form" in page and "scanner.js" in page


def test_a_confirmed_scan_answers_the_next_task_and_the_updated_lines(
    client, warehouse_user, pick_list
):
    tee_task, mug_task = pick_list.tasks
    client.force_login(warehouse_user)

    response = client.post(
        confirm_url(pick_list.pick_list, tee_task),
        {"slot_code": "a-1-1", "barcode": "0790000000011", "quantity": 2},
        **HTMX,
    )

    assert [t.name for t in response.templates][0] == "fulfillment/partials/pick_response.html"
    assert response.context["current"] == mug_task
    assert response.context["confirmed"] == "Picked 2 × TEE-01 from A-01-1."
    page = response.content.decode()
    assert 'id="pick-tasks" class="panel" hx-swap-oob="true"' in page
    assert "data-confirmed" in page
    assert triggered(response) >= {"queuesChanged", "floorChanged"}
    tee_task.refresh_from_db()
    assert (tee_task.state, tee_task.quantity_picked, tee_task.picked_by) == (
        "picked",
        2,
        warehouse_user,
    )


def test_a_wrong_barcode_is_refused_under_the_barcode_and_nothing_is_picked(
    client, warehouse_user, pick_list
):
    tee_task = pick_list.tasks[0]
    client.force_login(warehouse_user)

    response = client.post(
        confirm_url(pick_list.pick_list, tee_task),
        {"slot_code": "A-01-1", "barcode": "0790000000028", "quantity": 2},
        **HTMX,
    )

    assert form_errors(response, "scan_form") == {
        "barcode": ["Wrong item: 0790000000028 is not TEE-01."]
    }
    page = response.content.decode()
    assert "has-errors scan-failed" in page
    assert response.context["current"] == tee_task
    assert "HX-Trigger" not in response
    assert not PickConfirmation.objects.exists()
    tee_task.refresh_from_db()
    assert tee_task.state == "open"


def test_a_wrong_slot_is_refused_under_the_slot(client, warehouse_user, pick_list):
    client.force_login(warehouse_user)

    response = client.post(
        confirm_url(pick_list.pick_list, pick_list.tasks[0]),
        {"slot_code": "B-02-1", "barcode": "TEE-01", "quantity": 2},
        **HTMX,
    )

    assert form_errors(response, "scan_form") == {
        "slot_code": ["Wrong slot: this pick is at A-01-1, you scanned B-02-1."]
    }
    assert not PickConfirmation.objects.exists()


def test_confirming_a_pick_twice_is_refused_and_the_next_task_is_shown(
    client, warehouse_user, pick_list
):
    tee_task, mug_task = pick_list.tasks
    client.force_login(warehouse_user)
    scan = {"slot_code": "A-01-1", "barcode": "TEE-01", "quantity": 2}
    client.post(confirm_url(pick_list.pick_list, tee_task), scan, **HTMX)

    response = client.post(confirm_url(pick_list.pick_list, tee_task), scan, **HTMX)

    assert response.context["stale_errors"] == ["This pick is already picked."]
    assert response.context["current"] == mug_task
    assert PickConfirmation.objects.count() == 1


def test_a_lot_tracked_task_suggests_the_first_expiring_lot(client, warehouse_user, manager, floor):
    today = timezone.localdate()
    soup = SkuFactory(code="SOUP", barcode="0790000000035", lot_tracked=True, expiry_tracked=True)
    late_lot = LotFactory(sku=soup, code="L-LATE", expires_on=today + timedelta(days=90))
    early_lot = LotFactory(sku=soup, code="L-EARLY", expires_on=today + timedelta(days=10))
    from inventory.services.movements import receive_stock

    receive_stock(sku=soup, location=floor.node, quantity=5, actor=manager, lot=late_lot)
    receive_stock(sku=soup, location=floor.node, quantity=1, actor=manager, lot=early_lot)
    assign_slot(sku=soup, location=floor.node, code="C-01-1", actor=manager)
    order = place(floor, [(soup, 3)], manager)
    build_waves(location=floor.node, actor=manager)
    client.force_login(warehouse_user)

    response = client.get(reverse("fulfillment:pick-list", args=[PickList.objects.get().pk]))

    assert [(lot.code, units) for lot, units in response.context["lots"]] == [
        ("L-EARLY", 1),
        ("L-LATE", 2),
    ]
    assert "lot_code" in response.context["scan_form"].fields
    task = tasks_of(order)[0]
    response = client.post(
        confirm_url(PickList.objects.get(), task),
        {"slot_code": "C-01-1", "barcode": "SOUP", "lot_code": "L-LATE", "quantity": 3},
        **HTMX,
    )
    confirmation = PickConfirmation.objects.get()
    assert (confirmation.lot, confirmation.off_suggestion) == (late_lot, True)


def test_a_short_pick_picks_what_was_found_and_opens_a_count(client, warehouse_user, pick_list):
    tee_task = pick_list.tasks[0]
    client.force_login(warehouse_user)

    response = client.post(
        reverse("fulfillment:pick-short", args=[pick_list.pick_list.pk, tee_task.pk]),
        {"short-quantity_found": 1, "short-note": "only one on the shelf"},
        **HTMX,
    )

    short = ShortPick.objects.get()
    assert (short.quantity, short.note, short.count is not None) == (
        1,
        "only one on the shelf",
        True,
    )
    assert "Short pick: 1 × TEE-01 missing at A-01-1" in response.context["confirmed"]
    assert response.context["current"] == pick_list.tasks[1]
    tee_task.refresh_from_db()
    assert (tee_task.state, tee_task.quantity_picked, tee_task.quantity_short) == ("short", 1, 1)


def test_a_short_pick_that_is_not_short_is_refused_in_the_short_form(
    client, warehouse_user, pick_list
):
    tee_task = pick_list.tasks[0]
    client.force_login(warehouse_user)

    response = client.post(
        reverse("fulfillment:pick-short", args=[pick_list.pick_list.pk, tee_task.pk]),
        {"short-quantity_found": 2},
        **HTMX,
    )

    assert form_errors(response, "short_form") == {
        "quantity_found": ["2 found covers the 2 left: confirm the pick instead."]
    }
    assert response.context["short_open"] is True
    assert not ShortPick.objects.exists()


def test_the_pick_list_page_runs_the_same_queries_for_one_task_and_for_many(
    client, warehouse_user, manager, floor, django_assert_num_queries
):
    place(floor, [(floor.tee, 1)], manager)
    build_waves(location=floor.node, actor=manager)
    client.force_login(warehouse_user)
    one = reverse("fulfillment:pick-list", args=[PickList.objects.get().pk])
    client.get(one)

    # session, user, roles, pick list, tasks with SKUs, lines, orders and pickers
    with django_assert_num_queries(5):
        client.get(one)
    skus = [stocked_sku(floor.node, 3, manager, slot=f"D-{n:02d}-1") for n in range(1, 9)]
    place(floor, [(sku, 1) for sku in skus], manager)
    build_waves(location=floor.node, actor=manager)
    many = PickList.objects.order_by("-pk").first()
    with django_assert_num_queries(5):
        response = client.get(reverse("fulfillment:pick-list", args=[many.pk]))
    assert len(response.context["tasks"]) == 8


def test_a_picker_without_a_role_cannot_confirm_picks(client, pick_list):
    client.force_login(UserFactory(username="visitor"))

    response = client.post(
        confirm_url(pick_list.pick_list, pick_list.tasks[0]),
        {"slot_code": "A-01-1", "barcode": "TEE-01", "quantity": 2},
    )

    assert response.status_code == 403
    assert not PickConfirmation.objects.exists()


# --- the short-picks queue ---------------------------------------------------------------------


def test_the_short_picks_queue_shows_a_row_that_is_resolved_in_place(
    client, warehouse_user, pick_list
):
    from fulfillment.services.picking import report_short_pick

    short = report_short_pick(
        task_id=pick_list.tasks[0].pk, quantity_found=0, actor=warehouse_user, note="empty"
    )
    client.force_login(warehouse_user)

    page = client.get(reverse("exception-queue", args=["short-picks"])).content.decode()
    assert f'id="short-pick-{short.pk}"' in page and f"CNT-{short.count_id}" in page

    refused = client.post(
        reverse("fulfillment:short-pick-resolve", args=[short.pk]), {"resolution": ""}, **HTMX
    )
    assert "Say how it was resolved." in refused.content.decode()
    response = client.post(
        reverse("fulfillment:short-pick-resolve", args=[short.pk]),
        {"resolution": "2 found in B-04-1"},
        **HTMX,
    )

    assert "Resolved" in response.content.decode()
    assert "queuesChanged" in triggered(response)
    short.refresh_from_db()
    assert (short.resolution, short.resolved_by) == ("2 found in B-04-1", warehouse_user)


# --- the packing station -------------------------------------------------------------------------


def test_scanning_an_unknown_order_at_the_packing_station_is_refused(client, warehouse_user, floor):
    client.force_login(warehouse_user)

    response = client.get(
        reverse("fulfillment:pack"), {"node": "WH-EAST", "order": "NOPE-1"}, **HTMX
    )

    assert form_errors(response, "scan_form") == {"order": ["No order NOPE-1: scan it again."]}
    assert "has-errors" in response.content.decode()


def test_a_scanned_order_shows_its_picked_lines_and_the_suggested_box(
    client, warehouse_user, manager, floor
):
    order = picked(floor, manager, [(floor.tee, 2), (floor.mug, 1)], order_number="114-2")
    client.force_login(warehouse_user)

    response = client.get(
        reverse("fulfillment:pack"), {"node": "WH-EAST", "order": "114-2"}, **HTMX
    )

    assert response.context["order"] == order
    assert [(line.sku.code, units) for line, units in response.context["pack_lines"]] == [
        ("TEE-01", 2),
        ("MUG-01", 1),
    ]
    assert response.context["suggestion"].box.code == "S1"
    assert response.context["pack_form"]["box"].value() == "S1"
    assert "Suggested box: <strong>S1</strong>" in response.content.decode()


def test_packing_records_the_package_and_offers_the_label(client, warehouse_user, manager, floor):
    order = picked(floor, manager, [(floor.tee, 2)])
    line = order.lines.get()
    client.force_login(warehouse_user)

    response = client.post(
        reverse("fulfillment:pack-order", args=[order.pk]),
        {"node": "WH-EAST", f"line_{line.pk}": 2, "box": "S1", "weight_grams": 650},
        **HTMX,
    )

    package = Package.objects.get()
    assert (package.box.code, package.weight_grams, package.packed_by) == (
        "S1",
        650,
        warehouse_user,
    )
    assert response.context["done"] == f"Packed {package.number} (650 g): create its label."
    row = response.context["packages"][0]
    assert row["shipment"] is None
    assert [option.key for option in row["label_form"].quote.options] == [
        "POST:GROUND",
        "UPSX:GROUND",
    ]
    order.refresh_from_db()
    assert order.state == OrderState.PACKED


def test_packing_more_than_was_picked_or_too_heavy_is_refused_inline(
    client, warehouse_user, manager, floor
):
    order = picked(floor, manager, [(floor.tee, 2)])
    line = order.lines.get()
    client.force_login(warehouse_user)
    url = reverse("fulfillment:pack-order", args=[order.pk])

    too_many = client.post(
        url, {"node": "WH-EAST", f"line_{line.pk}": 3, "box": "S1", "weight_grams": 650}, **HTMX
    )
    too_heavy = client.post(
        url, {"node": "WH-EAST", f"line_{line.pk}": 2, "box": "S1", "weight_grams": 9000}, **HTMX
    )

    assert form_errors(too_many, "pack_form") == {
        f"line_{line.pk}": [
            f"Line {line.line_number}: 2 picked at WH-EAST and not packed yet; 3 cannot be packed."
        ]
    }
    assert form_errors(too_heavy, "pack_form") == {
        "weight_grams": ["9000 g is more than S1 carries (5000 g)."]
    }
    assert not Package.objects.exists()


def test_a_label_shows_the_service_chosen_and_the_alternatives_and_prints(
    client, warehouse_user, manager, floor
):
    order, package = packed(floor, manager, [(floor.tee, 1)])
    client.force_login(warehouse_user)

    response = client.post(reverse("fulfillment:package-label", args=[package.pk]), {}, **HTMX)

    shipment = Shipment.objects.get()
    assert (shipment.carrier.code, shipment.state) == ("POST", "label_created")
    page = response.content.decode()
    assert f"Label {shipment.tracking_number} (POST Ground)" in page
    assert "UPSX:GROUND" in page and "chosen" in page
    label = client.get(reverse("fulfillment:label-pdf", args=[shipment.pk]))
    assert label["Content-Type"] == "application/pdf"
    assert label.content.startswith(b"%PDF")
    slip = client.get(reverse("fulfillment:packing-slip", args=[package.pk]))
    assert (slip["Content-Type"], slip.content[:4]) == ("application/pdf", b"%PDF")


def test_the_packer_may_choose_another_quoted_service(client, warehouse_user, manager, floor):
    _, package = packed(floor, manager, [(floor.tee, 1)])
    client.force_login(warehouse_user)

    client.post(
        reverse("fulfillment:package-label", args=[package.pk]),
        {f"label-{package.pk}-service": "UPSX:GROUND"},
        **HTMX,
    )

    shipment = Shipment.objects.get()
    assert (shipment.carrier.code, shipment.rate_explanation["overridden"]) == ("UPSX", True)


def test_a_label_for_a_cancelled_order_is_refused_and_none_is_bought(
    client, warehouse_user, manager, floor
):
    order, package = packed(floor, manager, [(floor.tee, 1)])
    from orders.models import Order

    Order.objects.filter(pk=order.pk).update(state=OrderState.CANCELLED)
    client.force_login(warehouse_user)

    response = client.post(reverse("fulfillment:package-label", args=[package.pk]), {}, **HTMX)

    assert "The order was cancelled: no label." in response.content.decode()
    assert not Shipment.objects.exists()


def test_confirming_the_shipment_at_the_station_ships_the_order_and_queues_the_tracking(
    client, warehouse_user, manager, floor
):
    order, package = packed(floor, manager, [(floor.tee, 2)])
    shipment = create_label(package_id=package.pk, actor=manager)
    client.force_login(warehouse_user)

    response = client.post(
        reverse("fulfillment:shipment-confirm", args=[shipment.pk]), {"station": "1"}, **HTMX
    )

    assert f"{shipment.number} shipped with POST" in response.context["done"]
    assert [t.name for t in response.templates][0] == "fulfillment/partials/pack_station.html"
    order.refresh_from_db()
    assert order.state == OrderState.SHIPPED
    assert StockLedgerEntry.objects.filter(kind="shipment", reference=shipment.number).count() == 1
    assert OutboxMessage.objects.filter(endpoint__code="amazon-tracking").count() == 1


def test_ticked_labelled_parcels_ship_together_from_the_shipment_list(
    client, warehouse_user, manager, floor
):
    shipments = []
    for _ in range(2):
        _, package = packed(floor, manager, [(floor.tee, 1)])
        shipments.append(create_label(package_id=package.pk, actor=manager))
    client.force_login(warehouse_user)

    listing = client.get(reverse("fulfillment:shipment-list"), {"state": "label_created"})
    assert listing.context["can_manifest"]
    assert f'value="{shipments[0].pk}" form="manifest"' in listing.content.decode()

    response = client.post(
        reverse("fulfillment:shipment-manifest"),
        {"shipment": [s.pk for s in shipments]},
        follow=True,
    )

    assert "2 parcels shipped" in response.content.decode()
    assert set(Shipment.objects.values_list("state", flat=True)) == {"shipped"}


def test_a_manifest_with_a_shipped_parcel_ships_nothing_and_says_which(
    client, warehouse_user, manager, floor
):
    shipments = []
    for _ in range(2):
        _, package = packed(floor, manager, [(floor.tee, 1)])
        shipments.append(create_label(package_id=package.pk, actor=manager))
    confirm_shipment(shipment_id=shipments[1].pk, actor=manager)
    client.force_login(warehouse_user)

    response = client.post(
        reverse("fulfillment:shipment-manifest"),
        {"shipment": [s.pk for s in shipments]},
        follow=True,
    )

    assert f"Nothing shipped: Shipment {shipments[1].number} is already shipped." in (
        response.content.decode()
    )
    shipments[0].refresh_from_db()
    assert shipments[0].state == Shipment.State.LABEL_CREATED


def test_confirming_a_shipment_twice_is_refused_with_the_reason(
    client, warehouse_user, manager, floor
):
    order, package = packed(floor, manager, [(floor.tee, 1)])
    shipment = create_label(package_id=package.pk, actor=manager)
    confirm_shipment(shipment_id=shipment.pk, actor=manager)
    client.force_login(warehouse_user)

    response = client.post(reverse("fulfillment:shipment-confirm", args=[shipment.pk]), **HTMX)

    assert response.context["refused"] == f"Shipment {shipment.number} is already shipped."
    assert StockLedgerEntry.objects.filter(kind="shipment").count() == 1


def test_voiding_a_label_needs_a_reason(client, warehouse_user, manager, floor):
    _, package = packed(floor, manager, [(floor.tee, 1)])
    shipment = create_label(package_id=package.pk, actor=manager)
    client.force_login(warehouse_user)
    url = reverse("fulfillment:shipment-void", args=[shipment.pk])

    refused = client.post(url, {"station": "1", f"void-{package.pk}-reason": ""}, **HTMX)
    assert "Say why the label is voided." in refused.content.decode()
    client.post(url, {"station": "1", f"void-{package.pk}-reason": "wrong box"}, **HTMX)

    shipment.refresh_from_db()
    assert shipment.state == "voided"


# --- shipments ---------------------------------------------------------------------------------


def test_the_shipment_page_shows_lines_tracking_and_the_messages_it_sent(
    client, warehouse_user, manager, floor
):
    order, package = packed(floor, manager, [(floor.tee, 2)])
    shipment = confirm_shipment(
        shipment_id=create_label(package_id=package.pk, actor=manager).pk, actor=manager
    )
    client.force_login(warehouse_user)

    response = client.get(reverse("fulfillment:shipment", args=[shipment.pk]))

    page = response.content.decode()
    assert response.context["tracking_url"] == (
        f"https://track.example.com/POST/{shipment.tracking_number}"
    )
    assert [(line.sku.code, line.quantity) for line in response.context["lines"]] == [("TEE-01", 2)]
    assert {m.topic for m in response.context["messages_out"]} == {
        "tracking.amazon",
        "customer.shipment_notification",
    }
    assert "amazon-tracking" in page


def test_shipments_filter_by_node_carrier_date_and_tracking_number(
    client, warehouse_user, manager, floor
):
    _, package = packed(floor, manager, [(floor.tee, 1)])
    first = confirm_shipment(
        shipment_id=create_label(package_id=package.pk, actor=manager).pk, actor=manager
    )
    _, package = packed(floor, manager, [(floor.mug, 1)])
    second = create_label(package_id=package.pk, actor=manager, service_code="UPSX:GROUND")
    client.force_login(warehouse_user)
    url = reverse("fulfillment:shipment-list")
    today = timezone.localdate().isoformat()

    def listed(**query):
        response = client.get(url, query, **HTMX)
        return [s.pk for s in response.context["page"].object_list]

    assert listed() == [second.pk, first.pk]
    assert listed(carrier="UPSX") == [second.pk]
    assert listed(q=first.tracking_number[-6:]) == [first.pk]
    assert listed(shipped_from=today, shipped_to=today) == [first.pk]
    assert listed(node="WH-EAST", state="label_created") == [second.pk]


def test_the_shipment_list_runs_the_same_queries_for_one_and_for_many(
    client, warehouse_user, manager, floor, django_assert_num_queries
):
    _, package = packed(floor, manager, [(floor.tee, 1)])
    create_label(package_id=package.pk, actor=manager)
    client.force_login(warehouse_user)
    url = reverse("fulfillment:shipment-list")
    client.get(url)

    # session, user, roles, count, page with orders, channels, nodes, carriers and
    # services, node choices, carrier choices
    with django_assert_num_queries(7):
        client.get(url)
    for _ in range(3):
        _, package = packed(floor, manager, [(floor.mug, 1)])
        create_label(package_id=package.pk, actor=manager)
    with django_assert_num_queries(7):
        response = client.get(url)
    assert len(response.context["page"].object_list) == 4


def test_reservations_are_consumed_when_the_shipment_is_confirmed(
    client, warehouse_user, manager, floor
):
    order, package = packed(floor, manager, [(floor.tee, 2)])
    shipment = create_label(package_id=package.pk, actor=manager)
    client.force_login(warehouse_user)

    client.post(reverse("fulfillment:shipment-confirm", args=[shipment.pk]))

    reservation = Reservation.objects.get(line_reference=order.lines.get().reference)
    assert reservation.state == "consumed"
