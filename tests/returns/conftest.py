from decimal import Decimal

import pytest

from inventory.models import StockBalance
from inventory.services.verification import find_balance_differences
from returns.services.rmas import create_rma
from tests.factories import ChannelFactory, LocationFactory, SkuFactory
from tests.factories.returns import (
    ReturnPolicyFactory,
    ReturnReasonFactory,
    ShippedLine,
    shipped_order,
)


@pytest.fixture
def node(db):
    return LocationFactory(code="RET-A")


@pytest.fixture
def shop(node):
    return ChannelFactory(code="SHOP", kind="shopify", eligible_locations=[node])


@pytest.fixture
def policy(shop):
    """Channel-wide: 30 days, refund on receipt, buyer pays return shipping, no fee."""
    return ReturnPolicyFactory(channel=shop, window_days=30, refund_timing="on_receipt")


@pytest.fixture
def changed_mind(db):
    return ReturnReasonFactory(code="changed_mind", label="Changed mind / no longer needed")


@pytest.fixture
def defective(db):
    return ReturnReasonFactory(code="defective", label="Defective / does not work", our_fault=True)


@pytest.fixture
def tee(db):
    return SkuFactory(code="TEE", product_family="apparel", unit_cost=Decimal("8.00"))


@pytest.fixture
def phone(db):
    return SkuFactory(
        code="PHONE", product_family="electronics", serial_tracked=True, unit_cost=Decimal("300.00")
    )


@pytest.fixture
def soap(db):
    return SkuFactory(code="SOAP", product_family="hygiene", unit_cost=Decimal("2.00"))


@pytest.fixture
def tee_order(shop, node, policy, tee):
    """Three tees at 20.00 with 3.00 tax and 6.00 discount on the line, 9.00 shipping."""
    return shipped_order(
        shop,
        [ShippedLine(tee, 3, Decimal("20.00"), tax=Decimal("3.00"), discount=Decimal("6.00"))],
        location=node,
        shipping_total=Decimal("9.00"),
    )


@pytest.fixture
def phone_order(shop, node, policy, phone):
    return shipped_order(
        shop, [ShippedLine(phone, 2, Decimal("400.00"), serials=["SN-1", "SN-2"])], location=node
    )


# Channels of the marketplace-initiated returns (test_channel_returns*.py).


@pytest.fixture
def default_reasons(db):
    """The reason codes a new installation starts with (returns migration 0002), made
    explicit: a transactional test elsewhere may have flushed them."""
    for code, label, damage, our_fault in [
        ("changed_mind", "Changed mind / no longer needed", False, False),
        ("wrong_size", "Wrong size or fit", False, False),
        ("defective", "Defective / does not work", False, True),
        ("damaged_in_transit", "Damaged in transit", True, True),
    ]:
        ReturnReasonFactory(code=code, label=label, counts_as_damage=damage, our_fault=our_fault)


@pytest.fixture
def shopify(node, default_reasons):
    channel = ChannelFactory(
        code="SHOPIFY", name="Shopify", kind="shopify", eligible_locations=[node]
    )
    ReturnPolicyFactory(channel=channel, refund_timing="on_authorization")
    return channel


@pytest.fixture
def amazon(node, default_reasons):
    channel = ChannelFactory(code="AMZ", name="Amazon", kind="amazon", eligible_locations=[node])
    ReturnPolicyFactory(channel=channel)
    return channel


@pytest.fixture
def ebay(node, default_reasons):
    channel = ChannelFactory(code="EBAY", name="eBay", kind="ebay", eligible_locations=[node])
    ReturnPolicyFactory(channel=channel)
    return channel


@pytest.fixture
def mug(db):
    return SkuFactory(code="MUG", product_family="kitchen")


@pytest.fixture
def headphones(db):
    return SkuFactory(code="HDPH", product_family="audio")


def line_of(order, sku):
    return order.lines.get(sku=sku)


@pytest.fixture
def authorize(cs_user):
    """authorize(order, [(sku, qty, reason, {extra})]) as customer service."""

    def create(order, lines, **kwargs):
        return create_rma(
            order_id=order.pk,
            lines=[
                {
                    "order_line_id": line_of(order, sku).pk,
                    "quantity": quantity,
                    "reason": reason.code,
                    **(extra[0] if extra else {}),
                }
                for sku, quantity, reason, *extra in lines
            ],
            actor=kwargs.pop("actor", cs_user),
            **kwargs,
        )

    return create


def on_hand(sku, location, status) -> int:
    row = StockBalance.objects.filter(sku=sku, location=location, status=status).first()
    return row.on_hand if row else 0


@pytest.fixture(autouse=True)
def balances_always_match_the_ledger(request):
    """After every returns test, balances equal the ledger (the verify_inventory rule)."""
    yield
    if "db" in request.fixturenames or "transactional_db" in request.fixturenames:
        assert find_balance_differences() == []
