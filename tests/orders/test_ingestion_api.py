import copy
import json

import pytest

from orders.models import IngestionError, Order
from tests.channel_samples import CHANNEL_FIXTURES
from tests.factories import ChannelFactory, ChannelListingFactory, SkuFactory

pytestmark = pytest.mark.django_db

SAMPLES = CHANNEL_FIXTURES / "orders"


def sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


@pytest.fixture
def shop(east, rates, stock):
    channel = ChannelFactory(code="SHOP", kind="shopify", currency="USD", eligible_locations=[east])
    for code in ("TEE-BLK-M", "MUG-CER-12"):
        sku = SkuFactory(code=f"OUR-{code}")
        ChannelListingFactory(channel=channel, sku=sku, channel_sku=code)
        stock(sku, east, 10)
    return channel


def _post(api, body, code="SHOP", **headers):
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return api.post(
        f"/api/v1/channels/{code}/orders/", raw, content_type="application/json", **headers
    )


def test_a_shopify_order_is_ingested_mapped_routed_and_released(api, shop):
    response = _post(api, sample("shopify_order.json"))

    assert response.status_code == 201, response.json()
    assert response.json()["outcome"] == "created"
    order = Order.objects.get()
    assert order.state == "released"
    assert sorted(order.lines.values_list("sku__code", "quantity")) == [
        ("OUR-MUG-CER-12", 1),
        ("OUR-TEE-BLK-M", 2),
    ]
    assert order.raw_payload["id"] == sample("shopify_order.json").get(
        "id", order.raw_payload["id"]
    )


def test_a_redelivered_order_returns_the_existing_one(api, shop):
    first = _post(api, sample("shopify_order.json"))
    again = _post(api, sample("shopify_order.json"))

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["outcome"] == "unchanged"
    assert again.json()["order"]["id"] == first.json()["order"]["id"]
    assert Order.objects.count() == 1


def test_a_cancellation_on_the_channel_cancels_and_releases_stock(api, shop):
    payload = sample("shopify_order.json")
    _post(api, payload)
    cancelled = copy.deepcopy(payload)
    cancelled["cancelled_at"] = "2026-11-21T09:00:00-05:00"
    cancelled["cancel_reason"] = "customer"
    cancelled["updated_at"] = "2026-11-21T09:00:00-05:00"

    response = _post(api, cancelled)

    assert response.json()["outcome"] == "updated"
    order = Order.objects.get()
    assert order.state == "cancelled"
    from inventory.models import StockBalance

    assert sum(StockBalance.objects.values_list("reserved", flat=True)) == 0


def test_an_unknown_channel_sku_becomes_a_hold(api, shop):
    payload = sample("shopify_order.json")
    payload["line_items"][0]["sku"] = "NOT-LISTED"

    response = _post(api, payload)

    assert response.status_code == 201
    order = Order.objects.get()
    assert order.state == "on_hold"
    assert list(order.holds.values_list("reason", flat=True)) == ["sku_not_mapped"]


@pytest.mark.parametrize(
    "body, status, code",
    [
        ("{not json", 400, "parse_error"),
        (json.dumps({"id": 1}), 400, "wrong_shape"),
    ],
)
def test_bad_payloads_are_refused_and_kept_for_customer_service(api, shop, body, status, code):
    response = _post(api, body)

    assert response.status_code == status
    assert response.json()["errors"][0]["code"] == code
    assert not Order.objects.exists()
    error = IngestionError.objects.get()
    assert (error.channel_code, error.code, error.raw_body) == ("SHOP", code, body)


def test_another_channels_shape_is_refused(api, shop):
    response = _post(api, sample("amazon_order.json"))

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "wrong_shape"
    assert IngestionError.objects.count() == 1


def test_a_negative_quantity_names_the_field(api, shop):
    payload = sample("shopify_order.json")
    payload["line_items"][0]["quantity"] = -2

    response = _post(api, payload)

    assert response.status_code == 400
    assert "quantity" in response.json()["errors"][0]["field"]
    assert not Order.objects.exists()


def test_a_currency_mismatch_is_refused(api, shop):
    shop.currency = "EUR"
    shop.save()

    response = _post(api, sample("shopify_order.json"))

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "currency"


def test_an_unknown_channel_is_404_and_logged(api, shop):
    response = _post(api, sample("shopify_order.json"), code="NOPE")

    assert response.status_code == 404
    assert IngestionError.objects.get().channel_code == "NOPE"


def test_a_ten_megabyte_body_is_413_and_nothing_is_written(api, shop):
    body = json.dumps({"padding": "x" * (10 * 1024 * 1024)})

    response = _post(api, body)

    assert response.status_code == 413
    assert not Order.objects.exists()
    assert IngestionError.objects.get().code == "too_large"


def test_the_batch_form_answers_per_order(api, shop):
    good = sample("shopify_order.json")
    bad = copy.deepcopy(good)
    bad["id"] = 42
    bad["line_items"] = []

    response = _post(api, {"orders": [good, bad]})

    assert response.status_code == 200
    outcomes = [r["outcome"] for r in response.json()["results"]]
    assert outcomes == ["created", "refused"]
    assert Order.objects.count() == 1
    assert IngestionError.objects.count() == 1


def test_orders_are_listed_with_filters_and_cancelled_over_the_api(api, shop):
    _post(api, sample("shopify_order.json"))
    order = Order.objects.get()

    listed = api.get("/api/v1/orders/", {"channel": "SHOP", "state": "released"}).json()["results"]
    assert [row["id"] for row in listed] == [order.pk]
    assert api.get("/api/v1/orders/", {"hold_reason": "address_invalid"}).json()["results"] == []

    from erp import roles
    from tests.conftest import token_client
    from tests.factories import UserFactory

    cs = token_client(UserFactory(username="cs-api", roles=[roles.CUSTOMER_SERVICE]))
    cancelled = cs.post(f"/api/v1/orders/{order.pk}/cancel/", {"reason": "fraud"}, format="json")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"


def test_ingestion_queries_do_not_grow_with_lines(api, shop, east, stock):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from orders.services.channel_config import config_for
    from orders.services.routing import _rate_table

    _rate_table()  # reference data cached once, as in a running server
    config_for(shop)  # so is the channel's routing configuration
    _post(api, {})  # the token's permissions are resolved once and cached, as in a server
    template = sample("shopify_order.json")
    counts = {}
    for order_id, lines in ((501, 1), (502, 12)):
        payload = copy.deepcopy(template)
        payload["id"], payload["name"] = order_id, f"#{order_id}"
        payload["line_items"] = []
        for n in range(lines):
            sku = SkuFactory(code=f"Q-{order_id}-{n}")
            ChannelListingFactory(channel=shop, sku=sku, channel_sku=f"q-{order_id}-{n}")
            stock(sku, east, 5)
            payload["line_items"].append(
                {
                    **template["line_items"][0],
                    "id": order_id * 100 + n,
                    "sku": f"q-{order_id}-{n}",
                    "quantity": 1,
                }
            )
        with CaptureQueriesContext(connection) as queries:
            response = _post(api, payload)
        assert response.status_code == 201, response.json()
        counts[lines] = len(queries)

    assert Order.objects.filter(state="released").count() == 2
    assert counts[1] == counts[12]
    # BEGIN, insert order, map SKUs, insert lines, lock stock, insert reservations, set
    # reserved, mark availability, insert allocations and the routing decision, set line
    # and order states, insert the timeline, COMMIT (+ the connection health check).
    assert counts[1] <= 15, counts
