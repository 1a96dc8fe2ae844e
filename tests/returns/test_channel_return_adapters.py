"""The channels' own returns read into one shape: amounts as Decimal from their text,
signs and time zones as each channel means them, report columns by name, and a refusal
that names the field (or the report line and column)."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from returns.adapters import AdapterError, parse_report, parse_return
from tests.channel_samples import CHANNEL_FIXTURES


def text(name: str) -> str:
    return (CHANNEL_FIXTURES / "returns" / name).read_text()


def shopify_refund() -> dict:
    return json.loads(text("shopify_refund_webhook.json"), parse_float=Decimal)


def mfn(header_and_rows: list[list[str]]) -> str:
    return "\n".join("\t".join(row) for row in header_and_rows) + "\n"


def test_the_shopify_refund_is_read_from_its_transactions_in_utc():
    parsed = parse_return("shopify", shopify_refund())

    assert (parsed.return_id, parsed.order_external_id) == ("930112233401", "5841237402233")
    (line,) = parsed.lines
    assert (line.external_line_id, line.channel_sku, line.quantity) == (
        "14209990007",
        "SOAP-LAV-100",
        1,
    )
    assert (parsed.refund.reference, parsed.refund.amount, parsed.refund.currency) == (
        "930112233401",
        Decimal("8.56"),
        "USD",
    )
    assert str(parsed.refund.amount) == "8.56"  # from the text "8.56", not a float
    # 14:29:58-05:00 is 19:29:58 UTC.
    assert parsed.refund.refunded_at == datetime(2026, 11, 21, 19, 29, 58, tzinfo=UTC)


def test_a_shopify_refund_whose_transaction_did_not_succeed_moved_no_money():
    payload = shopify_refund()
    payload["transactions"][0]["status"] = "pending"

    assert parse_return("shopify", payload).refund is None


def test_a_shopify_refund_settling_a_shopify_return_is_known_by_the_return():
    payload = shopify_refund()
    payload["return"] = {"id": 7701, "admin_graphql_api_id": "gid://shopify/Return/7701"}

    parsed = parse_return("shopify", payload)

    assert (parsed.return_id, parsed.refund.reference) == ("return:7701", "930112233401")


def test_an_ebay_amount_sent_as_a_json_number_is_read_exactly_and_only_when_actual():
    payload = json.loads(text("ebay_return.json"))  # plain floats, as a careless caller would
    payload["summary"]["buyerTotalRefund"]["actualRefundAmount"] = {"value": 0.3, "currency": "USD"}

    parsed = parse_return("ebay", payload)
    estimated_only = parse_return("ebay", json.loads(text("ebay_return.json")))

    assert parsed.refund.amount == Decimal("0.3")
    assert estimated_only.refund is None  # estimatedRefundAmount 59.98 is not a refund
    assert estimated_only.requested_at == datetime(2026, 11, 24, 17, 40, 12, tzinfo=UTC)
    assert estimated_only.lines[0].external_item_id == "386120456789"


def test_a_return_of_another_channel_is_refused_naming_what_is_missing():
    with pytest.raises(AdapterError) as refused:
        parse_return("ebay", shopify_refund())

    assert refused.value.code == "wrong_shape"
    assert "summary.returnId" in str(refused.value)


def test_the_mfn_report_is_read_by_column_name_whatever_the_order_or_spelling():
    rows = [
        ["merchant sku", "return quantity", "AMAZON RMA ID", "order id", "refunded amount"]
        + ["currency_code"],
        ["AMZ-TEE-BLK-M", "1", "R1", "113-1029384-7712093", "27.05", "usd"],
    ]

    (entry,) = parse_report("amazon", mfn(rows)).entries

    parsed = entry.parsed
    assert (parsed.order_external_id, parsed.return_id, parsed.lines[0].channel_sku) == (
        "113-1029384-7712093",
        "R1",
        "AMZ-TEE-BLK-M",
    )
    assert (parsed.refund.amount, parsed.refund.currency) == (Decimal("27.05"), "USD")


def test_a_refunded_row_without_its_currency_is_refused_naming_line_and_column():
    rows = [
        ["Order ID", "Amazon RMA ID", "Merchant SKU", "Return quantity", "Refunded Amount"],
        ["113-1029384-7712093", "R1", "AMZ-TEE-BLK-M", "1", "27.05"],
    ]

    (entry,) = parse_report("amazon", mfn(rows)).entries

    assert entry.parsed is None
    assert (entry.error.field, entry.line_numbers) == ("rows[2].Currency code", (2,))


def test_a_european_mfn_report_reads_decimal_commas_and_day_first_dates():
    header = text("amazon_returns_mfn.tsv").splitlines()[0].split("\t")
    row = dict.fromkeys(header, "")
    row |= {
        "Order ID": "302-1111111-2222222",
        "Amazon RMA ID": "DeEU1RRMA",
        "Merchant SKU": "AMZ-TEE-BLK-M",
        "Return quantity": "1",
        "Currency code": "EUR",
        "Order Amount": "1.141,18",
        "Refunded Amount": "27,05",
        "Return request date": "14.03.2026",
    }

    report = parse_report("amazon", mfn([header, [row[name] for name in header]]))

    parsed = report.entries[0].parsed
    assert (parsed.refund.amount, parsed.refund.currency) == (Decimal("27.05"), "EUR")
    assert parsed.requested_at == datetime(2026, 3, 14, tzinfo=UTC)


def test_a_report_mixing_decimal_commas_and_points_is_refused_whole():
    rows = [
        ["Order ID", "Amazon RMA ID", "Merchant SKU", "Return quantity", "Refunded Amount"],
        ["1", "R1", "A", "1", "27,05"],
        ["2", "R2", "B", "1", "27.05"],
    ]

    with pytest.raises(AdapterError) as refused:
        parse_report("amazon", mfn(rows))

    assert (refused.value.code, refused.value.field) == (
        "mixed_decimal_separators",
        "rows[2].Refunded Amount",
    )


def test_the_rows_of_one_amazon_rma_are_one_return_and_a_bad_row_is_refused_alone():
    rows = [
        ["Order ID", "Amazon RMA ID", "Merchant SKU", "Return quantity", "Currency code"]
        + ["Refunded Amount"],
        ["113-1", "R1", "TEE", "1", "USD", "10.00"],
        ["113-1", "R1", "MUG", "2", "USD", "5.50"],
        ["113-2", "R2", "SOAP", "two", "USD", ""],
    ]

    first, second = parse_report("amazon", mfn(rows)).entries

    assert first.line_numbers == (2, 3)
    assert [(line.channel_sku, line.quantity) for line in first.parsed.lines] == [
        ("TEE", 1),
        ("MUG", 2),
    ]
    assert first.parsed.refund.amount == Decimal("15.50")
    assert (second.line_numbers, second.parsed) == ((4,), None)
    assert second.error.field == "rows[4].Return quantity"


def test_the_fba_report_keeps_each_licence_plate_and_its_disposition_as_data():
    report = parse_report("amazon", text("amazon_returns_fba.tsv"))

    assert report.source_format == "amazon_fba_returns"
    third = report.entries[2].parsed
    assert (third.return_id, third.order_external_id, third.lines[0].quantity) == (
        "LPNRR8812345680",
        "114-5512009-2210457",
        2,
    )
    assert third.lines[0].reason == "DEFECTIVE" and "Reimbursed" in third.lines[0].note
    assert third.requested_at == datetime(2026, 11, 26, 21, 17, 55, tzinfo=UTC)
    assert all(entry.parsed.refund is None for entry in report.entries)


def test_a_file_that_is_no_returns_report_is_refused_naming_the_expected_columns():
    settlement = (CHANNEL_FIXTURES / "settlements" / "amazon_settlement_v2.tsv").read_text()

    with pytest.raises(AdapterError) as refused:
        parse_report("amazon", settlement)

    assert (refused.value.field, refused.value.code) == ("header", "unknown_report")
    assert "Amazon RMA ID" in str(refused.value)
