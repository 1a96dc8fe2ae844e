"""Walmart Marketplace purchase order → NormalizedOrder."""

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from orders.adapters.base import AdapterError, ChannelStatus, PaymentStatus, ServiceLevel
from orders.adapters.walmart import parse_order
from tests.channel_samples import CHANNEL_FIXTURES

SAMPLE = CHANNEL_FIXTURES / "orders/walmart_order.json"


@pytest.fixture
def payload():
    return json.loads(SAMPLE.read_text(), parse_float=Decimal)


def line_of(payload, index=0):
    return payload["order"]["orderLines"]["orderLine"][index]


def status(name, amount):
    return {"status": name, "statusQuantity": {"unitOfMeasurement": "EACH", "amount": amount}}


def refused(payload) -> AdapterError:
    with pytest.raises(AdapterError) as caught:
        parse_order(payload)
    return caught.value


def test_the_sample_order_normalizes_exactly(payload):
    order = parse_order(payload)

    assert (order.channel_kind, order.external_id, order.order_number) == (
        "walmart",
        "1796277083022",
        "5281956426648",
    )
    # Epoch milliseconds; the sample's dates fall in 2025.
    assert order.placed_at == datetime(2025, 11, 20, 17, 0, tzinfo=UTC)
    assert order.updated_at == datetime(2025, 11, 20, 17, 1, tzinfo=UTC)
    assert order.ship_by == datetime(2025, 11, 22, 1, 0, tzinfo=UTC)
    assert order.currency == "USD"
    assert order.payment_status == PaymentStatus.AUTHORIZED  # charged when marked Shipped
    assert order.channel_status == ChannelStatus.OPEN
    assert order.service_level == ServiceLevel.ECONOMY  # methodCode Value
    assert order.ship_to.country == "US"  # Walmart sends "USA"
    assert (order.ship_to.name, order.ship_to.line2, order.ship_to.phone) == (
        "Priya Raman",
        "",
        "4795550123",
    )
    assert order.customer_email == "3A9F1C20E4B14D1F8C6A@relay.walmart.com"
    (line,) = order.lines
    assert (line.external_line_id, line.channel_sku, line.title) == (
        "1",
        "WM-VITC-500-60",
        "Vitamin C 500mg, 60 tablets",
    )
    # ItemPrice read per unit (ITEM_PRICE_BASIS): 3 × 12.97, tax 3 × 1.23.
    assert (line.quantity, line.unit_price, line.tax) == (3, Decimal("12.97"), Decimal("3.69"))
    assert (order.total, order.tax_total, order.shipping_total) == (
        Decimal("42.60"),
        Decimal("3.69"),
        Decimal("0.00"),
    )
    assert order.extra["customer_order_id"] == "5281956426648"
    assert order.extra["price_basis_unconfirmed"] == {"basis": "unit", "lines": ["1"]}


def test_json_floats_and_decimals_give_the_same_exact_amounts(payload):
    with_floats = json.loads(SAMPLE.read_text())
    assert isinstance(
        with_floats["order"]["orderLines"]["orderLine"][0]["charges"]["charge"][0]["chargeAmount"][
            "amount"
        ],
        float,
    )
    assert parse_order(with_floats) == parse_order(payload)


def test_with_line_price_basis_the_charge_is_divided_and_the_remainder_noted(payload):
    order = parse_order(payload, item_price_basis="line")
    line = order.lines[0]
    assert (line.unit_price, line.tax, order.total) == (
        Decimal("4.32"),
        Decimal("1.23"),
        Decimal("14.20"),
    )
    assert order.extra["unit_price_rounding"][0]["remainder"] == "0.01"


def test_an_iso_order_date_is_accepted_too(payload):
    payload["order"]["orderDate"] = "2025-11-20T17:00:00.000Z"
    assert parse_order(payload).placed_at == datetime(2025, 11, 20, 17, 0, tzinfo=UTC)


def test_the_bare_order_without_the_response_wrapper_is_accepted(payload):
    assert parse_order(payload["order"]) == parse_order(payload)


def test_the_same_sku_on_two_lines_stays_two_lines(payload):
    second = copy.deepcopy(line_of(payload))
    second["lineNumber"] = "2"
    second["orderLineQuantity"]["amount"] = "1"
    payload["order"]["orderLines"]["orderLine"].append(second)
    order = parse_order(payload)
    assert [(line.external_line_id, line.channel_sku, line.quantity) for line in order.lines] == [
        ("1", "WM-VITC-500-60", 3),
        ("2", "WM-VITC-500-60", 1),
    ]


def test_shipping_charges_reach_the_shipping_total(payload):
    line_of(payload)["orderLineQuantity"]["amount"] = "1"
    line_of(payload)["charges"]["charge"].append(
        {
            "chargeType": "SHIPPING",
            "chargeName": "Shipping",
            "chargeAmount": {"currency": "USD", "amount": Decimal("5.99")},
            "tax": None,
        }
    )
    order = parse_order(payload)
    assert (order.shipping_total, order.total) == (Decimal("5.99"), Decimal("20.19"))


def test_partly_cancelled_units_are_removed_from_the_line(payload):
    line_of(payload)["orderLineStatuses"]["orderLineStatus"] = [
        status("Acknowledged", "2"),
        status("Cancelled", "1"),
    ]
    order = parse_order(payload)
    assert (order.lines[0].quantity, order.lines[0].removed_quantity) == (3, 1)
    assert order.channel_status == ChannelStatus.OPEN


def test_an_order_whose_lines_are_all_cancelled_is_cancelled(payload):
    line_of(payload)["orderLineStatuses"]["orderLineStatus"] = [status("Cancelled", "3")]
    order = parse_order(payload)
    assert (order.channel_status, order.payment_status) == (
        ChannelStatus.CANCELLED,
        PaymentStatus.VOIDED,
    )
    assert order.cancelled_at == order.updated_at  # the last line status change


def test_an_open_order_has_no_cancellation_time(payload):
    assert parse_order(payload).cancelled_at is None


def test_a_shipped_order_is_captured(payload):
    line_of(payload)["orderLineStatuses"]["orderLineStatus"] = [status("Shipped", "3")]
    order = parse_order(payload)
    assert (order.channel_status, order.payment_status) == (
        ChannelStatus.SHIPPED,
        PaymentStatus.CAPTURED,
    )


@pytest.mark.parametrize(
    "method, level",
    [
        ("Standard", ServiceLevel.STANDARD),
        ("Express", ServiceLevel.EXPEDITED),
        ("OneDay", ServiceLevel.NEXT_DAY),
        ("Freight", ServiceLevel.STANDARD),
        ("Teleport", ServiceLevel.STANDARD),
    ],
)
def test_method_code_maps_to_service_level(payload, method, level):
    payload["order"]["shippingInfo"]["methodCode"] = method
    assert parse_order(payload).service_level == level


@pytest.mark.parametrize(
    "value, code", [("-1", "min_value"), ("0", "min_value"), ("1.5", "invalid"), (None, "required")]
)
def test_invalid_quantities_are_refused_naming_the_field(payload, value, code):
    line_of(payload)["orderLineQuantity"]["amount"] = value
    error = refused(payload)
    assert (error.field, error.code) == (
        "order.orderLines.orderLine[0].orderLineQuantity.amount",
        code,
    )


def test_a_line_without_a_product_charge_is_refused(payload):
    line_of(payload)["charges"]["charge"][0]["chargeType"] = "SHIPPING"
    error = refused(payload)
    assert (error.field, error.code) == ("order.orderLines.orderLine[0].charges.charge", "required")


def test_a_missing_line_number_is_refused(payload):
    del line_of(payload)["lineNumber"]
    assert refused(payload).field == "order.orderLines.orderLine[0].lineNumber"


def test_a_charge_in_another_currency_is_refused(payload):
    line_of(payload)["charges"]["charge"][0]["tax"]["taxAmount"]["currency"] = "CAD"
    assert refused(payload).code == "currency_mismatch"


def test_another_channels_order_is_refused_naming_the_missing_walmart_fields(payload):
    error = refused({"order": {"AmazonOrderId": "112-1"}})
    assert (error.code, error.field) == ("wrong_shape", "order.purchaseOrderId")
    assert "order.orderLines.orderLine" in error.message
