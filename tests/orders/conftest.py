from decimal import Decimal

import pytest
from django.db import transaction

from erp.services.approvals import policy_for
from inventory.services.movements import receive_stock
from orders.models import ChannelOrderPolicy, ShippingRate, ShippingZone
from orders.services.evaluation import evaluate_order
from tests.factories import (
    ChannelFactory,
    ChannelListingFactory,
    LocationFactory,
    OrderFactory,
    OrderLineFactory,
    SkuFactory,
)


@pytest.fixture
def east(db):
    return LocationFactory(code="EAST", region="us-east", priority=10)


@pytest.fixture
def west(db):
    return LocationFactory(code="WEST", region="us-west", priority=20)


@pytest.fixture
def web(east, west):
    channel = ChannelFactory(code="WEB", eligible_locations=[east, west])
    ChannelOrderPolicy.objects.create(channel=channel)
    set_split_threshold(Decimal("5.00"))
    return channel


def set_split_threshold(threshold: Decimal, *, active: bool = True) -> None:
    """The `order_split` approval policy decides which splits wait for a manager."""
    policy = policy_for("order_split")
    policy.threshold, policy.active = threshold, active
    policy.save()


@pytest.fixture
def rates(db):
    """Destination zone 'mid' (US 6xxxx): east is cheaper than west."""
    ShippingZone.objects.create(country="US", postal_prefix="6", zone="mid")
    ShippingZone.objects.create(country="US", postal_prefix="9", zone="pacific")
    ShippingRate.objects.create(
        origin_region="us-east", zone="mid", cost=Decimal("6.00"), transit_days=3
    )
    ShippingRate.objects.create(
        origin_region="us-west", zone="mid", cost=Decimal("9.00"), transit_days=4
    )
    ShippingRate.objects.create(
        origin_region="us-east", zone="pacific", cost=Decimal("11.00"), transit_days=5
    )
    ShippingRate.objects.create(
        origin_region="us-west", zone="pacific", cost=Decimal("5.00"), transit_days=2
    )


@pytest.fixture
def stock(manager):
    def receive(sku, location, quantity):
        receive_stock(sku=sku, location=location, quantity=quantity, actor=manager)

    return receive


@pytest.fixture
def place(web, cs_user):
    """place([(sku, qty), ...], **order fields) → an evaluated order."""

    def make(lines, actor=None, unit_price=Decimal("10.00"), **fields):
        order = OrderFactory(channel=fields.pop("channel", web), **fields)
        for sku, quantity in lines:
            OrderLineFactory(order=order, sku=sku, quantity=quantity, unit_price=unit_price)
        with transaction.atomic():  # as every caller of the flow services does
            evaluate_order(order=order, actor=actor or cs_user)
        order.refresh_from_db()
        return order

    return make


@pytest.fixture
def tee(db):
    return SkuFactory(code="TEE", product_family="apparel", unit_cost=Decimal("40.00"))


@pytest.fixture
def mug(db):
    return SkuFactory(code="MUG", product_family="home", unit_cost=Decimal("40.00"))


@pytest.fixture
def shop(east, rates, stock):
    """A Shopify shop listing the sample order's two SKUs, 10 of each at EAST."""
    channel = ChannelFactory(code="SHOP", kind="shopify", currency="USD", eligible_locations=[east])
    for code in ("TEE-BLK-M", "MUG-CER-12"):
        sku = SkuFactory(code=f"OUR-{code}")
        ChannelListingFactory(channel=channel, sku=sku, channel_sku=code)
        stock(sku, east, 10)
    return channel
