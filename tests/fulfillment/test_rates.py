"""Rate selection: cheapest service that meets the promise, dimensional weight, cutoffs."""

import json
from datetime import UTC, datetime, time
from decimal import Decimal

import pytest

from erp.errors import ValidationFailed
from fulfillment.models import Carrier, CarrierService, RateCard
from fulfillment.services.rates import quote
from orders.models import ShippingZone
from tests.factories import LocationFactory, OrderFactory

pytestmark = pytest.mark.django_db

# Wednesday 5 March 2025, 14:00 UTC; Friday is the 7th.
WEDNESDAY_2PM = datetime(2025, 3, 5, 14, 0, tzinfo=UTC)
BANDS = [(0, 500), (500, 1000), (1000, 2000), (2000, 5000), (5000, 10000), (10000, 30000)]


def carrier_service(
    carrier_code,
    code,
    *,
    level="standard",
    cutoff=time(17, 0),
    base_price="5.00",
    transit_days=3,
    max_weight_grams=30000,
    region="us-east",
    zones=("east",),
    carrier_active=True,
    active=True,
):
    """A service with a price per band (base + 1.00 per band) on the given lanes."""
    carrier, _ = Carrier.objects.get_or_create(
        code=carrier_code,
        defaults={
            "name": f"{carrier_code} parcels",
            "tracking_pattern": rf"^{carrier_code}[0-9]{{12}}$",
            "tracking_url_template": f"https://track.example.com/{carrier_code}/{{tracking}}",
            "active": carrier_active,
        },
    )
    service = CarrierService.objects.create(
        carrier=carrier,
        code=code,
        name=code.title(),
        service_level=level,
        cutoff_time=cutoff,
        max_weight_grams=max_weight_grams,
        active=active,
    )
    RateCard.objects.bulk_create(
        RateCard(
            service=service,
            origin_region=region,
            zone=zone,
            min_weight_grams=low,
            max_weight_grams=high,
            price=Decimal(base_price) + index,
            transit_days=transit_days,
        )
        for zone in zones
        for index, (low, high) in enumerate(BANDS)
    )
    return service


def east_zones():
    ShippingZone.objects.create(country="US", postal_prefix="1", zone="east")
    ShippingZone.objects.create(country="US", postal_prefix="9", zone="west")


@pytest.fixture
def node():
    east_zones()
    return LocationFactory(code="WH-NJ", region="us-east")


def order_to_new_york(**values):
    values.setdefault("ship_by", datetime(2025, 3, 6, 22, 0, tzinfo=UTC))
    values.setdefault("service_level", "standard")
    return OrderFactory(ship_postal_code="10001", ship_city="New York", ship_region="NY", **values)


def test_the_cheapest_service_that_meets_the_promise_is_chosen(node):
    carrier_service("UPSX", "GROUND", base_price="5.20", transit_days=3)
    carrier_service("POST", "GROUND", base_price="4.10", transit_days=4)
    carrier_service("UPSX", "NDA", level="priority", base_price="21.00", transit_days=1)

    result = quote(origin=node, order=order_to_new_york(), weight_grams=300, now=WEDNESDAY_2PM)

    assert result.zone == "east"
    assert result.chosen.key == "POST:GROUND"
    assert result.chosen.price == Decimal("4.10")
    assert result.chosen.ship_date.isoformat() == "2025-03-05"
    assert result.chosen.delivery_date.isoformat() == "2025-03-11"  # 4 working days, no weekend
    assert result.meets_promise
    assert [o.key for o in result.options] == ["POST:GROUND", "UPSX:GROUND", "UPSX:NDA"]
    rejected = {o.key: o.rejected_because for o in result.options}
    assert rejected["POST:GROUND"] == ""
    assert rejected["UPSX:GROUND"] == "costs 1.10 more than POST:GROUND"
    assert rejected["UPSX:NDA"] == "costs 16.90 more than POST:GROUND"


def test_a_cheaper_service_too_slow_for_an_expedited_order_is_rejected(node):
    carrier_service("POST", "GROUND", base_price="4.10", transit_days=4)
    carrier_service("UPSX", "2DAY", level="expedited", base_price="9.00", transit_days=2)
    carrier_service("UPSX", "NDA", level="priority", base_price="21.00", transit_days=1)
    order = order_to_new_york(service_level="expedited")

    result = quote(origin=node, order=order, weight_grams=300, now=WEDNESDAY_2PM)

    # Ship-by Thursday 6th + 2 working days → delivered by Monday 10th.
    assert result.promised_delivery.isoformat() == "2025-03-10"
    assert result.chosen.key == "UPSX:2DAY"
    assert result.chosen.delivery_date.isoformat() == "2025-03-07"
    ground = result.option("POST:GROUND")
    assert not ground.meets_promise
    assert ground.rejected_because == (
        "misses the promise: delivers 2025-03-11, after the promised 2025-03-10"
    )


def test_when_nothing_meets_the_promise_the_earliest_delivery_is_chosen_and_flagged(node):
    carrier_service("POST", "GROUND", base_price="4.10", transit_days=4)
    carrier_service("UPSX", "GROUND", base_price="5.20", transit_days=3)
    carrier_service("FAST", "GROUND", base_price="7.00", transit_days=3)
    order = order_to_new_york(service_level="next_day")

    result = quote(origin=node, order=order, weight_grams=300, now=WEDNESDAY_2PM)

    assert result.chosen.key == "UPSX:GROUND"  # earliest delivery, then cheaper
    assert result.meets_promise is False
    assert result.chosen.meets_promise is False
    assert "No service meets the promise" in result.reason
    assert "after the promised 2025-03-07" in result.reason
    assert all(not option.meets_promise for option in result.options)
    assert result.option("FAST:GROUND").rejected_because.startswith(
        "misses the promise and is not the earliest delivery"
    )


def test_a_service_whose_cutoff_has_passed_misses_a_ship_by_of_today(node, settings):
    settings.TIME_ZONE = "America/New_York"
    carrier_service("POST", "GROUND", cutoff=time(15, 0), base_price="4.10", transit_days=3)
    carrier_service("UPSX", "GROUND", cutoff=time(18, 0), base_price="5.20", transit_days=3)
    now = datetime(2025, 3, 5, 20, 30, tzinfo=UTC)  # 15:30 in Newark
    order = order_to_new_york(ship_by=datetime(2025, 3, 5, 23, 0, tzinfo=UTC))  # 18:00 local

    result = quote(origin=node, order=order, weight_grams=300, now=now)

    assert result.chosen.key == "UPSX:GROUND"
    assert result.chosen.ship_date.isoformat() == "2025-03-05"
    post = result.option("POST:GROUND")
    assert post.ship_date.isoformat() == "2025-03-06"
    assert post.rejected_because == (
        "misses the promise: ships 2025-03-06, after the ship-by date 2025-03-05"
    )


def test_the_cutoff_is_read_in_the_nodes_local_time(node, settings):
    settings.TIME_ZONE = "America/New_York"
    carrier_service("UPSX", "GROUND", cutoff=time(17, 0), transit_days=1)
    order = order_to_new_york()

    before = quote(
        origin=node,
        order=order,
        weight_grams=300,
        now=datetime(2025, 3, 5, 21, 30, tzinfo=UTC),  # 16:30 local, 21:30 UTC
    )
    after = quote(
        origin=node,
        order=order,
        weight_grams=300,
        now=datetime(2025, 3, 5, 22, 30, tzinfo=UTC),  # 17:30 local
    )

    assert before.chosen.ship_date.isoformat() == "2025-03-05"
    assert after.chosen.ship_date.isoformat() == "2025-03-06"


def test_after_the_friday_cutoff_a_parcel_ships_monday_and_transit_skips_the_weekend(node):
    carrier_service("UPSX", "GROUND", cutoff=time(17, 0), transit_days=2)
    friday_evening = datetime(2025, 3, 7, 18, 0, tzinfo=UTC)
    order = order_to_new_york(ship_by=datetime(2025, 3, 10, 22, 0, tzinfo=UTC))

    result = quote(origin=node, order=order, weight_grams=300, now=friday_evening)

    assert result.chosen.ship_date.isoformat() == "2025-03-10"
    assert result.chosen.delivery_date.isoformat() == "2025-03-12"
    saturday = quote(
        origin=node,
        order=order,
        weight_grams=300,
        now=datetime(2025, 3, 8, 9, 0, tzinfo=UTC),
    )
    assert saturday.chosen.ship_date.isoformat() == "2025-03-10"


def test_a_light_bulky_parcel_is_priced_at_its_dimensional_weight(node):
    carrier_service("UPSX", "GROUND", base_price="5.00")
    order = order_to_new_york()

    # 400 × 300 × 300 mm = 36,000 cm³ → 7.2 kg at 5,000 cm³/kg: the 5–10 kg band.
    bulky = quote(
        origin=node,
        order=order,
        weight_grams=400,
        length_mm=400,
        width_mm=300,
        height_mm=300,
        now=WEDNESDAY_2PM,
    )
    dense = quote(
        origin=node,
        order=order,
        weight_grams=400,
        length_mm=100,
        width_mm=100,
        height_mm=100,
        now=WEDNESDAY_2PM,
    )

    assert bulky.dimensional_weight_grams == 7200
    assert bulky.billable_weight_grams == 7200
    assert bulky.chosen.price == Decimal("9.00")
    assert dense.dimensional_weight_grams == 200
    assert dense.billable_weight_grams == 400
    assert dense.chosen.price == Decimal("5.00")


def test_a_band_includes_its_upper_bound(node):
    carrier_service("UPSX", "GROUND", base_price="5.00")
    order = order_to_new_york()

    at_limit = quote(origin=node, order=order, weight_grams=500, now=WEDNESDAY_2PM)
    over = quote(origin=node, order=order, weight_grams=501, now=WEDNESDAY_2PM)

    assert at_limit.chosen.price == Decimal("5.00")
    assert over.chosen.price == Decimal("6.00")


def test_services_over_their_weight_limit_inactive_or_without_this_lane_are_left_out(node):
    carrier_service("POST", "GROUND", base_price="3.00", max_weight_grams=1000)
    carrier_service("POST", "OLD", base_price="1.00", active=False)
    carrier_service("GONE", "GROUND", base_price="1.00", carrier_active=False)
    carrier_service("WEST", "GROUND", base_price="1.00", zones=("west",))
    carrier_service("UPSX", "GROUND", base_price="5.00")

    result = quote(origin=node, order=order_to_new_york(), weight_grams=1500, now=WEDNESDAY_2PM)

    assert [option.key for option in result.options] == ["UPSX:GROUND"]
    assert {item["key"]: item["reason"] for item in result.excluded} == {
        "POST:GROUND": "1500 g is over its 1000 g limit",
        "WEST:GROUND": "no rate for this lane",
    }


def test_ties_go_to_fewer_transit_days_then_carrier_code(node):
    carrier_service("ZED", "GROUND", base_price="5.00", transit_days=2)
    carrier_service("BEE", "GROUND", base_price="5.00", transit_days=3)
    carrier_service("ACE", "GROUND", base_price="5.00", transit_days=2)

    result = quote(origin=node, order=order_to_new_york(), weight_grams=300, now=WEDNESDAY_2PM)

    assert [option.key for option in result.options] == ["ACE:GROUND", "ZED:GROUND", "BEE:GROUND"]
    assert result.option("BEE:GROUND").rejected_because == (
        "same price as ACE:GROUND, 1 more transit day(s)"
    )


def test_a_ship_to_in_a_zone_without_rates_is_refused(node):
    carrier_service("UPSX", "GROUND")
    order = OrderFactory(ship_country="US", ship_postal_code="98101")  # zone west

    with pytest.raises(ValidationFailed) as error:
        quote(origin=node, order=order, weight_grams=300, now=WEDNESDAY_2PM)

    assert error.value.errors[0].field == "ship_to"
    assert error.value.errors[0].code == "no_rate_for_zone"
    assert "west" in error.value.message


def test_a_parcel_heavier_than_every_band_is_refused(node):
    carrier_service("UPSX", "GROUND", max_weight_grams=70000)

    with pytest.raises(ValidationFailed) as error:
        quote(origin=node, order=order_to_new_york(), weight_grams=31000, now=WEDNESDAY_2PM)

    assert error.value.errors[0].field == "weight_grams"
    assert error.value.errors[0].code == "no_rate_for_weight"


@pytest.mark.parametrize("weight", [0, -250])
def test_a_weight_that_is_not_positive_is_refused(node, weight):
    carrier_service("UPSX", "GROUND")

    with pytest.raises(ValidationFailed) as error:
        quote(origin=node, order=order_to_new_york(), weight_grams=weight)

    assert error.value.errors[0].field == "weight_grams"


def test_the_explanation_is_json_with_every_option_and_the_choice(node):
    carrier_service("UPSX", "GROUND", base_price="5.20")
    carrier_service("POST", "GROUND", base_price="4.10", max_weight_grams=100)

    explanation = quote(
        origin=node, order=order_to_new_york(), weight_grams=300, now=WEDNESDAY_2PM
    ).as_json()

    stored = json.loads(json.dumps(explanation))
    assert stored["chosen"] == "UPSX:GROUND"
    assert stored["zone"] == "east"
    assert stored["origin"] == "WH-NJ"
    assert stored["promised_delivery"] == "2025-03-13"
    assert stored["options"][0] == {
        "key": "UPSX:GROUND",
        "carrier": "UPSX",
        "service": "GROUND",
        "name": "UPSX Ground",
        "service_level": "standard",
        "price": "5.20",
        "transit_days": 3,
        "ship_date": "2025-03-05",
        "delivery_date": "2025-03-10",
        "meets_promise": True,
        "chosen": True,
        "rejected_because": "",
    }
    assert stored["excluded"] == [
        {"key": "POST:GROUND", "name": "POST Ground", "reason": "300 g is over its 100 g limit"}
    ]


@pytest.mark.parametrize("services", [1, 9])
def test_quoting_takes_two_queries_however_many_services(node, services, django_assert_num_queries):
    for n in range(services):
        carrier_service(f"C{n}", "GROUND", base_price=f"{5 + n}.00")
    order = order_to_new_york()

    with django_assert_num_queries(2):  # the ship-to's zones; services with their lane's rates
        result = quote(origin=node, order=order, weight_grams=300, now=WEDNESDAY_2PM)

    assert len(result.options) == services
