"""Shopify Admin REST Order → NormalizedOrder, on the shared sample and its documented traps."""

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from orders.adapters.base import AdapterError, ChannelStatus, PaymentStatus, ServiceLevel
from orders.adapters.shopify import parse_order
from tests.channel_samples import CHANNEL_FIXTURES

SAMPLE = CHANNEL_FIXTURES / "orders/shopify_order.json"


@pytest.fixture
def payload():
    return json.loads(SAMPLE.read_text())


def refused(payload) -> AdapterError:
    with pytest.raises(AdapterError) as caught:
        parse_order(payload)
    return caught.value


def money_set(shop, presentment, currency="EUR"):
    return {
        "shop_money": {"amount": shop, "currency_code": "USD"},
        "presentment_money": {"amount": presentment, "currency_code": currency},
    }


def test_the_sample_order_normalizes_exactly(payload):
    order = parse_order(payload)

    assert (order.channel_kind, order.external_id, order.order_number) == (
        "shopify",
        "5841237409851",
        "#1042",
    )
    assert order.placed_at == datetime(2026, 11, 20, 15, 15, 32, tzinfo=UTC)
    assert order.updated_at == datetime(2026, 11, 20, 15, 15, 35, tzinfo=UTC)
    assert order.ship_by is None
    assert order.currency == "USD"
    assert order.payment_status == PaymentStatus.CAPTURED
    assert order.channel_status == ChannelStatus.OPEN
    assert order.service_level == ServiceLevel.STANDARD
    assert order.risk_score is None
    assert (order.total, order.tax_total, order.discount_total, order.shipping_total) == (
        Decimal("102.14"),
        Decimal("5.18"),
        Decimal("5.00"),
        Decimal("6.99"),
    )
    assert order.taxes_included is False
    assert order.customer_email == "maria.lopez@example.com"
    assert (order.ship_to.name, order.ship_to.region, order.ship_to.country) == (
        "María López",
        "OH",
        "US",
    )
    tee, mug = order.lines
    assert (tee.external_line_id, tee.channel_sku, tee.quantity, tee.unit_price) == (
        "14210000001",
        "TEE-BLK-M",
        2,
        Decimal("24.99"),
    )
    assert (tee.tax, tee.discount, tee.external_item_id) == (
        Decimal("2.59"),
        Decimal("5.00"),
        "44012300001",
    )
    assert (mug.channel_sku, mug.quantity, mug.unit_price, mug.tax, mug.discount) == (
        "MUG-CER-12",
        1,
        Decimal("44.99"),
        Decimal("2.59"),
        Decimal("0.00"),
    )
    assert order.extra["admin_graphql_api_id"] == "gid://shopify/Order/5841237409851"


def test_the_utc_date_can_differ_from_the_shops_local_date(payload):
    payload["created_at"] = "2026-11-20T21:30:00-05:00"
    assert parse_order(payload).placed_at == datetime(2026, 11, 21, 2, 30, tzinfo=UTC)


def buyer_paid_in_euros(payload: dict) -> dict:
    """The sample as a USD shop sends it when the buyer paid in EUR."""
    payload["presentment_currency"] = "EUR"
    payload["total_price_set"] = money_set("102.14", "94.10")
    payload["total_tax_set"] = money_set("5.18", "4.77")
    payload["total_discounts_set"] = money_set("5.00", "4.61")
    payload["total_shipping_price_set"] = money_set("6.99", "6.44")
    for line, price, tax, discount in (
        (payload["line_items"][0], "23.02", "2.39", "4.61"),
        (payload["line_items"][1], "41.45", "2.38", None),
    ):
        line["price_set"] = money_set(line["price"], price)
        line["tax_lines"][0]["price_set"] = money_set("2.59", tax)
        for allocation in line["discount_allocations"]:
            allocation["amount_set"] = money_set(allocation["amount"], discount)
    return payload


def test_multi_currency_orders_keep_the_shops_amounts_and_the_buyers(payload):
    order = parse_order(buyer_paid_in_euros(payload))

    assert order.currency == "USD"
    assert (order.total, order.tax_total, order.discount_total, order.shipping_total) == (
        Decimal("102.14"),
        Decimal("5.18"),
        Decimal("5.00"),
        Decimal("6.99"),
    )
    assert [line.unit_price for line in order.lines] == [Decimal("24.99"), Decimal("44.99")]
    buyer = order.presentment
    assert buyer.currency == "EUR"
    assert (buyer.total, buyer.tax_total, buyer.discount_total, buyer.shipping_total) == (
        Decimal("94.10"),
        Decimal("4.77"),
        Decimal("4.61"),
        Decimal("6.44"),
    )
    tee, mug = order.lines
    assert (tee.presentment_unit_price, tee.presentment_tax, tee.presentment_discount) == (
        Decimal("23.02"),
        Decimal("2.39"),
        Decimal("4.61"),
    )
    assert (mug.presentment_unit_price, mug.presentment_discount) == (
        Decimal("41.45"),
        Decimal("0.00"),
    )


def test_an_order_paid_in_the_shops_currency_has_no_presentment_amounts(payload):
    order = parse_order(payload)

    assert order.presentment is None
    assert order.lines[0].presentment_unit_price is None


def test_the_channels_cancellation_time_is_read(payload):
    payload["cancelled_at"] = "2026-11-21T08:30:00-05:00"
    assert parse_order(payload).cancelled_at == datetime(2026, 11, 21, 13, 30, tzinfo=UTC)


def test_shop_money_is_not_taken_for_presentment_money(payload):
    payload["presentment_currency"] = "EUR"
    error = refused(payload)
    assert (error.code, error.field) == ("required", "line_items[0].price_set")


def test_a_shop_amount_in_another_currency_is_refused(payload):
    payload["total_shipping_price_set"]["shop_money"]["currency_code"] = "CAD"
    assert refused(payload).code == "currency_mismatch"


def test_a_presentment_amount_in_another_currency_is_refused(payload):
    payload = buyer_paid_in_euros(payload)
    payload["total_shipping_price_set"]["presentment_money"]["currency_code"] = "CAD"
    error = refused(payload)
    assert (error.code, error.field) == (
        "currency_mismatch",
        "total_shipping_price_set.presentment_money.currency_code",
    )


def test_the_line_discount_comes_from_allocations_even_when_total_discount_reads_zero(payload):
    payload["line_items"][0]["total_discount"] = "0.00"
    assert parse_order(payload).lines[0].discount == Decimal("5.00")


def test_total_discount_is_the_fallback_when_a_payload_has_no_allocations(payload):
    del payload["line_items"][0]["discount_allocations"]
    payload["line_items"][0]["total_discount"] = "3.50"
    assert parse_order(payload).lines[0].discount == Decimal("3.50")


@pytest.mark.parametrize(
    "financial_status, expected",
    [
        ("pending", PaymentStatus.PENDING),
        ("authorized", PaymentStatus.AUTHORIZED),
        ("partially_paid", PaymentStatus.PENDING),
        ("paid", PaymentStatus.CAPTURED),
        ("partially_refunded", PaymentStatus.PARTIALLY_REFUNDED),
        ("refunded", PaymentStatus.REFUNDED),
        ("voided", PaymentStatus.VOIDED),
        ("expired", PaymentStatus.VOIDED),
        ("something_new", PaymentStatus.PENDING),
    ],
)
def test_financial_status_maps_to_payment_status(payload, financial_status, expected):
    payload["financial_status"] = financial_status
    assert parse_order(payload).payment_status == expected


def test_a_cancelled_order_is_cancelled_on_the_channel(payload):
    payload["cancelled_at"] = "2026-11-20T11:00:00-05:00"
    assert parse_order(payload).channel_status == ChannelStatus.CANCELLED


def test_a_fulfilled_order_is_shipped_on_the_channel(payload):
    payload["fulfillment_status"] = "fulfilled"
    assert parse_order(payload).channel_status == ChannelStatus.SHIPPED


def test_quantity_keeps_the_original_and_current_quantity_gives_the_removed_units(payload):
    payload["line_items"][0]["current_quantity"] = 1
    line = parse_order(payload).lines[0]
    assert (line.quantity, line.removed_quantity) == (2, 1)


def test_risk_is_none_unless_order_risks_were_merged_in(payload):
    payload["risks"] = [{"score": "0.2"}, {"score": "0.8", "recommendation": "investigate"}]
    assert parse_order(payload).risk_score == Decimal("80.00")


def test_an_express_shipping_line_is_expedited(payload):
    payload["shipping_lines"][0].update(code="Express", title="Express (1-2 days)")
    assert parse_order(payload).service_level == ServiceLevel.EXPEDITED


def test_an_order_without_shipping_address_has_no_ship_to(payload):
    payload["shipping_address"] = None
    assert parse_order(payload).ship_to is None


def test_shipping_total_falls_back_to_the_shipping_lines(payload):
    del payload["total_shipping_price_set"]
    assert parse_order(payload).shipping_total == Decimal("6.99")


@pytest.mark.parametrize(
    "change, field, code",
    [
        (lambda p: p["line_items"][1].pop("quantity"), "line_items[1].quantity", "required"),
        (lambda p: p["line_items"][0].update(quantity=-1), "line_items[0].quantity", "min_value"),
        (lambda p: p["line_items"][0].update(quantity=0), "line_items[0].quantity", "min_value"),
        (lambda p: p["line_items"][0].pop("price"), "line_items[0].price", "required"),
        (lambda p: p["line_items"][0].pop("id"), "line_items[0].id", "required"),
        (lambda p: p.update(line_items=[]), "line_items", "required"),
        (lambda p: p.pop("id"), "id", "wrong_shape"),
        (lambda p: p.pop("created_at"), "created_at", "required"),
        (lambda p: p.pop("total_price"), "total_price", "required"),
    ],
)
def test_missing_or_invalid_fields_are_refused_naming_the_field(payload, change, field, code):
    payload = copy.deepcopy(payload)
    change(payload)
    error = refused(payload)
    assert (error.field, error.code) == (field, code)
