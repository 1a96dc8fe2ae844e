"""The project's own order format for B2B-portal and manual orders."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from orders.adapters import parse_order as parse_for_kind
from orders.adapters.base import AdapterError, ChannelStatus, PaymentStatus, ServiceLevel
from orders.adapters.normalized import parse_order


@pytest.fixture
def payload():
    return {
        "external_id": "PO-2026-0042",
        "order_number": "B2B-0042",
        "placed_at": "2026-11-20T09:30:00+01:00",
        "ship_by": "2026-11-24T17:00:00Z",
        "currency": "EUR",
        "payment_status": "authorized",
        "service_level": "expedited",
        "customer_email": "purchasing@example.de",
        "ship_to": {
            "name": "Jürgen Müller",
            "company": "Müller & Söhne GmbH",
            "line1": "Hauptstraße 5",
            "city": "München",
            "postal_code": "80331",
            "country": "DEU",
        },
        "lines": [
            {"line_id": "A", "sku": "TEE-BLK-M", "quantity": "10", "unit_price": "12.5"},
            {
                "sku": "MUG-CER-12",
                "quantity": 4,
                "unit_price": 7.25,
                "tax": "5.51",
                "discount": "2.00",
                "title": "Mug",
            },
        ],
        "shipping_total": "9.90",
        "extra": {"purchase_order": "4500012345"},
    }


def refused(payload) -> AdapterError:
    with pytest.raises(AdapterError) as caught:
        parse_order(payload)
    return caught.value


def test_a_b2b_order_normalizes_with_computed_totals(payload):
    order = parse_order(payload)

    assert (order.channel_kind, order.external_id, order.order_number) == (
        "b2b",
        "PO-2026-0042",
        "B2B-0042",
    )
    assert order.placed_at == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    assert order.ship_by == datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
    assert order.currency == "EUR"
    assert order.payment_status == PaymentStatus.AUTHORIZED
    assert order.channel_status == ChannelStatus.OPEN
    assert order.service_level == ServiceLevel.EXPEDITED
    assert (order.ship_to.name, order.ship_to.company, order.ship_to.country) == (
        "Jürgen Müller",
        "Müller & Söhne GmbH",
        "DE",
    )
    first, second = order.lines
    assert (first.external_line_id, first.quantity, first.unit_price) == ("A", 10, Decimal("12.50"))
    assert (second.external_line_id, second.unit_price, second.tax, second.discount) == (
        "2",
        Decimal("7.25"),
        Decimal("5.51"),
        Decimal("2.00"),
    )
    # 125.00 + 29.00 − 2.00 + 9.90 shipping + 5.51 tax
    assert (order.total, order.tax_total, order.discount_total, order.shipping_total) == (
        Decimal("167.41"),
        Decimal("5.51"),
        Decimal("2.00"),
        Decimal("9.90"),
    )
    assert order.extra == {"purchase_order": "4500012345"}


def test_stated_totals_are_kept(payload):
    payload.update(total="170.00", tax_total="8.00", taxes_included=True)
    order = parse_order(payload)
    assert (order.total, order.tax_total, order.taxes_included) == (
        Decimal("170.00"),
        Decimal("8.00"),
        True,
    )


def test_manual_and_b2b_kinds_share_the_format(payload):
    assert parse_for_kind("manual", payload).channel_kind == "manual"
    assert parse_for_kind("b2b", payload).channel_kind == "b2b"


@pytest.mark.parametrize(
    "key, value, field, code",
    [
        ("payment_status", None, "payment_status", "required"),
        ("payment_status", "paid", "payment_status", "invalid_choice"),
        ("service_level", "warp", "service_level", "invalid_choice"),
        ("channel_status", "gone", "channel_status", "invalid_choice"),
        ("placed_at", "2026-11-20T09:30:00", "placed_at", "naive_datetime"),
        ("currency", None, "currency", "required"),
        ("risk_score", "150", "risk_score", "invalid"),
        ("taxes_included", "yes", "taxes_included", "invalid"),
        ("lines", [], "lines", "required"),
    ],
)
def test_invalid_order_fields_are_refused(payload, key, value, field, code):
    payload[key] = value
    error = refused(payload)
    assert (error.field, error.code) == (field, code)


@pytest.mark.parametrize(
    "key, value, field, code",
    [
        ("quantity", 0, "lines[1].quantity", "min_value"),
        ("quantity", "-3", "lines[1].quantity", "min_value"),
        ("sku", "", "lines[1].sku", "required"),
        ("unit_price", None, "lines[1].unit_price", "required"),
        ("unit_price", "12,50", "lines[1].unit_price", "invalid"),
        ("line_id", "A", "lines[1].line_id", "duplicate"),
    ],
)
def test_invalid_line_fields_are_refused(payload, key, value, field, code):
    payload["lines"][1][key] = value
    error = refused(payload)
    assert (error.field, error.code) == (field, code)


def test_a_risk_score_is_kept_on_the_0_to_100_scale(payload):
    payload["risk_score"] = 42.5
    assert parse_order(payload).risk_score == Decimal("42.50")


def test_extra_is_stored_as_json_with_decimals_as_text(payload):
    payload["extra"] = {"credit_limit": Decimal("5000.50"), "tags": [Decimal("1.5"), "vip"]}
    assert parse_order(payload).extra == {"credit_limit": "5000.50", "tags": ["1.5", "vip"]}
