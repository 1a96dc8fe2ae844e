"""The fulfillment API through HTTP with token auth: master data, pick lists and picks,
packing, labels, shipment confirmation (ours and a 3PL's) and shipments with tracking."""

from datetime import time
from decimal import Decimal

import pytest

from fulfillment.models import Carrier, CarrierService, RateCard, Slot
from fulfillment.services import master_data
from fulfillment.services.waves import assign_slot
from tests.conftest import token_client
from tests.factories import LocationFactory, SkuFactory

pytestmark = pytest.mark.django_db


def errors(response) -> list[tuple]:
    return [(e["field"], e["code"]) for e in response.json()["errors"]]


@pytest.fixture
def setup_api(manager):
    """A manager's API client: managers keep carriers, rates and boxes."""
    return token_client(manager)


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
            # token with its user, page of slots with their nodes and SKUs
            with django_assert_num_queries(2):
                api.get("/api/v1/slots/")
    with django_assert_num_queries(2):
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
    } <= paths
