"""The fulfillment back office through HTTP as a browser (or HTMX) sends it: master data,
the warehouse dashboard, waves and the pick-list scanner, the packing station, labels and
shipments."""

import json
from datetime import time
from decimal import Decimal

import pytest
from django.urls import reverse

from fulfillment.models import Box, Carrier, CarrierService, RateCard, Slot
from fulfillment.services import master_data
from tests.factories import LocationFactory, SkuFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def triggered(response) -> set[str]:
    return set(json.loads(response["HX-Trigger"])) if "HX-Trigger" in response else set()


def form_errors(response) -> dict:
    return {name: list(errors) for name, errors in response.context["form"].errors.items()}


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
        {"code": "DHLX", "name": "DHL", "tracking_pattern": "^[0-9"},
        **HTMX,
    )

    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == (
        "fulfillment/partials/master/record_form.html"
    )
    assert "Not a regular expression" in form_errors(response)["tracking_pattern"][0]
    assert not Carrier.objects.exists()


def test_an_htmx_save_makes_the_browser_navigate_to_the_record(client, manager, carrier):
    client.force_login(manager)

    response = client.post(
        reverse("fulfillment:carrier-edit", args=[carrier.pk]),
        {"code": "UPSX", "name": "UPS United", "active": "on"},
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
        reverse("fulfillment:carrier-edit", args=[carrier.pk]), {"code": "UPSX", "name": "X"}
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
    tee = SkuFactory(code="TEE-01", barcode="0400000000017")
    client.force_login(warehouse_user)

    form = client.get(reverse("fulfillment:slot-create"), {"location": "WH-EAST"})
    assert form.context["form"]["location"].value() == "WH-EAST"
    response = client.post(
        reverse("fulfillment:slot-create"),
        {"location": "WH-EAST", "sku": "0400000000017", "code": "A-01-3"},
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
        {"location": "WH-EAST", "sku": "TEE-01", "code": "shelf 4"},
        **HTMX,
    )

    assert form_errors(response) == {"code": ["Use aisle-bay-level such as A-01-3."]}
    assert "has-error" in response.content.decode()
    assert not Slot.objects.exists()


def test_a_second_slot_for_the_same_sku_and_node_is_refused(client, warehouse_user, manager):
    node = LocationFactory(code="WH-EAST")
    tee = SkuFactory(code="TEE-01")
    master_data.create_slot(actor=manager, data={"location": node, "sku": tee, "code": "A-01-1"})
    client.force_login(warehouse_user)

    response = client.post(
        reverse("fulfillment:slot-create"),
        {"location": "WH-EAST", "sku": "TEE-01", "code": "B-02-2"},
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert Slot.objects.get().code == "A-01-1"


def test_slots_are_listed_per_node_and_searched_as_you_type(client, warehouse_user, manager):
    east, west = LocationFactory(code="WH-EAST"), LocationFactory(code="WH-WEST")
    tee, mug = SkuFactory(code="TEE-01"), SkuFactory(code="MUG-01")
    for node, sku, code in [(east, tee, "A-01-1"), (east, mug, "B-01-1"), (west, tee, "C-01-1")]:
        master_data.create_slot(actor=manager, data={"location": node, "sku": sku, "code": code})
    client.force_login(warehouse_user)

    response = client.get(reverse("fulfillment:slot-list"), {"node": "WH-EAST", "q": "mug"}, **HTMX)

    assert [slot.code for slot in response.context["page"].object_list] == ["B-01-1"]
    response = client.get(reverse("fulfillment:slot-list"), {"node": "WH-EAST"})
    assert [slot.code for slot in response.context["page"].object_list] == ["A-01-1", "B-01-1"]


def test_editing_a_slot_shows_its_sku_and_node_by_code_and_keeps_history(
    client, warehouse_user, manager
):
    node = LocationFactory(code="WH-EAST")
    tee = SkuFactory(code="TEE-01")
    slot = master_data.create_slot(
        actor=manager, data={"location": node, "sku": tee, "code": "A-01-1"}
    )
    client.force_login(warehouse_user)

    form = client.get(reverse("fulfillment:slot-edit", args=[slot.pk])).context["form"]
    assert (form["sku"].value(), form["location"].value()) == ("TEE-01", "WH-EAST")
    client.post(
        reverse("fulfillment:slot-edit", args=[slot.pk]),
        {"location": "WH-EAST", "sku": "TEE-01", "code": "A-02-1"},
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
