"""A token scoped to one channel posts orders (and returns, and allocation rules) for that
channel only: another channel's get a 403 and nothing is written, not even an
ingestion error."""

import json

import pytest
from rest_framework.test import APIClient

from erp.services.api_tokens import create_api_token
from inventory.models import AllocationRule
from orders.models import IngestionError, Order
from returns.models import Rma
from tests.channel_samples import CHANNEL_FIXTURES
from tests.factories import ChannelFactory, ChannelListingFactory, SkuFactory

pytestmark = pytest.mark.django_db

ORDER = json.loads((CHANNEL_FIXTURES / "orders" / "shopify_order.json").read_text())


def _channel(code, east, stock):
    channel = ChannelFactory(code=code, kind="shopify", currency="USD", eligible_locations=[east])
    for sku_code in ("TEE-BLK-M", "MUG-CER-12"):
        sku = SkuFactory(code=f"{code}-{sku_code}")
        ChannelListingFactory(channel=channel, sku=sku, channel_sku=sku_code)
        stock(sku, east, 10)
    return channel


@pytest.fixture
def shop(east, rates, stock):
    return _channel("SHOP", east, stock)


@pytest.fixture
def other(east, rates, stock):
    return _channel("OTHER", east, stock)


def scoped_client(manager, channels, areas) -> APIClient:
    issued = create_api_token(actor=manager, name="Shop sync", areas=areas, channels=channels)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issued.key}")
    return client


def post_order(client, code, body=ORDER):
    return client.post(
        f"/api/v1/channels/{code}/orders/", json.dumps(body), content_type="application/json"
    )


def test_an_order_for_the_token_channel_is_accepted(manager, shop, other):
    client = scoped_client(manager, [shop], {"orders": "write"})
    response = post_order(client, "SHOP")
    assert response.status_code == 201, response.json()
    order = Order.objects.get()
    assert order.channel == shop


def test_an_order_for_another_channel_is_refused_and_nothing_is_written(manager, shop, other):
    client = scoped_client(manager, [shop], {"orders": "write"})
    response = post_order(client, "OTHER")
    assert response.status_code == 403
    assert "OTHER" in response.json()["errors"][0]["message"]
    batch = post_order(client, "OTHER", {"orders": [ORDER]})
    assert batch.status_code == 403
    assert not Order.objects.exists()
    assert not IngestionError.objects.exists()


def test_the_service_refuses_a_channel_outside_the_scope_whatever_the_caller(manager, shop, other):
    """The service checks the channel itself (a view that forgot would still be safe)."""
    from erp.errors import NotPermitted
    from erp.models import ApiToken
    from orders.services.ingestion import ingest_order

    scoped_client(manager, [shop], {"orders": "write"})
    token = ApiToken.objects.get()
    actor = token.user
    actor._scoped_api_token = token
    with pytest.raises(NotPermitted):
        ingest_order(channel=other, payload=ORDER, actor=actor)
    assert not Order.objects.exists()


def test_read_only_orders_cannot_post_an_order(manager, shop):
    client = scoped_client(manager, [shop], {"orders": "read"})
    assert post_order(client, "SHOP").status_code == 403
    assert not Order.objects.exists() and not IngestionError.objects.exists()


def test_orders_of_another_channel_are_not_listed_or_shown(manager, shop, other, api):
    assert post_order(api, "SHOP").status_code == 201
    assert post_order(api, "OTHER").status_code == 201
    client = scoped_client(manager, [shop], {"orders": "read"})
    rows = client.get("/api/v1/orders/").json()["results"]
    assert [row["channel"] for row in rows] == ["SHOP"]
    foreign = Order.objects.get(channel=other)
    # Filtered out like any other channel's row: for this token it does not exist.
    assert client.get(f"/api/v1/orders/{foreign.pk}/").status_code == 404


def test_an_allocation_rule_for_another_channel_is_refused(manager, shop, other):
    client = scoped_client(manager, [shop], {"inventory": "write"})
    refused = client.post(
        "/api/v1/allocation-rules/", {"channel": "OTHER", "buffer": 2}, format="json"
    )
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "channel_out_of_scope"
    assert not AllocationRule.objects.exists()
    accepted = client.post(
        "/api/v1/allocation-rules/", {"channel": "SHOP", "buffer": 2}, format="json"
    )
    assert accepted.status_code == 201, accepted.json()
    moved = client.patch(
        f"/api/v1/allocation-rules/{accepted.json()['id']}/", {"channel": "OTHER"}, format="json"
    )
    assert moved.status_code == 403
    assert AllocationRule.objects.get().channel == shop


def test_an_rma_on_another_channel_order_is_refused(manager, shop, other, api):
    assert post_order(api, "OTHER").status_code == 201
    order = Order.objects.get()
    client = scoped_client(manager, [shop], {"returns": "write"})
    response = client.post(
        "/api/v1/returns/rmas/",
        {
            "channel": "OTHER",
            "order_external_id": order.external_id,
            "lines": [
                {"order_line_id": order.lines.first().pk, "quantity": 1, "reason": "damaged"}
            ],
        },
        format="json",
    )
    assert response.status_code == 403, response.json()
    assert response.json()["errors"][0]["code"] == "channel_out_of_scope"
    assert not Rma.objects.exists()
