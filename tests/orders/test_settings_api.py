"""The routing rules and approval thresholds over the API: the same services as the
settings screens, so the same refusals (400 on the field, nothing written), a reason on
every write, read-only for roles that do not manage them."""

from decimal import Decimal

import pytest

from erp.models import ApprovalPolicy
from erp.services.approvals import policy_for
from orders.models import ShippingRate, ShippingZone
from tests.conftest import token_client
from tests.factories import LocationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def east(db):
    return LocationFactory(code="EAST", region="us-east")


def _fields(response) -> set[tuple[str, str]]:
    return {(error["field"], error["code"]) for error in response.json()["errors"]}


def test_a_manager_adds_a_rate_and_a_zone_with_a_reason_kept_in_history(manager, east):
    api = token_client(manager)

    rate = api.post(
        "/api/v1/settings/shipping-rates/",
        {
            "origin_region": "us-east",
            "zone": "mid",
            "cost": "6.00",
            "transit_days": 3,
            "reason": "new lane",
        },
        format="json",
    )
    zone = api.post(
        "/api/v1/settings/shipping-zones/",
        {"country": "us", "postal_prefix": "4", "zone": "mid", "reason": "Ohio"},
        format="json",
    )

    assert rate.status_code == 201, rate.json()
    assert zone.status_code == 201, zone.json()
    assert zone.json() == {
        "id": zone.json()["id"],
        "country": "US",
        "postal_prefix": "4",
        "zone": "mid",
    }
    entry = ShippingZone.objects.get().history.get()
    assert (entry.history_user, entry.history_change_reason) == (manager, "Ohio")


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        (
            {
                "origin_region": "us-east",
                "zone": "mid",
                "cost": "-1",
                "transit_days": 3,
                "reason": "x",
            },
            "cost",
            "negative",
        ),
        (
            {"origin_region": "mars", "zone": "mid", "cost": "1", "transit_days": 3, "reason": "x"},
            "origin_region",
            "no_node",
        ),
        (
            {"origin_region": "us-east", "zone": "mid", "cost": "1", "transit_days": 3},
            "reason",
            "required",
        ),
    ],
)
def test_bad_rates_are_refused_on_their_field_and_nothing_is_written(
    manager, east, body, field, code
):
    response = token_client(manager).post("/api/v1/settings/shipping-rates/", body, format="json")

    assert response.status_code == 400
    assert (field, code) in _fields(response)
    assert not ShippingRate.objects.exists()


def test_customer_service_reads_the_rules_but_cannot_change_them(cs_user, manager, east):
    ShippingRate.objects.create(
        origin_region="us-east", zone="mid", cost=Decimal("6"), transit_days=3
    )
    api = token_client(cs_user)

    assert api.get("/api/v1/settings/shipping-rates/").status_code == 200
    rate = ShippingRate.objects.get()
    response = api.patch(
        f"/api/v1/settings/shipping-rates/{rate.pk}/",
        {"cost": "1", "reason": "x"},
        format="json",
    )
    assert response.status_code == 403
    rate.refresh_from_db()
    assert rate.cost == Decimal("6.00")


def test_an_approval_threshold_below_zero_is_refused_and_a_valid_one_saved(manager):
    policy_for("inventory_write_off")
    api = token_client(manager)
    url = "/api/v1/approval-policies/inventory_write_off/"

    refused = api.patch(url, {"threshold": "-1", "reason": "x"}, format="json")
    saved = api.patch(url, {"threshold": "10.00", "reason": "Shrink audit"}, format="json")

    assert refused.status_code == 400
    assert "threshold" in {field for field, _ in _fields(refused)}
    assert saved.status_code == 200, saved.json()
    assert saved.json()["threshold"] == "10.00"
    policy = ApprovalPolicy.objects.get(kind="inventory_write_off")
    assert policy.history.first().history_change_reason == "Shrink audit"
