"""Each settlement format parsed into signed lines, with each source's sign conventions,
and every kind of bad input refused with the line named."""

from decimal import Decimal

import pytest

from finance.models import LineCategory, LineType
from finance.services.settlement_formats import SettlementFormatError, parse_settlement
from tests.factories.settlements import fixture

D = Decimal


def _lines(parsed):
    return [(line.type, line.category, line.amount, line.order_ref) for line in parsed.lines]


def test_amazon_v2_summary_signs_and_types():
    parsed = parse_settlement("amazon_v2", fixture("amazon_settlement_v2.tsv"))
    assert (parsed.external_id, parsed.currency, parsed.total_amount) == (
        "18837462011",
        "USD",
        D("8.79"),
    )
    assert str(parsed.deposit_date) == "2026-11-24"
    assert str(parsed.period_start) == "2026-11-08"
    lines = _lines(parsed)
    assert len(lines) == 20  # the summary row is not a line
    first = "112-4829304-5566021"
    assert lines[:4] == [
        (LineType.PRINCIPAL, LineCategory.SALE, D("49.98"), first),
        (LineType.TAX, LineCategory.SALE, D("4.12"), first),
        (LineType.TAX, LineCategory.WITHHELD_TAX, D("-4.12"), first),
        (LineType.FEE, LineCategory.COMMISSION, D("-7.50"), first),
    ]
    refund = [line for line in lines if line[3] == "113-1029384-7712093"]
    assert refund == [
        (LineType.REFUND, LineCategory.SALE, D("-24.99"), "113-1029384-7712093"),
        (LineType.REFUND, LineCategory.SALE, D("-2.06"), "113-1029384-7712093"),
        (LineType.TAX, LineCategory.WITHHELD_TAX, D("2.06"), "113-1029384-7712093"),
        (LineType.FEE, LineCategory.COMMISSION, D("3.75"), "113-1029384-7712093"),  # reversal
        (LineType.FEE, LineCategory.OTHER_FEE, D("-0.75"), "113-1029384-7712093"),
    ]
    tail = lines[-3:]
    assert tail == [
        (LineType.FEE, LineCategory.OTHER_FEE, D("-39.99"), ""),
        (LineType.FEE, LineCategory.SHIPPING_LABEL, D("-8.42"), "114-6620019-2214455"),
        (LineType.ADJUSTMENT, LineCategory.ADJUSTMENT, D("12.50"), ""),
    ]
    assert parsed.lines[0].line_no == 3  # the header is line 1, the summary line 2
    assert sum(line.amount for line in parsed.lines) == parsed.total_amount


def test_amazon_columns_are_mapped_by_header_name():
    rows = [row.split("\t") for row in fixture("amazon_settlement_v2.tsv").decode().splitlines()]
    order = list(reversed(range(len(rows[0]))))  # every column in the opposite order
    shuffled = "\n".join("\t".join(row[i] if i < len(row) else "" for i in order) for row in rows)
    parsed = parse_settlement("amazon_v2", shuffled.encode())
    original = parse_settlement("amazon_v2", fixture("amazon_settlement_v2.tsv"))
    assert _lines(parsed) == _lines(original)


def test_amazon_eu_file_with_decimal_commas_and_day_first_dates():
    text = fixture("amazon_settlement_v2.tsv").decode()
    text = text.replace("2026-11-08 00:00:00 UTC", "08.11.2026 00:00:00 UTC")
    text = text.replace("2026-11-22 00:00:00 UTC", "22.11.2026 00:00:00 UTC")
    text = text.replace("2026-11-24 00:00:00 UTC", "24.11.2026 00:00:00 UTC")
    rows = text.splitlines()
    converted = [rows[0]]
    for row in rows[1:]:
        cells = row.split("\t")
        cells = [
            c.replace(".", ",") if c.replace("-", "").replace(".", "").isdigit() and "." in c else c
            for c in cells
        ]
        converted.append("\t".join(cells))
    converted = [row.replace("USD", "EUR") for row in converted]
    parsed = parse_settlement("amazon_v2", "\n".join(converted).encode())
    assert parsed.currency == "EUR"
    assert parsed.total_amount == D("8.79")
    assert str(parsed.deposit_date) == "2026-11-24"
    assert parsed.lines[0].amount == D("49.98")


def test_shopify_gross_and_fee_signs():
    parsed = parse_settlement("shopify_payments", fixture("shopify_balance_transactions.json"))
    assert (parsed.external_id, parsed.total_amount) == ("623721858", D("143.52"))
    assert _lines(parsed) == [
        (LineType.PRINCIPAL, LineCategory.SALE, D("102.14"), "5841237409851"),
        (LineType.FEE, LineCategory.COMMISSION, D("-3.26"), "5841237409851"),
        (LineType.PRINCIPAL, LineCategory.SALE, D("55.10"), "5841237409877"),
        (LineType.FEE, LineCategory.COMMISSION, D("-1.90"), "5841237409877"),
        (LineType.REFUND, LineCategory.SALE, D("-8.56"), "5841237402233"),
        (LineType.PAYOUT, LineCategory.PAYOUT, D("-143.52"), ""),
    ]
    # The shop's local offset (-05:00) is read as given: the transaction's own date.
    assert str(parsed.period_start) == "2026-11-20"


def test_shopify_payout_with_its_summary_checks_the_sums():
    import json

    document = json.loads(fixture("shopify_balance_transactions.json"))
    document["payout"] = json.loads(fixture("shopify_payout.json"))["payout"]
    parsed = parse_settlement("shopify_payments", json.dumps(document).encode())
    assert parsed.total_amount == D("143.52")
    document["payout"]["summary"]["charges_fee_amount"] = "5.26"
    with pytest.raises(SettlementFormatError, match="gross 148.68 − fees 5.26"):
        parse_settlement("shopify_payments", json.dumps(document).encode())


def test_shopify_payout_alone_is_refused():
    with pytest.raises(SettlementFormatError, match="balance transactions"):
        parse_settlement("shopify_payments", fixture("shopify_payout.json"))


def test_ebay_booking_entry_gives_the_sign_and_a_sale_is_split():
    parsed = parse_settlement("ebay_finances", fixture("ebay_finances_transactions.json"))
    assert (parsed.external_id, parsed.total_amount) == ("6011234987", D("28.37"))
    sale = "27-11842-90315"
    assert _lines(parsed) == [
        (LineType.PRINCIPAL, LineCategory.SALE, D("65.48"), sale),
        (LineType.TAX, LineCategory.SALE, D("6.14"), sale),
        (LineType.TAX, LineCategory.WITHHELD_TAX, D("-6.14"), sale),
        (LineType.FEE, LineCategory.COMMISSION, D("-9.15"), sale),
        (LineType.FEE, LineCategory.COMMISSION, D("-0.3"), sale),
        (LineType.FEE, LineCategory.SHIPPING_LABEL, D("-8.2"), sale),
        (LineType.FEE, LineCategory.SHIPPING_LABEL, D("7.85"), "27-11830-11207"),  # voided
        (LineType.REFUND, LineCategory.SALE, D("-26.51"), "14-11800-55012"),
        (LineType.TAX, LineCategory.WITHHELD_TAX, D("2.01"), "14-11800-55012"),
        (LineType.FEE, LineCategory.OTHER_FEE, D("-2.81"), sale),  # ad fee, ORDER_ID reference
    ]
    # The sale nets to the seller's amount: 71.62 − 9.45 − 6.14 = 56.03.
    assert sum(line.amount for line in parsed.lines if line.line_no == 1) == D("56.03")


def _amazon_rows():
    return fixture("amazon_settlement_v2.tsv").decode().splitlines()


def test_missing_columns_are_named():
    rows = _amazon_rows()
    header = rows[0].split("\t")
    dropped = [i for i, name in enumerate(header) if name in ("amount", "currency")]
    text = "\n".join(
        "\t".join(c for i, c in enumerate(row.split("\t")) if i not in dropped) for row in rows
    )
    with pytest.raises(SettlementFormatError, match="Line 1: missing column.*currency, amount"):
        parse_settlement("amazon_v2", text.encode())


def test_unknown_currency_is_refused_with_its_line():
    text = "\n".join(_amazon_rows()).replace("\tUSD\t", "\tXYZ\t")
    with pytest.raises(SettlementFormatError, match="Line 2: unknown currency 'XYZ'"):
        parse_settlement("amazon_v2", text.encode())


def test_decimal_comma_in_a_decimal_point_file_names_the_line():
    text = "\n".join(_amazon_rows()).replace("\t-7.50\t", "\t-7,50\t")
    with pytest.raises(SettlementFormatError, match="Line 6: amount '-7,50' has a decimal comma"):
        parse_settlement("amazon_v2", text.encode())


def test_a_line_that_cannot_parse_names_the_line():
    text = "\n".join(_amazon_rows()).replace("\t19.99\t", "\tnineteen\t")
    with pytest.raises(SettlementFormatError, match="Line 11: amount 'nineteen' is not an amount"):
        parse_settlement("amazon_v2", text.encode())


def test_a_truncated_file_does_not_add_up():
    rows = _amazon_rows()[:-2]
    with pytest.raises(
        SettlementFormatError, match="add up to 4.71 USD but the settlement total is 8.79"
    ):
        parse_settlement("amazon_v2", "\n".join(rows).encode())


def test_ebay_bad_booking_entry_and_currency():
    text = fixture("ebay_finances_transactions.json").decode()
    with pytest.raises(SettlementFormatError, match="Line 3: bookingEntry 'SIDEWAYS'"):
        parse_settlement(
            "ebay_finances",
            text.replace(
                '"bookingEntry": "CREDIT",\n      "transactionDate": "2026-11-21T20',
                '"bookingEntry": "SIDEWAYS",\n      "transactionDate": "2026-11-21T20',
            ).encode(),
        )
    with pytest.raises(SettlementFormatError, match="unknown currency 'ZZZ'"):
        parse_settlement("ebay_finances", text.replace('"USD"', '"ZZZ"').encode())


def test_json_that_is_not_json():
    with pytest.raises(SettlementFormatError, match="not valid JSON"):
        parse_settlement("shopify_payments", b"{payout: ")
