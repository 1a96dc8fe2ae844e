"""The fulfillment API through HTTP with token auth: master data, pick lists and picks,
packing, labels, shipment confirmation (ours and a 3PL's) and shipments with tracking."""

from datetime import time
from decimal import Decimal

import pytest

from erp.models import OutboxMessage
from fulfillment.models import (
    Carrier,
    CarrierService,
    Package,
    PickConfirmation,
    PickList,
    RateCard,
    Shipment,
    ShortPick,
    Slot,
)
from fulfillment.services import master_data
from fulfillment.services.labels import create_label
from fulfillment.services.shipping import confirm_shipment
from fulfillment.services.waves import assign_slot, build_waves
from inventory.models import StockLedgerEntry
from orders.models import OrderState
from tests.conftest import token_client
from tests.factories import LocationFactory, SkuFactory
from tests.fulfillment.test_views import build_floor, packed, picked, place, tasks_of

pytestmark = pytest.mark.django_db


def errors(response) -> list[tuple]:
    return [(e["field"], e["code"]) for e in response.json()["errors"]]


@pytest.fixture
def setup_api(manager):
    """A manager's API client: managers keep carriers, rates and boxes."""
    return token_client(manager)


@pytest.fixture
def floor(manager):
    """The warehouse floor of the view tests (tests/fulfillment/test_views.py)."""
    return build_floor(manager)


@pytest.fixture
def floor_api(warehouse_user):
    return token_client(warehouse_user)


@pytest.fixture
def ground(manager):
    carrier = master_data.create_carrier(
        actor=manager, data={"code": "UPSX", "name": "UPS", "active": True}
    )
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


def rate_body(**changes) -> dict:
    body = {
        "service": "UPSX:GROUND",
        "origin_region": "us-east",
        "zone": "mid",
        "min_weight_grams": 0,
        "max_weight_grams": 1000,
        "price": "5.10",
        "transit_days": 3,
    }
    return {**body, **changes}


# --- master data -------------------------------------------------------------------------------


def test_a_manager_creates_a_carrier_and_a_service_by_carrier_code(setup_api):
    response = setup_api.post(
        "/api/v1/carriers/",
        {"code": "DHLX", "name": "DHL Express", "tracking_pattern": r"^[0-9]{10}$"},
    )
    assert response.status_code == 201, response.json()

    response = setup_api.post(
        "/api/v1/carrier-services/",
        {
            "carrier": "DHLX",
            "code": "EXPRESS",
            "name": "Express worldwide",
            "service_level": "priority",
            "cutoff_time": "16:30",
        },
    )

    assert response.status_code == 201, response.json()
    assert response.json()["key"] == "DHLX:EXPRESS"
    assert CarrierService.objects.get().carrier.code == "DHLX"
    assert setup_api.get("/api/v1/carriers/DHLX/").json()["name"] == "DHL Express"


def test_a_carrier_with_a_broken_tracking_pattern_is_400_and_nothing_is_written(setup_api):
    response = setup_api.post(
        "/api/v1/carriers/", {"code": "DHLX", "name": "DHL", "tracking_pattern": "[0-9"}
    )

    assert response.status_code == 400
    assert errors(response) == [("tracking_pattern", "invalid_pattern")]
    assert not Carrier.objects.exists()


def test_the_floor_cannot_change_carriers(floor_api, ground):
    response = floor_api.patch("/api/v1/carriers/UPSX/", {"name": "Renamed"})

    assert response.status_code == 403
    assert Carrier.objects.get().name == "UPS"


def test_rate_cards_name_their_service_as_carrier_and_code(setup_api, ground):
    response = setup_api.post("/api/v1/rate-cards/", rate_body())

    assert response.status_code == 201, response.json()
    assert response.json()["service"] == "UPSX:GROUND"
    assert RateCard.objects.get().price == Decimal("5.10")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"service": "UPSX:NOPE"}, [("service", "does_not_exist")]),
        ({"service": "GROUND"}, [("service", "invalid")]),
        ({"price": "-1"}, [("price", "min_value")]),
        ({"max_weight_grams": 0}, [("max_weight_grams", "empty_band")]),
        ({"colour": "red"}, [("colour", "unknown_field")]),
    ],
)
def test_a_bad_rate_card_is_400_with_the_field_named(setup_api, ground, changes, expected):
    response = setup_api.post("/api/v1/rate-cards/", rate_body(**changes))

    assert response.status_code == 400
    assert errors(response) == expected
    assert not RateCard.objects.exists()


def test_an_overlapping_rate_band_is_400(setup_api, ground):
    setup_api.post("/api/v1/rate-cards/", rate_body())

    response = setup_api.post(
        "/api/v1/rate-cards/", rate_body(min_weight_grams=500, max_weight_grams=2000)
    )

    assert response.status_code == 400
    assert errors(response) == [("max_weight_grams", "overlapping_band")]
    assert RateCard.objects.count() == 1


def test_rate_cards_filter_by_service_lane_and_weight(api, setup_api, ground):
    setup_api.post("/api/v1/rate-cards/", rate_body())
    setup_api.post(
        "/api/v1/rate-cards/", rate_body(min_weight_grams=1000, max_weight_grams=5000, price="8")
    )
    setup_api.post("/api/v1/rate-cards/", rate_body(zone="pacific"))

    response = api.get(
        "/api/v1/rate-cards/", {"service": "UPSX:GROUND", "zone": "mid", "weight_grams": 1000}
    )

    assert [row["price"] for row in response.json()["results"]] == ["5.10"]


def test_slots_are_assigned_by_node_and_sku_code_and_assigning_again_moves_them(floor_api):
    LocationFactory(code="WH-EAST")
    SkuFactory(code="TEE-01")

    response = floor_api.post(
        "/api/v1/slots/", {"location": "WH-EAST", "sku": "TEE-01", "code": "a-01-3"}
    )
    assert response.status_code == 201, response.json()
    assert (response.json()["code"], response.json()["sort_key"]) == ("A-01-3", "   A-001-03")

    again = floor_api.post(
        "/api/v1/slots/", {"location": "WH-EAST", "sku": "TEE-01", "code": "B-01-1"}
    )
    assert again.json()["id"] == response.json()["id"]
    moved = floor_api.patch(f"/api/v1/slots/{again.json()['id']}/", {"code": "C-02-2"})
    assert moved.status_code == 200, moved.json()
    assert Slot.objects.get().code == "C-02-2"
    refused = floor_api.patch(f"/api/v1/slots/{again.json()['id']}/", {"sku": "MUG-01"})
    assert errors(refused) == [("sku", "unknown_field")]


def test_a_malformed_slot_code_is_400(floor_api):
    LocationFactory(code="WH-EAST")
    SkuFactory(code="TEE-01")

    response = floor_api.post(
        "/api/v1/slots/", {"location": "WH-EAST", "sku": "TEE-01", "code": "shelf 4"}
    )

    assert response.status_code == 400
    assert errors(response) == [("code", "invalid_slot")]
    assert not Slot.objects.exists()


def test_listing_slots_costs_the_same_queries_for_one_or_many(
    api, manager, django_assert_num_queries
):
    node = LocationFactory(code="WH-EAST")
    for number in range(1, 12):
        sku = SkuFactory(code=f"SKU-{number}")
        assign_slot(location=node, sku=sku, code=f"A-{number:02d}-1", actor=manager)
        if number == 1:
            api.get("/api/v1/slots/")
            # page of slots with their nodes and SKUs (the token's user is cached)
            with django_assert_num_queries(1):
                api.get("/api/v1/slots/")
    with django_assert_num_queries(1):
        response = api.get("/api/v1/slots/", {"location": "WH-EAST"})
    assert len(response.json()["results"]) == 11


def test_a_channel_policy_names_its_channel_and_endpoints_by_code(setup_api):
    from tests.factories import ChannelFactory, EndpointFactory

    ChannelFactory(code="AMZ-US", kind="amazon")
    EndpointFactory(code="amazon-tracking")

    response = setup_api.post(
        "/api/v1/channel-fulfillment-policies/",
        {"channel": "AMZ-US", "tracking_endpoint": "amazon-tracking", "strict_penalties": True},
    )

    assert response.status_code == 201, response.json()
    assert response.json()["tracking_endpoint"] == "amazon-tracking"
    again = setup_api.post("/api/v1/channel-fulfillment-policies/", {"channel": "AMZ-US"})
    assert again.status_code == 400
    assert errors(again) == [("channel", "unique")]


def test_the_openapi_schema_describes_the_fulfillment_api(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    paths = set(response.json()["paths"])
    assert {
        "/api/v1/carriers/",
        "/api/v1/carrier-services/",
        "/api/v1/rate-cards/",
        "/api/v1/boxes/",
        "/api/v1/slots/",
        "/api/v1/channel-fulfillment-policies/",
        "/api/v1/pick-lists/{id}/",
        "/api/v1/pick-tasks/{id}/confirm/",
        "/api/v1/pick-tasks/{id}/short/",
        "/api/v1/packages/",
        "/api/v1/packages/{id}/packing-slip/",
        "/api/v1/labels/",
        "/api/v1/shipments/{id}/confirm/",
        "/api/v1/shipments/manifest/",
        "/api/v1/shipments/{id}/label/",
        "/api/v1/external-shipments/",
    } <= paths


# --- pick lists and picks ----------------------------------------------------------------------


@pytest.fixture
def waved(floor, manager):
    order = place(floor, [(floor.tee, 2), (floor.mug, 1)], manager)
    build_waves(location=floor.node, actor=manager)
    return order


def test_pick_lists_filter_by_node_state_and_wave_and_show_progress(api, waved):
    pick_list = PickList.objects.get()

    listed = api.get(
        "/api/v1/pick-lists/", {"node": "WH-EAST", "state": "open", "wave": pick_list.wave_id}
    )
    detail = api.get(f"/api/v1/pick-lists/{pick_list.pk}/")

    assert listed.status_code == 200
    row = listed.json()["results"][0]
    assert (row["number"], row["lines_total"], row["lines_done"]) == (pick_list.number, 2, 0)
    assert api.get("/api/v1/pick-lists/", {"node": "ELSEWHERE"}).json()["results"] == []
    tasks = detail.json()["tasks"]
    assert [(t["slot_code"], t["sku"], t["quantity"], t["state"]) for t in tasks] == [
        ("A-01-1", "TEE-01", 2, "open"),
        ("B-02-1", "MUG-01", 1, "open"),
    ]


def test_listing_pick_lists_costs_the_same_queries_for_one_or_many(
    api, floor, manager, django_assert_num_queries
):
    place(floor, [(floor.tee, 1)], manager)
    build_waves(location=floor.node, actor=manager)
    api.get("/api/v1/pick-lists/")
    # page of pick lists with waves, nodes, pickers and progress (the token's user is cached)
    with django_assert_num_queries(1):
        api.get("/api/v1/pick-lists/")
    for _ in range(5):
        place(floor, [(floor.tee, 1)], manager)
        build_waves(location=floor.node, actor=manager)
    with django_assert_num_queries(1):
        response = api.get("/api/v1/pick-lists/")
    assert len(response.json()["results"]) == 6


def test_a_pick_is_confirmed_with_what_the_scanner_read(floor_api, waved):
    task = tasks_of(waved)[0]

    response = floor_api.post(
        f"/api/v1/pick-tasks/{task.pk}/confirm/",
        {"slot_code": "A-01-1", "barcode": "0790000000011", "quantity": 2},
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["state"], response.json()["quantity_picked"]) == ("picked", 2)


@pytest.mark.parametrize(
    ("scan", "expected"),
    [
        (
            {"slot_code": "A-01-1", "barcode": "0790000000028", "quantity": 2},
            ("barcode", "wrong_barcode"),
        ),
        ({"slot_code": "B-02-1", "barcode": "TEE-01", "quantity": 2}, ("slot_code", "wrong_slot")),
        (
            {"slot_code": "A-01-1", "barcode": "TEE-01", "quantity": 3},
            ("quantity", "more_than_remaining"),
        ),
        ({"slot_code": "A-01-1", "barcode": "TEE-01", "quantity": 0}, ("quantity", "min_value")),
        ({"slot_code": "A-01-1", "barcode": "TEE-01", "quantity": "two"}, ("quantity", "invalid")),
        (
            {"slot_code": "A-01-1", "barcode": "TEE-01", "quantity": 1, "bin": "x"},
            ("bin", "unknown_field"),
        ),
    ],
)
def test_a_bad_scan_is_refused_with_the_field_and_nothing_is_picked(
    floor_api, waved, scan, expected
):
    task = tasks_of(waved)[0]

    response = floor_api.post(f"/api/v1/pick-tasks/{task.pk}/confirm/", scan)

    assert response.status_code in (400, 409)
    assert errors(response) == [expected]
    assert not PickConfirmation.objects.exists()


def test_confirming_a_pick_twice_is_409(floor_api, waved):
    task = tasks_of(waved)[0]
    scan = {"slot_code": "A-01-1", "barcode": "TEE-01", "quantity": 2}
    floor_api.post(f"/api/v1/pick-tasks/{task.pk}/confirm/", scan)

    again = floor_api.post(f"/api/v1/pick-tasks/{task.pk}/confirm/", scan)

    assert again.status_code == 409
    assert errors(again) == [("task_id", "already_picked")]
    assert PickConfirmation.objects.count() == 1


def test_an_idempotency_key_replays_a_confirmed_pick_instead_of_refusing_it(floor_api, waved):
    task = tasks_of(waved)[0]
    scan = {"slot_code": "A-01-1", "barcode": "TEE-01", "quantity": 2}
    url = f"/api/v1/pick-tasks/{task.pk}/confirm/"

    first = floor_api.post(url, scan, HTTP_IDEMPOTENCY_KEY="scan-1")
    again = floor_api.post(url, scan, HTTP_IDEMPOTENCY_KEY="scan-1")

    assert (first.status_code, again.status_code) == (200, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert PickConfirmation.objects.count() == 1


def test_a_short_pick_is_reported_and_counted(floor_api, waved):
    task = tasks_of(waved)[0]

    response = floor_api.post(
        f"/api/v1/pick-tasks/{task.pk}/short/", {"quantity_found": 1, "note": "one left"}
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["quantity"], body["task"]["state"], body["count"] is not None) == (
        1,
        "short",
        True,
    )
    assert ShortPick.objects.count() == 1


def test_a_short_pick_that_covers_the_task_is_400(floor_api, waved):
    task = tasks_of(waved)[0]

    response = floor_api.post(f"/api/v1/pick-tasks/{task.pk}/short/", {"quantity_found": 2})

    assert errors(response) == [("quantity_found", "not_short")]
    assert not ShortPick.objects.exists()


def test_an_integration_cannot_pick(api, waved):
    task = tasks_of(waved)[0]

    response = api.post(
        f"/api/v1/pick-tasks/{task.pk}/confirm/",
        {"slot_code": "A-01-1", "barcode": "TEE-01", "quantity": 2},
    )

    assert response.status_code == 403
    assert not PickConfirmation.objects.exists()


# --- packing and labels ------------------------------------------------------------------------


def test_packing_records_a_package_of_the_picked_lines(floor_api, floor, manager):
    order = picked(floor, manager, [(floor.tee, 2)])
    line = order.lines.get()

    response = floor_api.post(
        "/api/v1/packages/",
        {
            "order": order.pk,
            "location": "WH-EAST",
            "lines": [{"line": line.pk, "quantity": 2}],
            "box": "S1",
            "weight_grams": 640,
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["box"], body["suggested_box"], body["weight_grams"]) == ("S1", "S1", 640)
    assert body["lines"] == [{"line": line.pk, "sku": "TEE-01", "quantity": 2}]
    order.refresh_from_db()
    assert order.state == OrderState.PACKED


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"quantity": 3}, "more_than_picked"),
        ({"box": "NOPE"}, "unknown_box"),
        ({"weight_grams": 0}, "min_value"),
        ({"box": None}, "required"),
    ],
)
def test_bad_packing_is_400_and_nothing_is_packed(floor_api, floor, manager, changes, expected):
    order = picked(floor, manager, [(floor.tee, 2)])
    line = order.lines.get()
    body = {
        "order": order.pk,
        "location": "WH-EAST",
        "lines": [{"line": line.pk, "quantity": changes.pop("quantity", 2)}],
        "box": "S1",
        "weight_grams": 640,
        **changes,
    }

    response = floor_api.post("/api/v1/packages/", body)

    assert response.status_code == 400
    assert [code for _, code in errors(response)] == [expected]
    assert not Package.objects.exists()


def test_a_label_is_bought_with_the_services_considered_and_prints_as_pdf(
    floor_api, floor, manager
):
    _, package = packed(floor, manager, [(floor.tee, 1)])

    response = floor_api.post("/api/v1/labels/", {"package": package.pk})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["carrier"], body["service"], body["state"]) == (
        "POST",
        "POST:GROUND",
        "label_created",
    )
    keys = [option["key"] for option in body["rate_explanation"]["options"]]
    assert keys == ["POST:GROUND", "UPSX:GROUND"]
    pdf = floor_api.get(f"/api/v1/shipments/{body['id']}/label/", HTTP_ACCEPT="application/pdf")
    assert (pdf.status_code, pdf["Content-Type"], pdf.content[:4]) == (
        200,
        "application/pdf",
        b"%PDF",
    )
    slip = floor_api.get(f"/api/v1/packages/{package.pk}/packing-slip/")
    assert (slip["Content-Type"], slip.content[:4]) == ("application/pdf", b"%PDF")


def test_a_label_for_an_unpacked_package_or_an_unquoted_service_is_refused(
    floor_api, floor, manager
):
    _, package = packed(floor, manager, [(floor.tee, 1)])

    unknown = floor_api.post("/api/v1/labels/", {"package": 999999})
    unquoted = floor_api.post("/api/v1/labels/", {"package": package.pk, "service": "DHL:AIR"})

    assert (unknown.status_code, errors(unknown)) == (404, [("package_id", "not_found")])
    assert errors(unquoted) == [("service_code", "service_not_quoted")]
    assert not Shipment.objects.exists()


def test_a_second_label_for_a_package_is_409(floor_api, floor, manager):
    _, package = packed(floor, manager, [(floor.tee, 1)])
    floor_api.post("/api/v1/labels/", {"package": package.pk})

    again = floor_api.post("/api/v1/labels/", {"package": package.pk})

    assert (again.status_code, errors(again)) == (409, [("package_id", "label_exists")])
    assert Shipment.objects.count() == 1


# --- shipments -----------------------------------------------------------------------------------


def test_confirming_a_shipment_ships_the_order_and_queues_the_tracking_upload(
    floor_api, floor, manager
):
    order, package = packed(floor, manager, [(floor.tee, 2)])
    shipment = create_label(package_id=package.pk, actor=manager)

    response = floor_api.post(f"/api/v1/shipments/{shipment.pk}/confirm/")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "shipped"
    assert body["lines"] == [
        {"line": order.lines.get().pk, "sku": "TEE-01", "quantity": 2, "lot": None, "serials": []}
    ]
    assert body["tracking_url"].endswith(shipment.tracking_number)
    order.refresh_from_db()
    assert order.state == OrderState.SHIPPED
    assert StockLedgerEntry.objects.filter(kind="shipment").count() == 1
    upload = OutboxMessage.objects.get(topic="tracking.amazon")
    assert upload.payload["format"] == "amazon"


def test_confirming_a_shipment_twice_is_409_and_nothing_more_leaves(floor_api, floor, manager):
    _, package = packed(floor, manager, [(floor.tee, 1)])
    shipment = create_label(package_id=package.pk, actor=manager)
    floor_api.post(f"/api/v1/shipments/{shipment.pk}/confirm/")

    again = floor_api.post(f"/api/v1/shipments/{shipment.pk}/confirm/")

    assert (again.status_code, errors(again)) == (409, [("shipment_id", "already_shipped")])
    assert StockLedgerEntry.objects.filter(kind="shipment").count() == 1


def test_a_manifest_confirms_the_trucks_parcels_together_or_not_at_all(floor_api, floor, manager):
    labelled = []
    for _ in range(2):
        _, package = packed(floor, manager, [(floor.tee, 1)])
        labelled.append(create_label(package_id=package.pk, actor=manager))
    floor_api.post(f"/api/v1/shipments/{labelled[1].pk}/confirm/")
    before = StockLedgerEntry.objects.count()

    refused = floor_api.post(
        "/api/v1/shipments/manifest/", {"shipment_ids": [s.pk for s in labelled]}, format="json"
    )
    assert (refused.status_code, errors(refused)) == (409, [("shipment_id", "already_shipped")])
    assert StockLedgerEntry.objects.count() == before

    shipped = floor_api.post(
        "/api/v1/shipments/manifest/", {"shipment_ids": [labelled[0].pk]}, format="json"
    )
    assert shipped.status_code == 200, shipped.json()
    assert [(row["number"], row["state"]) for row in shipped.json()] == [
        (labelled[0].number, "shipped")
    ]
    empty = floor_api.post("/api/v1/shipments/manifest/", {"shipment_ids": []}, format="json")
    assert empty.status_code == 400


def test_voiding_a_label_needs_a_reason(floor_api, floor, manager):
    _, package = packed(floor, manager, [(floor.tee, 1)])
    shipment = create_label(package_id=package.pk, actor=manager)

    refused = floor_api.post(f"/api/v1/shipments/{shipment.pk}/void/", {})
    voided = floor_api.post(f"/api/v1/shipments/{shipment.pk}/void/", {"reason": "wrong box"})

    assert errors(refused) == [("reason", "required")]
    assert voided.json()["state"] == "voided"
    assert floor_api.get(f"/api/v1/shipments/{shipment.pk}/label/").status_code == 404


def test_shipments_filter_by_order_node_carrier_date_and_tracking_number(api, floor, manager):
    order, package = packed(floor, manager, [(floor.tee, 1)])
    shipped = confirm_shipment(
        shipment_id=create_label(package_id=package.pk, actor=manager).pk, actor=manager
    )
    other_order, package = packed(floor, manager, [(floor.mug, 1)])
    labelled = create_label(package_id=package.pk, actor=manager, service_code="UPSX:GROUND")

    def ids(**query):
        return [row["id"] for row in api.get("/api/v1/shipments/", query).json()["results"]]

    assert ids() == [shipped.pk, labelled.pk]
    assert ids(order=other_order.pk) == [labelled.pk]
    assert ids(carrier="UPSX", node="WH-EAST") == [labelled.pk]
    assert ids(tracking_number=shipped.tracking_number) == [shipped.pk]
    assert ids(shipped_after=shipped.shipped_at.isoformat()) == [shipped.pk]
    assert ids(state="label_created") == [labelled.pk]
    assert api.get("/api/v1/shipments/", {"shipped_after": "yesterday"}).status_code == 400


def test_listing_shipments_costs_the_same_queries_for_one_or_many(
    api, floor, manager, django_assert_num_queries
):
    _, package = packed(floor, manager, [(floor.tee, 1)])
    create_label(package_id=package.pk, actor=manager)
    api.get("/api/v1/shipments/")
    # page of shipments with orders, channels, nodes, carriers and services, their lines
    # with SKUs and lots (the token's user is cached)
    with django_assert_num_queries(2):
        api.get("/api/v1/shipments/")
    for _ in range(3):
        _, package = packed(floor, manager, [(floor.mug, 1)])
        create_label(package_id=package.pk, actor=manager)
    with django_assert_num_queries(2):
        response = api.get("/api/v1/shipments/")
    assert len(response.json()["results"]) == 4


# --- a 3PL or WMS reports a shipment -------------------------------------------------------------


@pytest.fixture
def three_pl(floor, manager):
    """A 3PL node the Amazon channel sells from, with stock of its own."""
    node = LocationFactory(code="3PL-WEST", kind="3pl", region="us-east", priority=1)
    floor.channel.eligible_locations.add(node)
    from inventory.services.movements import receive_stock

    receive_stock(sku=floor.tee, location=node, quantity=20, actor=manager)
    return node


def external_body(placed, **changes):
    line = placed.lines.get()
    body = {
        "order": placed.pk,
        "location": "3PL-WEST",
        "carrier": "UPSX",
        "service": "GROUND",
        "tracking_number": "UPSX123456789012",
        "lines": [{"line_id": line.pk, "quantity": line.quantity}],
    }
    return {**body, **changes}


def test_a_3pl_reports_a_shipment_by_channel_and_external_id(api, floor, manager, three_pl):
    order = place(floor, [(floor.tee, 2)], manager)
    assert order.lines.get().allocations.get().location == three_pl
    body = external_body(order, channel="AMZ-US", external_id=order.external_id)
    del body["order"]

    response = api.post("/api/v1/external-shipments/", body)

    assert response.status_code == 201, response.json()
    assert (response.json()["source"], response.json()["location"]) == ("external", "3PL-WEST")
    order.refresh_from_db()
    assert order.state == OrderState.SHIPPED
    assert OutboxMessage.objects.filter(topic="tracking.amazon").count() == 1


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"location": "WH-EAST"}, ("location_code", "routed_elsewhere")),
        ({"carrier": "NOPE"}, ("carrier_code", "unknown_carrier")),
        ({"tracking_number": "123"}, ("tracking_number", "invalid")),
        ({"lines": []}, ("lines", "empty")),
        (
            {"order": None, "external_id": "NOPE", "channel": "AMZ-US"},
            ("external_id", "does_not_exist"),
        ),
    ],
)
def test_a_bad_3pl_report_is_refused_and_nothing_is_written(
    api, floor, manager, three_pl, changes, expected
):
    order = place(floor, [(floor.tee, 2)], manager)
    body = {
        key: value for key, value in external_body(order, **changes).items() if value is not None
    }

    response = api.post("/api/v1/external-shipments/", body)

    assert response.status_code in (400, 409)
    assert errors(response) == [expected]
    assert not Shipment.objects.exists()


def test_a_tracking_number_already_used_is_refused(api, floor, manager, three_pl):
    first = place(floor, [(floor.tee, 1)], manager)
    second = place(floor, [(floor.tee, 1)], manager)
    api.post("/api/v1/external-shipments/", external_body(first))

    response = api.post("/api/v1/external-shipments/", external_body(second))

    assert errors(response) == [("tracking_number", "tracking_number_taken")]
    assert Shipment.objects.count() == 1
