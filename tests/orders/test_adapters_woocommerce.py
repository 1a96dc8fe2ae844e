"""WooCommerce REST v3 order → NormalizedOrder."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from orders.adapters.base import AdapterError, ChannelStatus, PaymentStatus, ServiceLevel
from orders.adapters.woocommerce import parse_order
from tests.channel_samples import CHANNEL_FIXTURES

SAMPLE = CHANNEL_FIXTURES / "orders/woocommerce_order.json"


@pytest.fixture
def payload():
    return json.loads(SAMPLE.read_text())


def refused(payload) -> AdapterError:
    with pytest.raises(AdapterError) as caught:
        parse_order(payload)
    return caught.value


def test_the_sample_order_normalizes_exactly(payload):
    order = parse_order(payload)

    assert (order.channel_kind, order.external_id, order.order_number) == (
        "woocommerce",
        "7315",
        "7315",
    )
    # date_created_gmt (UTC without offset), not the site-local date_created.
    assert order.placed_at == datetime(2026, 11, 20, 20, 40, 12, tzinfo=UTC)
    assert order.updated_at == datetime(2026, 11, 20, 20, 40, 15, tzinfo=UTC)
    assert order.ship_by is None
    assert order.currency == "EUR"
    assert order.payment_status == PaymentStatus.CAPTURED
    assert order.channel_status == ChannelStatus.OPEN
    assert order.service_level == ServiceLevel.STANDARD
    assert order.taxes_included is False
    assert (order.total, order.tax_total, order.shipping_total, order.discount_total) == (
        Decimal("27.24"),
        Decimal("4.35"),
        Decimal("4.90"),
        Decimal("0.00"),
    )
    assert order.ship_to.name == "Jonas Weiß"
    assert (order.ship_to.line1, order.ship_to.city, order.ship_to.country) == (
        "Gartenstraße 12",
        "Köln",
        "DE",
    )
    assert order.customer_email == "jonas.weiss@example.de"
    (line,) = order.lines
    assert (line.external_line_id, line.channel_sku, line.external_item_id) == (
        "411",
        "WC-MUG-CER-12",
        "93",
    )
    assert (line.quantity, line.unit_price, line.tax, line.discount) == (
        1,
        Decimal("17.99"),
        Decimal("3.42"),
        Decimal("0.00"),
    )


def test_the_float_line_price_and_decimal_parsing_give_the_same_order(payload):
    assert isinstance(payload["line_items"][0]["price"], float)
    with_decimals = json.loads(SAMPLE.read_text(), parse_float=Decimal)
    assert parse_order(with_decimals) == parse_order(payload)


def test_unit_price_is_before_the_coupon_and_the_coupon_is_the_discount(payload):
    payload["line_items"][0].update(
        quantity=2,
        subtotal="35.98",
        subtotal_tax="6.84",
        total="28.78",
        total_tax="5.47",
        price=14.39,
    )
    line = parse_order(payload).lines[0]
    assert (line.unit_price, line.discount, line.tax) == (
        Decimal("17.99"),
        Decimal("7.20"),
        Decimal("5.47"),
    )


def test_tax_inclusive_stores_get_tax_inclusive_prices(payload):
    payload["prices_include_tax"] = True
    payload["line_items"][0].update(
        subtotal="16.806723", subtotal_tax="3.193277", total="16.806723", total_tax="3.193277"
    )
    order = parse_order(payload)
    assert order.taxes_included is True
    assert (order.lines[0].unit_price, order.lines[0].tax, order.lines[0].discount) == (
        Decimal("20.00"),
        Decimal("3.19"),
        Decimal("0.00"),
    )
    assert order.shipping_total == Decimal("5.83")


def test_a_line_subtotal_that_does_not_divide_keeps_a_rounding_note(payload):
    payload["line_items"][0].update(quantity=3, subtotal="10.00", total="10.00")
    order = parse_order(payload)
    assert order.lines[0].unit_price == Decimal("3.33")
    assert order.extra["unit_price_rounding"][0]["line"] == "411"


@pytest.mark.parametrize(
    "status, paid, refunds, payment, channel",
    [
        ("processing", True, [], PaymentStatus.CAPTURED, ChannelStatus.OPEN),
        ("processing", False, [], PaymentStatus.PENDING, ChannelStatus.OPEN),
        ("on-hold", False, [], PaymentStatus.PENDING, ChannelStatus.OPEN),
        ("pending", False, [], PaymentStatus.PENDING, ChannelStatus.OPEN),
        ("failed", False, [], PaymentStatus.PENDING, ChannelStatus.OPEN),
        ("completed", True, [], PaymentStatus.CAPTURED, ChannelStatus.SHIPPED),
        ("cancelled", False, [], PaymentStatus.VOIDED, ChannelStatus.CANCELLED),
        (
            "refunded",
            True,
            [{"id": 1, "total": "-27.24"}],
            PaymentStatus.REFUNDED,
            ChannelStatus.OPEN,
        ),
        (
            "processing",
            True,
            [{"id": 2, "total": "-5.00"}],
            PaymentStatus.PARTIALLY_REFUNDED,
            ChannelStatus.OPEN,
        ),
    ],
)
def test_status_and_date_paid_map_to_payment_and_channel_status(
    payload, status, paid, refunds, payment, channel
):
    payload.update(status=status, refunds=refunds)
    if not paid:
        payload.update(date_paid=None, date_paid_gmt=None)
    order = parse_order(payload)
    assert (order.payment_status, order.channel_status) == (payment, channel)


def test_an_order_of_virtual_goods_has_no_ship_to(payload):
    for key in ("address_1", "city", "postcode", "country"):
        payload["shipping"][key] = ""
    assert parse_order(payload).ship_to is None


@pytest.mark.parametrize(
    "key, value, field, code",
    [
        ("quantity", 0, "line_items[0].quantity", "min_value"),
        ("quantity", -1, "line_items[0].quantity", "min_value"),
        ("subtotal", None, "line_items[0].subtotal", "required"),
        ("total", None, "line_items[0].total", "required"),
        ("id", None, "line_items[0].id", "required"),
    ],
)
def test_missing_or_invalid_line_fields_are_refused(payload, key, value, field, code):
    payload["line_items"][0][key] = value
    error = refused(payload)
    assert (error.field, error.code) == (field, code)


def test_an_order_without_date_created_gmt_is_not_a_woocommerce_order(payload):
    del payload["date_created_gmt"]
    error = refused(payload)
    assert (error.code, error.field) == ("wrong_shape", "date_created_gmt")
