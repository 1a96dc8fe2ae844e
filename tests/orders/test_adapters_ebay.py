"""eBay Fulfillment API getOrder → NormalizedOrder."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from orders.adapters.base import AdapterError, ChannelStatus, PaymentStatus, ServiceLevel
from orders.adapters.ebay import parse_order
from tests.channel_samples import CHANNEL_FIXTURES

SAMPLE = CHANNEL_FIXTURES / "orders/ebay_order.json"


@pytest.fixture
def payload():
    return json.loads(SAMPLE.read_text())


def usd(value):
    return {"value": value, "currency": "USD"}


def refused(payload) -> AdapterError:
    with pytest.raises(AdapterError) as caught:
        parse_order(payload)
    return caught.value


def test_the_sample_order_normalizes_exactly(payload):
    order = parse_order(payload)

    assert (order.channel_kind, order.external_id, order.order_number) == (
        "ebay",
        "27-11842-90315",
        "27-11842-90315",
    )
    assert order.placed_at == datetime(2026, 11, 20, 18, 22, 11, tzinfo=UTC)
    assert order.updated_at == datetime(2026, 11, 20, 18, 25, 2, tzinfo=UTC)
    assert order.ship_by == datetime(2026, 11, 22, 7, 59, 59, tzinfo=UTC)
    assert order.currency == "USD"
    assert order.payment_status == PaymentStatus.CAPTURED
    assert order.channel_status == ChannelStatus.OPEN
    assert order.service_level == ServiceLevel.STANDARD  # USPSPriority: 1-3 days, not expedited
    assert (order.total, order.tax_total, order.shipping_total, order.discount_total) == (
        Decimal("71.62"),
        Decimal("6.14"),
        Decimal("5.50"),
        Decimal("0.00"),
    )
    assert order.extra == {}
    assert (order.ship_to.name, order.ship_to.city, order.ship_to.country) == (
        "Sam Whitaker",
        "Seattle",
        "US",
    )
    assert order.ship_to.phone == "2065550117"
    assert order.customer_email == "1c2f8a9b7d@members.ebay.com"
    (line,) = order.lines
    assert (line.external_line_id, line.channel_sku, line.external_item_id) == (
        "10072845510027",
        "EB-HDPH-BT200",
        "386120456789:655001234567",
    )
    assert (line.quantity, line.unit_price, line.tax, line.discount) == (
        1,
        Decimal("59.98"),
        Decimal("6.14"),
        Decimal("0.00"),
    )


def test_a_listing_without_sku_maps_by_legacy_item_id(payload):
    line = payload["lineItems"][0]
    del line["sku"], line["legacyVariationId"]
    normalized = parse_order(payload).lines[0]
    assert (normalized.channel_sku, normalized.external_item_id) == ("", "386120456789")


def test_line_item_cost_is_for_the_whole_quantity_and_unpadded(payload):
    line = payload["lineItems"][0]
    line.update(quantity=2, lineItemCost=usd("39.0"))
    assert parse_order(payload).lines[0].unit_price == Decimal("19.50")


def test_an_uneven_line_item_cost_keeps_a_rounding_note(payload):
    payload["lineItems"][0].update(quantity=3, lineItemCost=usd("10.0"))
    order = parse_order(payload)
    assert order.lines[0].unit_price == Decimal("3.33")
    assert order.extra["unit_price_rounding"][0]["remainder"] == "0.01"


def test_negative_price_and_delivery_discounts_become_a_positive_discount(payload):
    payload["pricingSummary"].update(
        priceDiscount=usd("-5.0"), deliveryDiscount=usd("-5.5"), total=usd("61.12")
    )
    payload["lineItems"][0]["appliedPromotions"] = [
        {"promotionId": "5001", "discountAmount": usd("5.0"), "description": "5 off"}
    ]
    order = parse_order(payload)
    assert order.discount_total == Decimal("10.50")
    assert order.lines[0].discount == Decimal("5.00")
    assert order.total == Decimal("61.12")


def test_a_total_without_collect_and_remit_tax_gets_the_tax_added(payload):
    payload["pricingSummary"]["total"] = usd("65.48")  # getOrder without TAX_BREAKDOWN
    order = parse_order(payload)
    assert order.total == Decimal("71.62")
    assert order.extra["total_adds_collect_and_remit_tax"] is True


@pytest.mark.parametrize(
    "status, expected",
    [
        ("PAID", PaymentStatus.CAPTURED),
        ("PENDING", PaymentStatus.PENDING),
        ("FAILED", PaymentStatus.PENDING),
        ("PARTIALLY_REFUNDED", PaymentStatus.PARTIALLY_REFUNDED),
        ("FULLY_REFUNDED", PaymentStatus.REFUNDED),
    ],
)
def test_order_payment_status_maps_to_payment_status(payload, status, expected):
    payload["orderPaymentStatus"] = status
    assert parse_order(payload).payment_status == expected


def test_a_cancelled_order_is_cancelled(payload):
    payload["cancelStatus"]["cancelState"] = "CANCELED"
    assert parse_order(payload).channel_status == ChannelStatus.CANCELLED


def test_a_cancelled_order_carries_ebays_cancellation_time(payload):
    payload["cancelStatus"].update(cancelState="CANCELED", cancelledDate="2026-11-21T10:05:00.000Z")
    assert parse_order(payload).cancelled_at == datetime(2026, 11, 21, 10, 5, tzinfo=UTC)


def test_a_cancel_request_in_progress_keeps_the_order_open_and_says_so(payload):
    payload["cancelStatus"]["cancelState"] = "IN_PROGRESS"
    order = parse_order(payload)
    assert order.channel_status == ChannelStatus.OPEN
    assert order.extra["cancel_requested"] is True


def test_a_fulfilled_order_is_shipped(payload):
    payload["orderFulfillmentStatus"] = "FULFILLED"
    assert parse_order(payload).channel_status == ChannelStatus.SHIPPED


def test_ship_by_is_the_earliest_over_lines(payload):
    second = json.loads(json.dumps(payload["lineItems"][0]))
    second.update(lineItemId="10072845510028", sku="EB-CASE")
    second["lineItemFulfillmentInstructions"]["shipByDate"] = "2026-11-21T07:59:59.000Z"
    payload["lineItems"].append(second)
    order = parse_order(payload)
    assert order.ship_by == datetime(2026, 11, 21, 7, 59, 59, tzinfo=UTC)
    assert [line.external_line_id for line in order.lines] == ["10072845510027", "10072845510028"]


@pytest.mark.parametrize(
    "code, level",
    [
        ("UPSNextDay", ServiceLevel.NEXT_DAY),
        ("UPS2ndDay", ServiceLevel.EXPEDITED),
        ("USPSPriorityMailExpress", ServiceLevel.EXPEDITED),
        ("USPSMedia", ServiceLevel.ECONOMY),
        ("SomethingNew", ServiceLevel.STANDARD),
    ],
)
def test_shipping_service_code_maps_to_service_level(payload, code, level):
    payload["fulfillmentStartInstructions"][0]["shippingStep"]["shippingServiceCode"] = code
    assert parse_order(payload).service_level == level


def test_line_tax_falls_back_to_collect_and_remit_taxes(payload):
    del payload["lineItems"][0]["taxes"]
    assert parse_order(payload).lines[0].tax == Decimal("6.14")


@pytest.mark.parametrize(
    "key, value, field, code",
    [
        ("quantity", 0, "lineItems[0].quantity", "min_value"),
        ("quantity", -2, "lineItems[0].quantity", "min_value"),
        ("quantity", None, "lineItems[0].quantity", "required"),
        ("lineItemCost", None, "lineItems[0].lineItemCost", "required"),
        ("lineItemId", None, "lineItems[0].lineItemId", "required"),
    ],
)
def test_missing_or_invalid_line_fields_are_refused(payload, key, value, field, code):
    payload["lineItems"][0][key] = value
    error = refused(payload)
    assert (error.field, error.code) == (field, code)


def test_a_line_in_another_currency_is_refused(payload):
    payload["lineItems"][0]["lineItemCost"] = {"value": "59.98", "currency": "GBP"}
    assert refused(payload).code == "currency_mismatch"


def two_units(payload) -> dict:
    """The sample line as two units at 29.99 each (net of promotions: 29.99)."""
    line = payload["lineItems"][0]
    line["quantity"] = 2
    return line


def test_a_line_refunded_in_full_before_shipping_is_removed(payload):
    line = two_units(payload)
    line["refunds"] = [{"amount": usd("59.98"), "refundId": "5000012345"}]
    payload["orderPaymentStatus"] = "FULLY_REFUNDED"

    assert parse_order(payload).lines[0].removed_quantity == 2


def test_a_refund_covering_one_unit_removes_one_unit(payload):
    line = two_units(payload)
    line["refunds"] = [{"amount": usd("29.99"), "refundId": "5000012345"}]

    assert parse_order(payload).lines[0].removed_quantity == 1


def test_refunds_add_up_and_promotions_lower_the_unit_paid_for(payload):
    line = two_units(payload)
    line["appliedPromotions"] = [{"discountAmount": usd("9.98"), "promotionId": "P1"}]
    # Paid 50.00 for two: 25.00 a unit; two refunds of 12.50 are one unit.
    line["refunds"] = [{"amount": usd("12.5")}, {"amount": usd("12.5")}]

    assert parse_order(payload).lines[0].removed_quantity == 1


def test_a_partial_refund_removes_nothing(payload):
    """The sample issue_refund: 15.00 agreed with the buyer for a rattling ear cup."""
    payload["lineItems"][0]["refunds"] = [{"amount": usd("15.0"), "refundId": "5000012345"}]

    assert parse_order(payload).lines[0].removed_quantity == 0


def test_refunds_of_a_fulfilled_line_are_returns_not_removals(payload):
    line = payload["lineItems"][0]
    line["lineItemFulfillmentStatus"] = "FULFILLED"
    line["refunds"] = [{"amount": usd("59.98"), "refundId": "5000012345"}]

    assert parse_order(payload).lines[0].removed_quantity == 0


def test_a_refund_in_another_currency_is_refused(payload):
    payload["lineItems"][0]["refunds"] = [{"amount": {"value": "59.98", "currency": "EUR"}}]

    assert "refunds" in refused(payload).field
