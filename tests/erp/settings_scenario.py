"""The world the settings flow tests change: a shop selling from two nodes with the east
lane cheaper, an order shipped 40 days ago under a 30-day return window, and a write-off
under its approval threshold. Shared by the HTTP and the Chromium test of that flow."""

import json
from dataclasses import dataclass
from decimal import Decimal

from erp.services.approvals import policy_for
from inventory.services.adjustments import WRITE_OFF_KIND, request_adjustment
from inventory.services.movements import receive_stock
from orders.models import Allocation, Order, ShippingRate, ShippingZone
from orders.services.ingestion import ingest_order
from tests.channel_samples import CHANNEL_FIXTURES
from tests.factories import ChannelFactory, ChannelListingFactory, LocationFactory, SkuFactory
from tests.factories.returns import (
    ReturnPolicyFactory,
    ReturnReasonFactory,
    ShippedLine,
    shipped_order,
)

SHOPIFY_ORDER = json.loads((CHANNEL_FIXTURES / "orders" / "shopify_order.json").read_text())


@dataclass
class Scenario:
    shop: object
    east_rate: ShippingRate
    first_order: Order
    old_order: Order
    return_line: dict
    write_off_policy: object
    write_off_sku: object
    east: object
    integration_user: object
    manager: object

    def next_order(self) -> Order:
        payload = {**SHOPIFY_ORDER, "id": SHOPIFY_ORDER["id"] + 1, "name": "#1002"}
        return ingest_order(channel=self.shop, payload=payload, actor=self.integration_user).order

    def write_off_one(self):
        return request_adjustment(
            sku=self.write_off_sku,
            location=self.east,
            quantity=-1,
            reason_code="damage",
            actor=self.manager,
        )


def nodes_of(order: Order) -> set[str]:
    return set(
        Allocation.objects.filter(line__order=order, active=True).values_list(
            "location__code", flat=True
        )
    )


def arrange(manager, integration_user) -> Scenario:
    east = LocationFactory(code="EAST", region="us-east", priority=10)
    west = LocationFactory(code="WEST", region="us-west", priority=20)
    shop = ChannelFactory(
        code="SHOP", kind="shopify", currency="USD", eligible_locations=[east, west]
    )
    for code in ("TEE-BLK-M", "MUG-CER-12"):
        sku = SkuFactory(code=f"OUR-{code}")
        ChannelListingFactory(channel=shop, sku=sku, channel_sku=code)
        for node in (east, west):
            receive_stock(sku=sku, location=node, quantity=10, actor=manager)
    ShippingZone.objects.create(country="US", postal_prefix="4", zone="mid")
    east_rate = ShippingRate.objects.create(
        origin_region="us-east", zone="mid", cost=Decimal("6.00"), transit_days=3
    )
    ShippingRate.objects.create(
        origin_region="us-west", zone="mid", cost=Decimal("9.00"), transit_days=3
    )
    first = ingest_order(channel=shop, payload=SHOPIFY_ORDER, actor=integration_user).order

    ReturnReasonFactory(code="changed_mind", label="Changed mind")
    ReturnPolicyFactory(channel=shop, window_days=30)
    tee = SkuFactory(code="TEE-RET", unit_cost=Decimal("40.00"))
    old_order = shipped_order(shop, [ShippedLine(tee, 1)], shipped_days_ago=40)
    receive_stock(sku=tee, location=east, quantity=5, actor=manager)
    return Scenario(
        shop=shop,
        east_rate=east_rate,
        first_order=first,
        old_order=old_order,
        return_line={
            "order_line_id": old_order.lines.get().pk,
            "quantity": 1,
            "reason": "changed_mind",
        },
        write_off_policy=policy_for(WRITE_OFF_KIND),
        write_off_sku=tee,
        east=east,
        integration_user=integration_user,
        manager=manager,
    )
