"""Shared readers: money without float, whole quantities, aware UTC times, ISO countries."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from orders.adapters.base import AdapterError, ServiceLevel
from orders.adapters.parsing import (
    check_shape,
    country_code,
    currency_code,
    decimal_value,
    money,
    per_unit,
    quantity,
    service_level_from_text,
    utc_datetime,
)


def refused(call, *args, **kwargs) -> AdapterError:
    with pytest.raises(AdapterError) as caught:
        call(*args, **kwargs)
    return caught.value


@pytest.mark.parametrize(
    "value, expected",
    [
        ("24.99", Decimal("24.99")),
        ("19.0", Decimal("19.0")),
        (" 4.5 ", Decimal("4.5")),
        (24, Decimal("24")),
        (Decimal("12.97"), Decimal("12.97")),
        (17.99, Decimal("17.99")),
        (0.1, Decimal("0.1")),
    ],
)
def test_amounts_are_read_exactly_from_text_numbers_and_decimals(value, expected):
    assert decimal_value(value, "price") == expected
    assert str(decimal_value(value, "price")) == str(expected)


def test_a_float_is_read_through_its_shortest_text_not_its_binary_value():
    assert decimal_value(17.99, "price") != Decimal(17.99)
    assert decimal_value(17.99, "price") == Decimal("17.99")


@pytest.mark.parametrize("value", ["abc", "1,5", "", None, True, "NaN", "Infinity", [1]])
def test_what_is_not_an_amount_is_refused_naming_the_field(value):
    error = refused(decimal_value, value, "line_items[0].price")
    assert error.field == "line_items[0].price"


def test_money_is_padded_and_rounded_half_up_to_the_currency_minor_unit():
    assert money("19.0", "x", "USD") == Decimal("19.00")
    assert str(money("4.5", "x", "USD")) == "4.50"
    assert money("12.345", "x", "EUR") == Decimal("12.35")
    assert money("16.806723", "x", "EUR") == Decimal("16.81")
    assert money("1234.5", "x", "JPY") == Decimal("1235")


def test_three_decimal_currencies_are_refused_because_orders_keep_two():
    assert refused(currency_code, "KWD", "currency").code == "unsupported_currency"
    assert refused(currency_code, "EURO", "currency").field == "currency"
    assert currency_code("eur", "currency") == "EUR"


@pytest.mark.parametrize(
    "total, count, unit, remainder",
    [
        ("49.98", 2, "24.99", "0.00"),
        ("10.00", 3, "3.33", "0.01"),
        ("20.00", 3, "6.67", "-0.01"),
        ("12.97", 3, "4.32", "0.01"),
    ],
)
def test_unit_price_from_a_line_total_keeps_the_rounding_remainder(total, count, unit, remainder):
    assert per_unit(Decimal(total), count, "USD") == (Decimal(unit), Decimal(remainder))


@pytest.mark.parametrize("value, expected", [(3, 3), ("3", 3), (Decimal("2"), 2), ("1", 1)])
def test_quantities_are_whole_numbers_from_ints_or_text(value, expected):
    assert quantity(value, "q") == expected
    assert isinstance(quantity(value, "q"), int)


@pytest.mark.parametrize("value", [0, "0", -1, "-2"])
def test_zero_or_negative_quantities_are_refused_as_min_value(value):
    error = refused(quantity, value, "lineItems[0].quantity")
    assert (error.code, error.field) == ("min_value", "lineItems[0].quantity")


@pytest.mark.parametrize(
    "value, code", [("2.5", "invalid"), (None, "required"), (True, "required")]
)
def test_fractional_or_missing_quantities_are_refused(value, code):
    assert refused(quantity, value, "q").code == code


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2026-11-20T10:15:32-05:00", datetime(2026, 11, 20, 15, 15, 32, tzinfo=UTC)),
        ("2026-11-20T21:30:00-05:00", datetime(2026, 11, 21, 2, 30, tzinfo=UTC)),
        ("2026-11-20T18:22:11.000Z", datetime(2026, 11, 20, 18, 22, 11, tzinfo=UTC)),
        ("2026-11-20T20:40:12+01:00", datetime(2026, 11, 20, 19, 40, 12, tzinfo=UTC)),
        (1763658000000, datetime(2025, 11, 20, 17, 0, tzinfo=UTC)),
        ("1763658000000", datetime(2025, 11, 20, 17, 0, tzinfo=UTC)),
        (1763658000123, datetime(2025, 11, 20, 17, 0, 0, 123000, tzinfo=UTC)),
    ],
)
def test_times_become_aware_utc(value, expected):
    moment = utc_datetime(value, "t")
    assert moment == expected
    assert moment.utcoffset().total_seconds() == 0


def test_naive_times_are_refused_unless_the_channel_documents_them_as_utc():
    assert refused(utc_datetime, "2026-11-20T20:40:12", "date_created").code == "naive_datetime"
    assert utc_datetime("2026-11-20T20:40:12", "date_created_gmt", naive_is_utc=True) == datetime(
        2026, 11, 20, 20, 40, 12, tzinfo=UTC
    )


@pytest.mark.parametrize("value", ["2026-11-20", "yesterday", "", None, True])
def test_what_is_not_a_date_and_time_is_refused(value):
    assert refused(utc_datetime, value, "placed_at").field == "placed_at"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("USA", "US"),
        ("us", "US"),
        ("DE", "DE"),
        ("DEU", "DE"),
        ("UK", "GB"),
        ("MEX", "MX"),
        ("", ""),
    ],
)
def test_countries_become_iso_alpha_2(value, expected):
    assert country_code(value, "country") == expected


@pytest.mark.parametrize("value", ["ZZ", "XYZ", "Germany"])
def test_unknown_countries_are_refused(value):
    assert refused(country_code, value, "ship.country").code == "invalid_country"


@pytest.mark.parametrize(
    "text, level",
    [
        ("UPSNextDay", ServiceLevel.NEXT_DAY),
        ("UPS2ndDay", ServiceLevel.EXPEDITED),
        ("USPSPriorityMailExpress", ServiceLevel.EXPEDITED),
        ("USPSPriority", ServiceLevel.STANDARD),
        ("USPSMedia", ServiceLevel.ECONOMY),
        ("Standard Standard Shipping (3-5 business days)", ServiceLevel.STANDARD),
        ("Standard (5-12 days)", ServiceLevel.STANDARD),
        ("Express 1-2 days", ServiceLevel.EXPEDITED),
        ("Same Day Courier", ServiceLevel.SAME_DAY),
        ("Overnight", ServiceLevel.NEXT_DAY),
        ("DHL Paket flat_rate", ServiceLevel.STANDARD),
        ("", ServiceLevel.STANDARD),
    ],
)
def test_free_text_shipping_methods_map_to_service_levels_defaulting_to_standard(text, level):
    assert service_level_from_text(text) == level


def test_a_payload_of_another_shape_is_refused_naming_what_is_missing():
    error = refused(check_shape, {"id": 1}, "Shopify", ("id", "line_items", "financial_status"))
    assert error.code == "wrong_shape"
    assert "line_items" in error.message and "financial_status" in error.message
    assert error.field == "line_items"
    assert refused(check_shape, [1, 2], "Shopify", ("id",)).code == "wrong_shape"
