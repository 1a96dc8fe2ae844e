"""Orders racing for the last units while another channel ring-fences some of them, on the
path production uses (ingestion → routing → reserve_many), each order on its own
PostgreSQL connection: nothing oversold, and the protected units stay for their channel."""

import json
from decimal import Decimal

import pytest

from inventory.models import Reservation, StockBalance
from inventory.services.movements import receive_stock
from inventory.services.verification import find_balance_differences
from orders.models import Order
from orders.services.ingestion import ingest_order
from tests.factories import (
    AllocationRuleFactory,
    ChannelFactory,
    ChannelListingFactory,
    LocationFactory,
    SkuFactory,
)
from tests.orders.test_concurrent_ingestion import _race
from tests.orders.test_ingestion_api import sample

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shared_node(integration_user, manager):
    node = LocationFactory(code="EAST")
    shop = ChannelFactory(code="SHOP", kind="shopify", currency="USD", eligible_locations=[node])
    b2b = ChannelFactory(code="B2B", kind="b2b", currency="USD", eligible_locations=[node])
    sku = SkuFactory(code="OUR-TEE-BLK-M")
    ChannelListingFactory(channel=shop, sku=sku, channel_sku="TEE-BLK-M")
    AllocationRuleFactory(channel=b2b, sku=sku, protected=4)
    receive_stock(sku=sku, location=node, quantity=10, actor=manager)
    return shop, b2b, sku, node


def test_orders_racing_for_the_last_units_leave_another_channels_ring_fence_alone(
    shared_node, integration_user
):
    shop, b2b, sku, node = shared_node
    template = sample("shopify_order.json")

    def one(index):
        payload = json.loads(json.dumps(template), parse_float=Decimal)
        payload["id"] = 7100 + index
        payload["line_items"] = [{**payload["line_items"][0], "id": 9100 + index, "quantity": 2}]
        return ingest_order(channel=shop, payload=payload, actor=integration_user).order.pk

    order_ids, errors = _race(one, 6)

    assert errors == []
    shop_reserved = sum(
        Reservation.objects.filter(channel=shop, state="active").values_list("quantity", flat=True)
    )
    # 10 on hand, 4 protected for B2B: SHOP may take 6 — three orders of 2, the rest wait.
    assert shop_reserved == 6
    states = sorted(Order.objects.filter(pk__in=order_ids).values_list("state", flat=True))
    assert states.count("released") == 3
    balance = StockBalance.objects.get(sku=sku, location=node, status="sellable")
    assert (balance.on_hand, balance.reserved) == (10, 6)
    assert find_balance_differences() == []
