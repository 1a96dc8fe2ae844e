"""Amazon SP-API Orders v0 (order + getOrderItems) → NormalizedOrder."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from orders.adapters.amazon import parse_order
from orders.adapters.base import AdapterError, ChannelStatus, PaymentStatus, ServiceLevel
from tests.channel_samples import CHANNEL_FIXTURES

SAMPLE = CHANNEL_FIXTURES / "orders/amazon_order.json"
PRICE_FIELDS = ("ItemPrice", "ItemTax", "ShippingPrice", "ShippingTax", "PromotionDiscount")


@pytest.fixture
def payload():
    return json.loads(SAMPLE.read_text())


def usd(amount):
    return {"CurrencyCode": "USD", "Amount": amount}


def refused(payload) -> AdapterError:
    with pytest.raises(AdapterError) as caught:
        parse_order(payload)
    return caught.value


def test_the_sample_order_normalizes_exactly(payload):
    order = parse_order(payload)

    assert (order.channel_kind, order.external_id, order.order_number) == (
        "amazon",
        "112-4829304-5566021",
        "112-4829304-5566021",
    )
    assert order.placed_at == datetime(2026, 11, 20, 15, 4, 5, tzinfo=UTC)
    assert order.updated_at == datetime(2026, 11, 20, 15, 34, 40, tzinfo=UTC)
    assert order.ship_by == datetime(2026, 11, 22, 7, 59, 59, tzinfo=UTC)
    assert order.currency == "USD"
    assert order.payment_status == PaymentStatus.AUTHORIZED
    assert order.channel_status == ChannelStatus.OPEN
    assert order.service_level == ServiceLevel.STANDARD
    assert order.tax_data_complete is True
    assert order.taxes_included is False
    assert (order.total, order.tax_total, order.shipping_total, order.discount_total) == (
        Decimal("63.47"),
        Decimal("5.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert order.ship_to.country == "US"
    assert order.ship_to.postal_code == "78701-3302"
    assert order.customer_email == "k8r2mzq1x7vw3np@marketplace.amazon.com"
    tee, soap = order.lines
    assert (tee.external_line_id, tee.channel_sku, tee.external_item_id) == (
        "49381726354012",
        "AMZ-TEE-BLK-M",
        "B0C7XK2M4P",
    )
    assert (tee.quantity, tee.unit_price, tee.tax, tee.discount) == (
        2,
        Decimal("24.99"),
        Decimal("4.12"),
        Decimal("0.00"),
    )
    assert (soap.channel_sku, soap.quantity, soap.unit_price, soap.tax) == (
        "AMZ-SOAP-LAV",
        1,
        Decimal("8.49"),
        Decimal("0.88"),
    )
    assert "unit_price_rounding" not in order.extra
    assert order.extra["marketplace_id"] == "ATVPDKIKX0DER"


def test_lines_map_by_seller_sku_and_keep_the_asin_as_the_item_id(payload):
    line = parse_order(payload).lines[0]
    assert line.channel_sku == "AMZ-TEE-BLK-M"
    assert line.external_item_id == "B0C7XK2M4P"


def test_item_price_is_for_the_whole_quantity_and_a_remainder_is_noted(payload):
    item = payload["items"]["OrderItems"][0]
    item.update(QuantityOrdered=3, ItemPrice=usd("10.00"))
    order = parse_order(payload)
    assert order.lines[0].unit_price == Decimal("3.33")
    assert order.extra["unit_price_rounding"] == [
        {
            "line": "49381726354012",
            "line_total": "10.00",
            "quantity": 3,
            "unit_price": "3.33",
            "remainder": "0.01",
        }
    ]


def test_a_pending_order_has_no_address_no_prices_and_incomplete_tax_data(payload):
    payload["order"].update(OrderStatus="Pending")
    for key in ("ShippingAddress", "OrderTotal"):
        payload["order"].pop(key)
    for item in payload["items"]["OrderItems"]:
        for key in PRICE_FIELDS + ("ShippingTax", "PromotionDiscountTax", "IsGift"):
            item.pop(key, None)

    order = parse_order(payload)

    assert order.payment_status == PaymentStatus.PENDING
    assert order.tax_data_complete is False
    assert order.ship_to is None
    assert order.currency == "USD"  # from the marketplace
    assert [line.unit_price for line in order.lines] == [None, None]
    assert [(line.tax, line.discount) for line in order.lines] == [(None, None), (None, None)]
    assert (order.total, order.tax_total, order.shipping_total, order.gift_wrap_total) == (
        None,
        None,
        None,
        None,
    )
    assert [line.quantity for line in order.lines] == [2, 1]


def test_gift_wrap_price_and_tax_reach_the_totals_so_the_parts_add_up(payload):
    item = payload["items"]["OrderItems"][0]
    item["IsGift"] = "true"
    item["BuyerInfo"] = {
        "GiftWrapPrice": {"CurrencyCode": "USD", "Amount": "3.99"},
        "GiftWrapTax": {"CurrencyCode": "USD", "Amount": "0.33"},
        "GiftWrapLevel": "Classic",
    }
    payload["order"]["OrderTotal"]["Amount"] = "67.79"  # 63.47 + 3.99 + 0.33

    order = parse_order(payload)

    assert order.gift_wrap_total == Decimal("3.99")
    assert order.lines[0].tax == Decimal("4.45")  # 4.12 item tax + 0.33 gift wrap tax
    assert order.tax_total == Decimal("5.33")
    merchandise = sum(line.unit_price * line.quantity for line in order.lines)
    parts = (
        merchandise
        + order.shipping_total
        + order.gift_wrap_total
        - order.discount_total
        + order.tax_total
    )
    assert parts == order.total == Decimal("67.79")
    assert order.taxes_included is False


def test_an_unshipped_order_without_item_price_is_refused(payload):
    del payload["items"]["OrderItems"][1]["ItemPrice"]
    error = refused(payload)
    assert (error.field, error.code) == ("items.OrderItems[1].ItemPrice", "required")


def test_a_shipped_order_is_captured_and_shipped(payload):
    payload["order"]["OrderStatus"] = "Shipped"
    order = parse_order(payload)
    assert (order.payment_status, order.channel_status) == (
        PaymentStatus.CAPTURED,
        ChannelStatus.SHIPPED,
    )


def test_a_canceled_order_is_cancelled_and_its_zeroed_items_are_left_out(payload):
    payload["order"]["OrderStatus"] = "Canceled"
    for item in payload["items"]["OrderItems"]:
        item["QuantityOrdered"] = 0
    order = parse_order(payload)
    assert order.channel_status == ChannelStatus.CANCELLED
    assert order.lines == ()
    assert order.extra["cancelled_order_item_ids"] == ["49381726354012", "49381726354013"]


def test_an_unknown_order_status_is_refused(payload):
    payload["order"]["OrderStatus"] = "Teleported"
    assert refused(payload).field == "order.OrderStatus"


@pytest.mark.parametrize("value", [0, -1])
def test_zero_or_negative_quantities_are_refused(payload, value):
    payload["items"]["OrderItems"][0]["QuantityOrdered"] = value
    error = refused(payload)
    assert (error.field, error.code) == ("items.OrderItems[0].QuantityOrdered", "min_value")


def test_an_amount_in_another_currency_is_refused(payload):
    payload["items"]["OrderItems"][0]["ItemTax"] = {"CurrencyCode": "EUR", "Amount": "4.12"}
    error = refused(payload)
    assert (error.code, error.field) == (
        "currency_mismatch",
        "items.OrderItems[0].ItemTax.CurrencyCode",
    )


def test_vat_inclusive_prices_are_detected_from_the_order_total(payload):
    payload["order"].update(MarketplaceId="A1PA6795UKMFR9", OrderTotal=usd("58.47"))
    assert parse_order(payload).taxes_included is True


def test_promotions_and_shipping_reach_lines_and_totals(payload):
    item = payload["items"]["OrderItems"][0]
    item.update(
        ShippingPrice=usd("4.99"), PromotionDiscount=usd("5.00"), ShippingDiscount=usd("4.99")
    )
    payload["order"]["OrderTotal"] = usd("58.47")
    order = parse_order(payload)
    assert order.lines[0].discount == Decimal("5.00")
    assert (order.shipping_total, order.discount_total) == (Decimal("4.99"), Decimal("9.99"))


@pytest.mark.parametrize(
    "category, level",
    [
        ("NextDay", ServiceLevel.NEXT_DAY),
        ("SecondDay", ServiceLevel.EXPEDITED),
        ("SameDay", ServiceLevel.SAME_DAY),
        ("FreeEconomy", ServiceLevel.ECONOMY),
        ("Scheduled", ServiceLevel.STANDARD),
    ],
)
def test_shipment_service_level_category_maps_to_service_level(payload, category, level):
    payload["order"]["ShipmentServiceLevelCategory"] = category
    assert parse_order(payload).service_level == level


def test_the_free_text_service_level_is_the_fallback(payload):
    del payload["order"]["ShipmentServiceLevelCategory"]
    payload["order"]["ShipServiceLevel"] = "Expedited"
    assert parse_order(payload).service_level == ServiceLevel.EXPEDITED


def test_is_gift_is_a_string(payload):
    payload["items"]["OrderItems"][1]["IsGift"] = "true"
    assert parse_order(payload).extra["gift_order_item_ids"] == ["49381726354013"]


def test_missing_order_item_id_is_refused_naming_it(payload):
    del payload["items"]["OrderItems"][0]["OrderItemId"]
    error = refused(payload)
    assert (error.field, error.code) == ("items.OrderItems[0].OrderItemId", "required")


def test_an_order_without_items_is_refused(payload):
    payload["items"]["OrderItems"] = []
    assert refused(payload).field == "items.OrderItems"
