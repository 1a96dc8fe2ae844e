import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from erp.api.throttling import IntegrationTokenThrottle
from erp.models import Channel, ChannelListing, IdempotencyRecord, Sku
from tests.conftest import token_client
from tests.factories import ChannelFactory, ChannelListingFactory, LocationFactory, SkuFactory

pytestmark = pytest.mark.django_db


def _fields(response):
    return {(error["field"], error["code"]) for error in response.json()["errors"]}


def test_a_missing_token_is_401():
    response = APIClient().get("/api/v1/skus/")

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "not_authenticated"


def test_a_wrong_token_is_401():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    assert client.get("/api/v1/skus/").status_code == 401


def test_a_role_without_write_permission_gets_403(warehouse_user):
    response = token_client(warehouse_user).post(
        "/api/v1/skus/", {"code": "X", "name": "X"}, format="json"
    )

    assert response.status_code == 403
    assert not Sku.objects.exists()


def test_a_token_user_without_any_role_cannot_read(db):
    from tests.factories import UserFactory

    assert token_client(UserFactory()).get("/api/v1/skus/").status_code == 403


def test_create_and_read_a_sku_by_code(api):
    response = api.post(
        "/api/v1/skus/",
        {"code": "TEE-RED-M", "name": "Red tee M", "unit_cost": "4.2500", "barcode": "0123"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["unit_cost"] == "4.2500"
    detail = api.get("/api/v1/skus/TEE-RED-M/").json()
    assert detail["name"] == "Red tee M"


def test_unknown_fields_are_400_with_the_field_named(api):
    response = api.post("/api/v1/skus/", {"code": "A", "name": "A", "colour": "red"}, format="json")

    assert response.status_code == 400
    assert _fields(response) == {("colour", "unknown_field")}
    assert not Sku.objects.exists()


def test_wrong_types_are_400(api):
    response = api.post(
        "/api/v1/skus/", {"code": "A", "name": "A", "pack_quantity": "lots"}, format="json"
    )

    assert response.status_code == 400
    assert _fields(response) == {("pack_quantity", "invalid")}


def test_a_duplicate_code_is_400(api):
    SkuFactory(code="DUP")

    response = api.post("/api/v1/skus/", {"code": "DUP", "name": "Again"}, format="json")

    assert response.status_code == 400
    assert ("code", "unique") in _fields(response)


def test_a_rule_broken_in_the_service_is_400(api):
    response = api.post(
        "/api/v1/skus/", {"code": "MILK", "name": "Milk", "expiry_tracked": True}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "Expiry tracking needs lot tracking."


def test_patch_updates_only_the_given_fields(api):
    SkuFactory(code="P1", name="Before", unit_cost="3.00")

    response = api.patch("/api/v1/skus/P1/", {"name": "After"}, format="json")

    assert response.status_code == 200
    sku = Sku.objects.get(code="P1")
    assert (sku.name, str(sku.unit_cost)) == ("After", "3.0000")
    assert sku.history.first().history_change_reason == "edited"


def test_a_listing_for_an_inactive_sku_is_400(api):
    ChannelFactory(code="AMZ")
    SkuFactory(code="OLD", active=False)

    response = api.post(
        "/api/v1/listings/",
        {"channel": "AMZ", "sku": "OLD", "channel_sku": "amz-old"},
        format="json",
    )

    assert response.status_code == 400
    assert ("sku", "inactive_sku") in _fields(response)
    assert not ChannelListing.objects.exists()


def test_a_listing_for_an_unknown_sku_is_400(api):
    ChannelFactory(code="AMZ")

    response = api.post(
        "/api/v1/listings/", {"channel": "AMZ", "sku": "NOPE", "channel_sku": "x"}, format="json"
    )

    assert response.status_code == 400
    assert ("sku", "does_not_exist") in _fields(response)


def test_a_channel_with_no_eligible_locations_is_400(api):
    response = api.post(
        "/api/v1/channels/",
        {"code": "WMT", "name": "Walmart", "kind": "walmart", "eligible_locations": []},
        format="json",
    )

    assert response.status_code == 400
    assert ("eligible_locations", "required") in _fields(response)
    assert not Channel.objects.exists()


def test_a_channel_is_created_with_locations_by_code(api):
    LocationFactory(code="WH-A")

    response = api.post(
        "/api/v1/channels/",
        {"code": "WMT", "name": "Walmart", "kind": "walmart", "eligible_locations": ["WH-A"]},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["eligible_locations"] == ["WH-A"]


def test_lists_filter_with_django_filter(api):
    SkuFactory(code="A-1", product_family="toys")
    SkuFactory(code="A-2", product_family="home")
    SkuFactory(code="B-1", product_family="toys", active=False)

    codes = [
        row["code"]
        for row in api.get("/api/v1/skus/?product_family=toys&active=true").json()["results"]
    ]
    prefixed = [row["code"] for row in api.get("/api/v1/skus/?code_prefix=A-").json()["results"]]

    assert codes == ["A-1"]
    assert prefixed == ["A-1", "A-2"]


def test_listings_filter_by_channel_and_sku_code(api):
    amazon = ChannelFactory(code="AMZ")
    listing = ChannelListingFactory(channel=amazon)
    ChannelListingFactory()

    rows = api.get("/api/v1/listings/", {"channel": "AMZ"}).json()["results"]

    assert [row["id"] for row in rows] == [listing.pk]
    assert rows[0]["sku"] == listing.sku.code


def test_cursor_pagination_walks_every_row_once(api):
    Sku.objects.bulk_create([Sku(code=f"S{n:04d}", name=f"S{n}") for n in range(250)])

    seen, url = [], "/api/v1/skus/?page_size=100"
    while url:
        page = api.get(url).json()
        seen.extend(row["code"] for row in page["results"])
        url = page["next"]

    assert len(seen) == 250 and len(set(seen)) == 250


@pytest.mark.parametrize("rows", [1, 60])
def test_listing_skus_costs_the_same_queries_for_one_row_or_many(
    api, django_assert_num_queries, rows
):
    skus = Sku.objects.bulk_create([Sku(code=f"Q{n:03d}", name="q") for n in range(rows)])
    skus[0].substitutes.add(skus[-1])

    # token auth, user permissions, group permissions, page, substitutes prefetch
    with django_assert_num_queries(5):
        response = api.get("/api/v1/skus/?page_size=100")

    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", [1, 40])
def test_listing_listings_costs_the_same_queries_for_one_row_or_many(
    api, django_assert_num_queries, rows
):
    for _ in range(rows):
        ChannelListingFactory()

    with django_assert_num_queries(4):
        api.get("/api/v1/listings/")


def test_bulk_upsert_of_a_thousand_skus_is_idempotent(api, django_assert_max_num_queries):
    rows = [
        {"code": f"CAT-{n:04d}", "name": f"Catalog item {n}", "unit_cost": "2.50"}
        for n in range(1000)
    ]

    first = api.post("/api/v1/skus/bulk-upsert/", {"skus": rows}, format="json")
    with django_assert_max_num_queries(12):
        second = api.post("/api/v1/skus/bulk-upsert/", {"skus": rows}, format="json")

    assert first.status_code == 200, first.json()
    assert (first.json()["created"], second.json()["created"], second.json()["unchanged"]) == (
        1000,
        0,
        1000,
    )
    assert Sku.objects.count() == 1000
    assert Sku.history.count() == 1000


def test_bulk_upsert_of_more_than_a_thousand_is_400(api):
    rows = [{"code": f"C{n}", "name": "x"} for n in range(1001)]

    response = api.post("/api/v1/skus/bulk-upsert/", {"skus": rows}, format="json")

    assert response.status_code == 400
    assert not Sku.objects.exists()


def test_bulk_upsert_names_the_row_and_field_of_each_error(api):
    rows = [
        {"code": "OK", "name": "ok"},
        {"code": "BAD", "name": "bad", "pack_quantity": 0},
        {"code": "X"},
    ]

    response = api.post("/api/v1/skus/bulk-upsert/", {"skus": rows}, format="json")

    assert response.status_code == 400
    assert _fields(response) == {
        ("skus[1].pack_quantity", "min_value"),
        ("skus[2].name", "required"),
    }
    assert not Sku.objects.exists()


def test_the_same_idempotency_key_and_body_replays_the_first_response(api):
    body = {"code": "IDEM-1", "name": "Once"}

    first = api.post("/api/v1/skus/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post("/api/v1/skus/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Sku.objects.filter(code="IDEM-1").count() == 1


def test_the_same_idempotency_key_with_another_body_is_409(api):
    api.post(
        "/api/v1/skus/",
        {"code": "IDEM-1", "name": "Once"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )

    response = api.post(
        "/api/v1/skus/",
        {"code": "IDEM-2", "name": "Other"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "key_reused"
    assert not Sku.objects.filter(code="IDEM-2").exists()


def test_a_refused_request_is_replayed_as_refused(api):
    body = {"code": "", "name": "No code"}

    first = api.post("/api/v1/skus/", body, format="json", HTTP_IDEMPOTENCY_KEY="bad-1")
    again = api.post("/api/v1/skus/", body, format="json", HTTP_IDEMPOTENCY_KEY="bad-1")

    assert first.status_code == again.status_code == 400
    assert IdempotencyRecord.objects.get(key="bad-1").status_code == 400


def test_integration_tokens_are_throttled(api, monkeypatch):
    cache.clear()
    monkeypatch.setattr(IntegrationTokenThrottle, "THROTTLE_RATES", {"integration": "3/min"})

    statuses = [api.get("/api/v1/locations/").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    cache.clear()


def test_the_openapi_schema_describes_the_api(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/v1/skus/", "/api/v1/skus/bulk-upsert/", "/api/v1/listings/"} <= set(paths)


def test_the_api_docs_page_renders(client):
    assert client.get("/api/docs/").status_code == 200
