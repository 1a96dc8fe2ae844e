"""The fulfillment demo seeder, on top of the other demo seeders."""

import json
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from erp import roles
from erp.models import Endpoint, Location, Sku
from fulfillment.demo import seed_fulfillment, slot_code
from fulfillment.models import (
    Box,
    Carrier,
    CarrierService,
    ChannelFulfillmentPolicy,
    RateCard,
    Slot,
)
from fulfillment.services.labels import tracking_number_for
from fulfillment.services.rates import quote
from orders.models import Order, ShippingZone

pytestmark = pytest.mark.django_db

SEEDED = [Carrier, CarrierService, RateCard, Box, Slot, ChannelFulfillmentPolicy]
TUESDAY_9AM = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)


def demo_users():
    User = get_user_model()
    return {role: User.objects.get(username=role.replace("_", "-")) for role in roles.ALL_ROLES}


def counts():
    with_history = {
        model.__name__: (model.objects.count(), model.history.count())
        for model in SEEDED
        if hasattr(model, "history")
    }
    return with_history | {"Box": Box.objects.count(), "Endpoint": Endpoint.objects.count()}


@pytest.fixture
def demo():
    call_command("seed_demo", skus=30)
    seed_fulfillment(demo_users())


def test_seeding_fulfillment_twice_adds_nothing(demo):
    before = counts()

    seed_fulfillment(demo_users())

    assert counts() == before


def test_the_demo_has_carriers_services_rates_boxes_slots_and_policies(demo):
    assert set(Carrier.objects.values_list("code", flat=True)) == {"UPSX", "POST", "SWFT"}
    assert CarrierService.objects.count() == 8
    # 4 node regions × 4 zones × 6 bands for 7 national services, in-region only for SWFT.
    assert RateCard.objects.count() == 7 * 4 * 4 * 6 + 4 * 6
    swift = RateCard.objects.filter(service__carrier__code="SWFT")
    assert set(swift.values_list("origin_region", "zone")) == {
        ("us-east", "east"),
        ("us-west", "west"),
        ("us-central", "central"),
        ("us-south", "south"),
    }
    assert swift.filter(zone="east").count() == 6
    assert Box.objects.count() == 6
    picking_nodes = Location.objects.filter(kind__in=["warehouse", "store"]).count()
    assert picking_nodes == 4
    assert Slot.objects.count() == Sku.objects.count() * picking_nodes == 120
    assert set(Slot.objects.filter(location__code="WH-EAST").values_list("code", flat=True)) == {
        slot_code(n) for n in range(30)
    }
    policies = {p.channel.code: p for p in ChannelFulfillmentPolicy.objects.select_related()}
    assert set(policies) == {"WEB", "AMZ-US", "EBAY-US", "WMT", "WOO-EU", "B2B", "PHONE"}
    assert {code for code, p in policies.items() if p.strict_penalties} == {"AMZ-US", "WMT"}
    assert policies["AMZ-US"].confirm_window_hours == 24
    assert policies["B2B"].confirm_window_hours == 120
    assert policies["WMT"].tracking_endpoint.code == "wmt-tracking"
    assert policies["WEB"].notification_endpoint.code == "customer-shipment-email"
    assert policies["AMZ-US"].notify_customer is False


def test_slot_codes_walk_aisle_bay_level():
    assert [slot_code(n) for n in (0, 4, 5, 119, 120, 26 * 120)] == [
        "A-01-1",
        "A-01-5",
        "A-02-1",
        "A-24-5",
        "B-01-1",
        "AA-01-1",
    ]


def test_every_demo_carrier_can_issue_tracking_numbers(demo):
    for carrier in Carrier.objects.all():
        assert tracking_number_for(carrier, 123)


def test_a_demo_order_can_be_quoted_from_each_warehouse(demo):
    order = Order.objects.filter(state="released").order_by("pk").first()
    weight = sum(
        line.sku.weight_grams * line.quantity for line in order.lines.select_related("sku")
    )
    zone = ShippingZone.objects.get(country="US", postal_prefix=order.ship_postal_code[0]).zone

    for node in Location.objects.filter(kind="warehouse"):
        result = quote(
            origin=node,
            order=order,
            weight_grams=weight,
            length_mm=300,
            width_mm=200,
            height_mm=150,
            now=TUESDAY_9AM,
        )

        assert result.zone == zone
        assert result.options and result.chosen in result.options
        assert result.chosen.price > 0
        json.dumps(result.as_json())
        in_region = node.region == f"us-{zone}"
        assert any(o.service.carrier.code == "SWFT" for o in result.options) == in_region
