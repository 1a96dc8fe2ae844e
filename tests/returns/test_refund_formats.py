"""Refund confirmations in each channel's format, checked against shared/samples/outbound."""

import json
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from erp.errors import ValidationFailed
from returns.channel_formats import (
    FeedRequest,
    OutboundRequest,
    RefundNotice,
    RefundNoticeLine,
    RefundTaxLine,
    RefundTransaction,
    build_refund_request,
    lookup_before_formatting,
    shopify,
)
from returns.channel_formats.base import allocate
from tests.channel_samples import assert_same_shape, sample

EASTERN = timezone(timedelta(hours=-5))
POSTED = datetime(2026, 11, 21, 14, 29, 58, tzinfo=EASTERN)
ALL_KINDS = ("shopify", "amazon", "ebay", "walmart", "woocommerce", "b2b", "manual")
D = Decimal


def line(external_line_id, quantity, item, tax="0.00", number=1, **fields) -> RefundNoticeLine:
    return RefundNoticeLine(
        line_number=number,
        external_line_id=external_line_id,
        quantity=quantity,
        item_amount=D(item),
        tax_amount=D(tax),
        **fields,
    )


def refused(kind: str, notice: RefundNotice) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        build_refund_request(kind, notice)
    return caught.value


def error_of(caught: ValidationFailed) -> tuple[str, str]:
    return caught.errors[0].field, caught.errors[0].code


def wire(request: OutboundRequest) -> str:
    """The body as it leaves: plain json.dumps, no Decimal-aware encoder."""
    return json.dumps(request.body, ensure_ascii=False)


# --- Shopify ------------------------------------------------------------------------------


@pytest.fixture
def shopify_notice():
    """Order #1042 (orders/shopify_order.json): one tee back (24.99 − 2.50 discount + 1.30
    tax), restocked at the shop's location, refunded on the sale transaction."""
    return RefundNotice(
        channel_kind="shopify",
        order_external_id="5841237409851",
        order_number="#1042",
        refund_id=12,
        refund_reference="RF-000012",
        currency="USD",
        reason_code="wrong_size",
        reason_label="Wrong size",
        note="Returned: wrong size",
        created_at=POSTED,
        total=D("23.79"),
        restock=True,
        notify_customer=True,
        channel_location_id="71234500001",
        transactions=(
            RefundTransaction(
                parent_id="4211908801", amount=D("23.79"), gateway="shopify_payments"
            ),
        ),
        lines=(line("14210000001", 1, "22.49", "1.30", channel_sku="TEE-BLK-M"),),
    )


@pytest.fixture
def calculation():
    """What POST …/refunds/calculate.json answers for that tee (Shopify's documented shape)."""
    return {
        "refund": {
            "currency": "USD",
            "shipping": {"amount": "0.00", "tax": "0.00", "maximum_refundable": "6.99"},
            "refund_line_items": [
                {
                    "quantity": 1,
                    "line_item_id": 14210000001,
                    "location_id": 71234500001,
                    "restock_type": "return",
                    "price": "24.99",
                    "subtotal": "22.49",
                    "total_tax": "1.30",
                }
            ],
            "transactions": [
                {
                    "order_id": 5841237409851,
                    "kind": "suggested_refund",
                    "gateway": "shopify_payments",
                    "parent_id": 4211908801,
                    "amount": "23.79",
                    "currency": "USD",
                    "maximum_refundable": "102.14",
                }
            ],
        }
    }


def test_shopify_refund_matches_the_sample(shopify_notice):
    request = build_refund_request("shopify", shopify_notice)

    assert request.body == sample("shopify_refund_create.json")
    assert (request.method, request.path, request.topic) == (
        "POST",
        "/admin/api/{version}/orders/5841237409851/refunds.json",
        "refund.shopify",
    )
    assert request.dedupe_key == "refund.shopify:5841237409851:RF-000012"
    assert '"amount": 23.79' in wire(request)


def test_shopify_names_order_line_items_with_restock_type_per_restock(shopify_notice):
    kept = build_refund_request("shopify", replace(shopify_notice, restock=False)).body

    assert kept["refund"]["refund_line_items"] == [
        {"line_item_id": 14210000001, "quantity": 1, "restock_type": "no_restock"}
    ]
    returned = build_refund_request("shopify", shopify_notice).body
    assert returned["refund"]["refund_line_items"][0]["restock_type"] == "return"
    assert returned["refund"]["refund_line_items"][0]["location_id"] == 71234500001


def test_shopify_restocking_needs_a_location(shopify_notice):
    error = refused("shopify", replace(shopify_notice, channel_location_id=""))

    assert error_of(error) == ("channel_location_id", "required")


def test_shopify_refunds_shipping_and_keeps_the_restocking_fee(shopify_notice):
    # 22.49 + 1.30 + shipping 6.99 + its tax 0.40 − fee 2.25 = 28.93
    notice = replace(
        shopify_notice,
        shipping_amount=D("6.99"),
        shipping_tax=D("0.40"),
        restocking_fee=D("2.25"),
        total=D("28.93"),
        transactions=(RefundTransaction(parent_id="4211908801", amount=D("28.93")),),
    )

    body = build_refund_request("shopify", notice).body

    assert body["refund"]["shipping"] == {"amount": 6.99}
    assert body["refund"]["transactions"] == [
        {"parent_id": 4211908801, "amount": 28.93, "kind": "refund"}
    ]
    expected = sample("shopify_refund_create.json")
    expected["refund"]["shipping"] = {"amount": 1.0}
    del expected["refund"]["transactions"][0]["gateway"]
    assert_same_shape(body, expected)


def test_shopify_transactions_must_pay_the_total(shopify_notice):
    notice = replace(
        shopify_notice,
        transactions=(RefundTransaction(parent_id="4211908801", amount=D("20.00")),),
    )

    assert error_of(refused("shopify", notice)) == ("transactions", "total_mismatch")


def test_shopify_record_only_refund_moves_no_money(shopify_notice):
    notice = replace(shopify_notice, record_only=True, transactions=())

    body = build_refund_request("shopify", notice).body

    assert body["refund"]["transactions"] == []
    assert lookup_before_formatting("shopify", notice) is None


def test_shopify_without_the_calculation_is_refused_and_the_lookup_is_named(
    shopify_notice, calculation
):
    notice = replace(shopify_notice, transactions=(), channel_location_id="")

    error = refused("shopify", replace(notice, restock=False))
    assert error_of(error) == ("transactions", "refund_calculation_required")
    lookup = lookup_before_formatting("shopify", notice)
    assert (lookup.method, lookup.path) == (
        "POST",
        "/admin/api/{version}/orders/5841237409851/refunds/calculate.json",
    )
    assert lookup.body == {
        "refund": {
            "currency": "USD",
            "refund_line_items": [
                {"line_item_id": 14210000001, "quantity": 1, "restock_type": "return"}
            ],
        }
    }

    resolved = shopify.resolve_refund_calculation(notice, calculation)

    assert lookup_before_formatting("shopify", resolved) is None
    assert build_refund_request("shopify", resolved).body == sample("shopify_refund_create.json")


def test_shopify_spreads_the_total_over_the_suggested_payments(shopify_notice, calculation):
    calculation["refund"]["transactions"] = [
        {"parent_id": 4211900001, "gateway": "gift_card", "maximum_refundable": "10.00"},
        {"parent_id": 4211908801, "gateway": "shopify_payments", "maximum_refundable": "92.14"},
    ]

    resolved = shopify.resolve_refund_calculation(
        replace(shopify_notice, transactions=()), calculation
    )

    assert build_refund_request("shopify", resolved).body["refund"]["transactions"] == [
        {"parent_id": 4211900001, "amount": 10.0, "kind": "refund", "gateway": "gift_card"},
        {
            "parent_id": 4211908801,
            "amount": 13.79,
            "kind": "refund",
            "gateway": "shopify_payments",
        },
    ]
    calculation["refund"]["transactions"][1]["maximum_refundable"] = "5.00"
    with pytest.raises(ValidationFailed) as caught:
        shopify.resolve_refund_calculation(replace(shopify_notice, transactions=()), calculation)
    assert error_of(caught.value) == ("total", "exceeds_refundable")


def test_shopify_line_item_ids_must_be_shopify_ids(shopify_notice):
    notice = replace(shopify_notice, lines=(line("TEE-1", 1, "22.49", "1.30"),))

    assert error_of(refused("shopify", notice)) == ("lines[0].external_line_id", "invalid")


# --- eBay ---------------------------------------------------------------------------------


@pytest.fixture
def ebay_notice():
    """Order 27-11842-90315 (orders/ebay_order.json): a partial refund agreed with the buyer."""
    return RefundNotice(
        channel_kind="ebay",
        order_external_id="27-11842-90315",
        refund_id=31,
        refund_reference="RF-000031",
        currency="USD",
        reason_code="not_as_described",
        reason_is_our_fault=True,
        note="Left ear cup rattles; partial refund agreed with buyer",
        created_at=POSTED,
        total=D("15.00"),
        lines=(line("10072845510027", 1, "15.00", external_item_id="386120456789:655001234567"),),
    )


def test_ebay_issue_refund_matches_the_sample(ebay_notice):
    request = build_refund_request("ebay", ebay_notice)

    assert request.body == sample("ebay_issue_refund.json")
    assert request.path == "/sell/fulfillment/v1/order/27-11842-90315/issue_refund"
    assert request.topic == "refund.ebay"


def test_ebay_refunds_each_line_since_it_cannot_cancel_one(ebay_notice):
    # Shipping 5.50 split by value (1.76 + 3.74), the fee 1.00 by items (0.32 + 0.68).
    notice = replace(
        ebay_notice,
        lines=(
            line("10072845510027", 1, "19.0", "1.52", number=1),
            line("10072845510028", 2, "40.5", "3.24", number=2),
        ),
        shipping_amount=D("5.50"),
        restocking_fee=D("1.00"),
        total=D("68.76"),
    )

    body = build_refund_request("ebay", notice).body

    assert "orderLevelRefundAmount" not in body
    assert [(item["lineItemId"], item["refundAmount"]) for item in body["refundItems"]] == [
        ("10072845510027", {"value": "21.96", "currency": "USD"}),
        ("10072845510028", {"value": "46.80", "currency": "USD"}),
    ]
    assert sum(D(item["refundAmount"]["value"]) for item in body["refundItems"]) == D("68.76")
    assert_same_shape(body, sample("ebay_issue_refund.json"))


def test_ebay_amounts_are_text_with_two_places(ebay_notice):
    notice = replace(ebay_notice, lines=(line("10072845510027", 1, "0.1", "0.2"),), total=D("0.3"))

    item = build_refund_request("ebay", notice).body["refundItems"][0]

    assert item["refundAmount"] == {"value": "0.30", "currency": "USD"}


def test_ebay_merges_two_refund_lines_of_one_line_item(ebay_notice):
    notice = replace(
        ebay_notice,
        lines=(line("10072845510027", 1, "10.00"), line("10072845510027", 1, "5.00")),
    )

    items = build_refund_request("ebay", notice).body["refundItems"]

    assert items == [
        {"refundAmount": {"value": "15.00", "currency": "USD"}, "lineItemId": "10072845510027"}
    ]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"reason_code": "changed_mind"}, "BUYER_RETURN"),
        ({"reason_code": "wrong_size"}, "BUYER_RETURN"),
        ({"reason_code": "arrived-damaged"}, "ITEM_NOT_AS_DESCRIBED"),
        ({"reason_code": "q-42", "reason_is_our_fault": True}, "ITEM_NOT_AS_DESCRIBED"),
        ({"reason_code": "parcel_lost"}, "ITEM_NOT_RECEIVED"),
        ({"reason_code": "other_adjustment"}, "OTHER_ADJUSTMENT"),
    ],
)
def test_ebay_reason_is_one_of_ebays_values(ebay_notice, fields, reason):
    notice = replace(ebay_notice, **{"reason_is_our_fault": False, **fields})

    assert build_refund_request("ebay", notice).body["reasonForRefund"] == reason


def test_ebay_comment_is_at_most_100_characters(ebay_notice):
    body = build_refund_request("ebay", replace(ebay_notice, note="Rattles. " * 30)).body

    assert len(body["comment"]) <= 100
    assert body["comment"].endswith("…")


def test_ebay_cannot_only_record_a_refund(ebay_notice):
    error = refused("ebay", replace(ebay_notice, record_only=True))

    assert error_of(error) == ("record_only", "unsupported")


# --- Walmart ------------------------------------------------------------------------------


@pytest.fixture
def walmart_notice():
    """Purchase order 1796277083022 (orders/walmart_order.json), line 1: part of a bottle's
    price back, charge and tax apart."""
    return RefundNotice(
        channel_kind="walmart",
        order_external_id="1796277083022",
        order_number="5281956426648",
        extra={"customer_order_id": "5281956426648"},
        refund_id=41,
        refund_reference="RF-000041",
        currency="USD",
        reason_code="damaged",
        reason_is_damage=True,
        note="One bottle arrived with a broken seal",
        created_at=POSTED,
        total=D("2.19"),
        lines=(line("1", 1, "2.00", "0.19", channel_sku="WM-VITC-500-60"),),
    )


def _walmart_charges(body) -> list[dict]:
    return [
        charge
        for order_line in body["orderRefund"]["orderLines"]["orderLine"]
        for refund in order_line["refunds"]["refund"]
        for charge in refund["refundCharges"]["refundCharge"]
    ]


def test_walmart_refund_order_lines_matches_the_sample(walmart_notice):
    request = build_refund_request("walmart", walmart_notice)

    assert request.body == sample("walmart_refund_order_lines.json")
    assert request.path == "/v3/orders/1796277083022/refund"
    assert '"amount": -2.0' in wire(request) and '"amount": -0.19' in wire(request)


def test_walmart_amounts_are_negative_with_charge_and_tax_apart(walmart_notice):
    # Two lines of one SKU, shipping 4.00 + 0.38 tax split by value, a fee of 1.00.
    notice = replace(
        walmart_notice,
        lines=(
            line("1", 1, "12.97", "1.23", number=1, channel_sku="WM-VITC-500-60"),
            line("2", 1, "12.97", "1.23", number=2, channel_sku="WM-VITC-500-60"),
        ),
        shipping_amount=D("4.00"),
        shipping_tax=D("0.38"),
        restocking_fee=D("1.00"),
        total=D("31.78"),
    )

    body = build_refund_request("walmart", notice).body

    lines = body["orderRefund"]["orderLines"]["orderLine"]
    assert [entry["lineNumber"] for entry in lines] == ["1", "2"]
    first = [c["charge"] for c in lines[0]["refunds"]["refund"][0]["refundCharges"]["refundCharge"]]
    assert [
        (
            c["chargeType"],
            c["chargeName"],
            c["chargeAmount"]["amount"],
            c["tax"]["taxAmount"]["amount"],
        )
        for c in first
    ] == [("PRODUCT", "ItemPrice", -12.47, -1.23), ("SHIPPING", "Shipping", -2.0, -0.19)]
    charges = _walmart_charges(body)
    assert all(c["charge"]["chargeAmount"]["amount"] < 0 for c in charges)
    sent = sum(
        D(repr(c["charge"]["chargeAmount"]["amount"]))
        + D(repr(c["charge"]["tax"]["taxAmount"]["amount"]))
        for c in charges
    )
    assert sent == -D("31.78")
    assert_same_shape(body, sample("walmart_refund_order_lines.json"))


def test_walmart_amounts_have_no_float_error(walmart_notice):
    notice = replace(walmart_notice, lines=(line("1", 1, "0.1", "0.2"),), total=D("0.3"))

    request = build_refund_request("walmart", notice)

    charge = _walmart_charges(request.body)[0]["charge"]
    assert (charge["chargeAmount"]["amount"], charge["tax"]["taxAmount"]["amount"]) == (-0.1, -0.2)
    assert not re.search(r"\d\.\d{3}", wire(request))


def test_walmart_untaxed_line_sends_zero_not_negative_zero(walmart_notice):
    notice = replace(walmart_notice, lines=(line("1", 1, "2.00"),), total=D("2.00"))

    request = build_refund_request("walmart", notice)

    assert '"amount": 0.0' in wire(request) and "-0.0" not in wire(request)


def test_walmart_reason_per_line_from_its_enum(walmart_notice):
    notice = replace(
        walmart_notice,
        lines=(
            line("1", 1, "2.00", "0.19", number=1),
            line("2", 1, "5.00", number=2, reason_code="changed_mind"),
            line("3", 1, "5.00", number=3, reason_code="ItemNotAsAdvertised"),
            line("4", 1, "5.00", number=4, reason_code="q-42", reason_is_our_fault=True),
        ),
        total=D("17.19"),
    )

    reasons = [
        c["refundReason"] for c in _walmart_charges(build_refund_request("walmart", notice).body)
    ]

    assert reasons == [
        "DamagedItem",
        "CustomerChangedMind",
        "ItemNotAsAdvertised",
        "ItemNotAsAdvertised",
    ]


def test_walmart_tax_name_follows_the_order_charge(walmart_notice):
    notice = replace(
        walmart_notice,
        lines=(
            line(
                "1",
                1,
                "2.00",
                "0.19",
                channel_tax_lines=(RefundTaxLine(tax_id="Tax2", amount=D("0.19")),),
            ),
        ),
    )

    charge = _walmart_charges(build_refund_request("walmart", notice).body)[0]["charge"]

    assert charge["tax"]["taxName"] == "Tax2"


def test_walmart_cannot_only_record_a_refund(walmart_notice):
    assert error_of(refused("walmart", replace(walmart_notice, record_only=True))) == (
        "record_only",
        "unsupported",
    )


# --- WooCommerce --------------------------------------------------------------------------


@pytest.fixture
def woocommerce_notice():
    """Order 7315 (orders/woocommerce_order.json): the mug, with its 19 % MwSt. (rate 1)."""
    return RefundNotice(
        channel_kind="woocommerce",
        order_external_id="7315",
        order_number="7315",
        refund_id=51,
        refund_reference="RF-000051",
        currency="EUR",
        reason_code="damaged",
        reason_is_damage=True,
        note="Becher beschädigt angekommen",
        created_at=POSTED,
        total=D("21.41"),
        lines=(
            line(
                "411",
                1,
                "17.99",
                "3.42",
                channel_sku="WC-MUG-CER-12",
                channel_tax_lines=(RefundTaxLine(tax_id="1", amount=D("3.42")),),
            ),
        ),
    )


def test_woocommerce_refund_matches_the_sample(woocommerce_notice):
    request = build_refund_request("woocommerce", woocommerce_notice)

    assert request.body == sample("woocommerce_refund_create.json")
    assert (request.method, request.path) == ("POST", "/wp-json/wc/v3/orders/7315/refunds")
    assert request.body["amount"] == "21.41"


def test_woocommerce_api_refund_follows_record_only(woocommerce_notice):
    body = build_refund_request("woocommerce", replace(woocommerce_notice, record_only=True)).body

    assert body["api_refund"] is False
    assert_same_shape(body, sample("woocommerce_refund_create.json"))
    assert build_refund_request("woocommerce", woocommerce_notice).body["api_refund"] is True


def test_woocommerce_does_not_restock_when_told_not_to(woocommerce_notice):
    body = build_refund_request("woocommerce", replace(woocommerce_notice, restock=False)).body

    assert body["api_restock"] is False
    assert "api_restock" not in build_refund_request("woocommerce", woocommerce_notice).body


def test_woocommerce_amount_is_positive_with_shipping_and_fee(woocommerce_notice):
    # 17.99 + 3.42 + shipping 4.90 + 0.93 − fee 1.80 = 25.44
    notice = replace(
        woocommerce_notice,
        shipping_amount=D("4.90"),
        shipping_tax=D("0.93"),
        restocking_fee=D("1.80"),
        total=D("25.44"),
    )

    body = build_refund_request("woocommerce", notice).body

    assert body["amount"] == "25.44"
    assert body["line_items"] == [
        {
            "id": "411",
            "quantity": 1,
            "refund_total": 16.19,
            "refund_tax": [{"id": "1", "refund_total": 3.42}],
        }
    ]


def test_woocommerce_amounts_have_no_float_error(woocommerce_notice):
    notice = replace(
        woocommerce_notice,
        lines=(
            line(
                "411",
                1,
                "0.1",
                "0.2",
                channel_tax_lines=(RefundTaxLine(tax_id="1", amount=D("0.2")),),
            ),
        ),
        total=D("0.30"),
    )

    request = build_refund_request("woocommerce", notice)

    assert request.body["amount"] == "0.30"
    assert request.body["line_items"][0]["refund_total"] == 0.1
    assert not re.search(r"\d\.\d{3}", wire(request))


def test_woocommerce_needs_the_tax_rate_of_a_taxed_line(woocommerce_notice):
    notice = replace(woocommerce_notice, lines=(line("411", 1, "17.99", "3.42"),))

    assert error_of(refused("woocommerce", notice)) == ("lines[0].channel_tax_lines", "required")


def test_a_lines_taxes_must_add_up_to_its_tax(woocommerce_notice):
    notice = replace(
        woocommerce_notice,
        lines=(
            line(
                "411",
                1,
                "17.99",
                "3.42",
                channel_tax_lines=(RefundTaxLine(tax_id="1", amount=D("3.40")),),
            ),
        ),
    )

    assert error_of(refused("woocommerce", notice)) == (
        "lines[0].channel_tax_lines",
        "tax_mismatch",
    )


# --- Amazon -------------------------------------------------------------------------------


@pytest.fixture
def amazon_notice():
    """Order 112-4829304-5566021 (orders/amazon_order.json): one of the two tees back."""
    return RefundNotice(
        channel_kind="amazon",
        order_external_id="112-4829304-5566021",
        extra={"marketplace_id": "ATVPDKIKX0DER"},
        refund_id=61,
        refund_reference="RF-000061",
        currency="USD",
        reason_code="too_small",
        created_at=POSTED,
        total=D("27.05"),
        lines=(line("49381726354012", 1, "24.99", "2.06", channel_sku="AMZ-TEE-BLK-M"),),
    )


HEADER = (
    "order-id\torder-item-id\tadjustment-reason-code\tcurrency\titem-price-adj\titem-tax-adj\t"
    "shipping-price-adj\tshipping-tax-adj\tgift-wrap-price-adj\tgift-wrap-tax-adj\t"
    "quantity-cancelled"
)


def test_amazon_refund_is_an_order_adjustments_feed(amazon_notice):
    request = build_refund_request("amazon", amazon_notice)

    assert isinstance(request, FeedRequest)
    assert (request.method, request.path) == ("POST", "/feeds/2021-06-30/feeds")
    assert request.body == {
        "feedType": "POST_FLAT_FILE_PAYMENT_ADJUSTMENT_DATA",
        "marketplaceIds": ["ATVPDKIKX0DER"],
        "inputFeedDocumentId": "{feedDocumentId}",
    }
    assert (request.prerequisite.method, request.prerequisite.path) == (
        "POST",
        "/feeds/2021-06-30/documents",
    )
    assert request.prerequisite.body == {"contentType": request.document_content_type}
    assert request.document == (
        f"{HEADER}\n"
        "112-4829304-5566021\t49381726354012\tCustomerReturn\tUSD\t24.99\t2.06\t0.00\t0.00\t"
        "0.00\t0.00\t\n"
    )


def test_amazon_amounts_are_positive_with_the_fee_kept_from_the_item(amazon_notice):
    notice = replace(
        amazon_notice,
        lines=(
            line("49381726354012", 1, "24.99", "2.06"),
            line("49381726354013", 1, "8.49", "0.88", reason_code="wrong_item"),
        ),
        shipping_amount=D("3.00"),
        restocking_fee=D("2.50"),
        total=D("36.92"),
    )

    rows = [row.split("\t") for row in build_refund_request("amazon", notice).document.splitlines()]

    header, *items = rows
    assert [dict(zip(header, row, strict=True))["adjustment-reason-code"] for row in items] == [
        "CustomerReturn",
        "DifferentItem",
    ]
    money_columns = ("item-price-adj", "item-tax-adj", "shipping-price-adj", "shipping-tax-adj")
    sent = sum(
        D(dict(zip(header, row, strict=True))[column]) for row in items for column in money_columns
    )
    assert sent == D("36.92")
    assert all(
        D(dict(zip(header, row, strict=True))[column]) >= 0
        for row in items
        for column in money_columns
    )


def test_amazon_needs_the_marketplace(amazon_notice):
    assert error_of(refused("amazon", replace(amazon_notice, extra={}))) == (
        "extra.marketplace_id",
        "required",
    )


def test_amazon_cannot_only_record_a_refund(amazon_notice):
    assert error_of(refused("amazon", replace(amazon_notice, record_only=True))) == (
        "record_only",
        "unsupported",
    )


# --- B2B portal and manual orders ---------------------------------------------------------


@pytest.fixture
def b2b_notice():
    return RefundNotice(
        channel_kind="b2b",
        order_external_id="PO-2026-0042",
        order_number="B2B-0042",
        refund_id=71,
        refund_reference="RF-000071",
        rma_reference="RMA-000123",
        currency="USD",
        reason_code="defective",
        reason_is_our_fault=True,
        note="Two units dead on arrival",
        created_at=POSTED,
        shipping_amount=D("6.00"),
        total=D("64.20"),
        lines=(
            line("1", 2, "49.98", "4.12", 1, channel_sku="TEE-BLK-M"),
            line("2", 1, "4.10", "0.00", 2, channel_sku="MUG-12", reason_code="changed_mind"),
        ),
    )


def test_b2b_refund_is_our_own_format(b2b_notice):
    request = build_refund_request("b2b", b2b_notice)

    assert request.body == {
        "refund_reference": "RF-000071",
        "rma_number": "RMA-000123",
        "channel_kind": "b2b",
        "order_external_id": "PO-2026-0042",
        "order_number": "B2B-0042",
        "currency": "USD",
        "amount": "64.20",
        "items_amount": "54.08",
        "tax_amount": "4.12",
        "shipping_amount": "6.00",
        "shipping_tax": "0.00",
        "restocking_fee": "0.00",
        "posted_at": "2026-11-21T19:29:58Z",
        "reason": "defective",
        "note": "Two units dead on arrival",
        "record_only": False,
        "restock": True,
        "lines": [
            {
                "line_id": "1",
                "channel_sku": "TEE-BLK-M",
                "external_item_id": "",
                "quantity": 2,
                "reason": "defective",
                "items_amount": "49.98",
                "tax_amount": "4.12",
                "restocking_fee": "0.00",
            },
            {
                "line_id": "2",
                "channel_sku": "MUG-12",
                "external_item_id": "",
                "quantity": 1,
                "reason": "changed_mind",
                "items_amount": "4.10",
                "tax_amount": "0.00",
                "restocking_fee": "0.00",
            },
        ],
    }
    assert (request.path, request.topic, request.dedupe_key) == (
        "/orders/PO-2026-0042/refunds",
        "refund.b2b",
        "refund.b2b:PO-2026-0042:RF-000071",
    )


def test_manual_orders_use_the_same_format(b2b_notice):
    request = build_refund_request("manual", replace(b2b_notice, channel_kind="manual"))

    assert request.topic == "refund.manual"
    assert set(request.body) == set(build_refund_request("b2b", b2b_notice).body)


# --- What every channel shares ------------------------------------------------------------


@pytest.fixture
def notices(
    shopify_notice, amazon_notice, ebay_notice, walmart_notice, woocommerce_notice, b2b_notice
):
    return {
        "shopify": shopify_notice,
        "amazon": amazon_notice,
        "ebay": ebay_notice,
        "walmart": walmart_notice,
        "woocommerce": woocommerce_notice,
        "b2b": b2b_notice,
        "manual": replace(b2b_notice, channel_kind="manual"),
    }


def money_sent(kind: str, request: OutboundRequest) -> Decimal:
    """What the request pays the buyer, read back from the body as the channel would."""
    body = request.body
    if kind == "shopify":
        return sum((D(repr(t["amount"])) for t in body["refund"]["transactions"]), D(0))
    if kind == "ebay":
        return sum((D(i["refundAmount"]["value"]) for i in body["refundItems"]), D(0))
    if kind == "walmart":
        return -sum(
            (
                D(repr(c["charge"]["chargeAmount"]["amount"]))
                + D(repr(c["charge"]["tax"]["taxAmount"]["amount"]))
                for c in _walmart_charges(body)
            ),
            D(0),
        )
    if kind == "amazon":
        header, *rows = [row.split("\t") for row in request.document.splitlines()]
        return sum(
            (
                D(value)
                for row in rows
                for name, value in zip(header, row, strict=True)
                if name.endswith("-adj")
            ),
            D(0),
        )
    return D(body["amount"])


def with_shipping_and_fee(notice: RefundNotice) -> RefundNotice:
    """The notice with 3.10 shipping, 0.20 shipping tax and a 1.15 restocking fee."""
    lines_total = notice.total - notice.shipping_amount - notice.shipping_tax
    total = lines_total + notice.restocking_fee + D("3.10") + D("0.20") - D("1.15")
    notice = replace(
        notice,
        shipping_amount=D("3.10"),
        shipping_tax=D("0.20"),
        restocking_fee=D("1.15"),
        total=total,
    )
    if notice.transactions:
        notice = replace(notice, transactions=(replace(notice.transactions[0], amount=total),))
    return notice


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_channel_pays_exactly_the_total(notices, kind):
    notice = with_shipping_and_fee(notices[kind])

    request = build_refund_request(kind, notice)

    assert money_sent(kind, request) == notice.total


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_a_total_that_does_not_add_up_is_refused(notices, kind):
    notice = notices[kind]

    error = refused(kind, replace(notice, total=notice.total + D("0.01")))

    assert error_of(error) == ("total", "total_mismatch")


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_amounts_in_cents_add_up_without_float_error(notices, kind):
    notice = notices[kind]
    first = notice.lines[0]
    taxes = (RefundTaxLine(tax_id="1", amount=D("0.2")),) if first.channel_tax_lines else ()
    lines = (replace(first, item_amount=D("0.1"), tax_amount=D("0.2"), channel_tax_lines=taxes),)
    notice = replace(notice, lines=lines, shipping_amount=D("0.00"), total=D("0.3"))
    if notice.transactions:
        notice = replace(notice, transactions=(replace(notice.transactions[0], amount=D("0.30")),))

    request = build_refund_request(kind, notice)

    assert money_sent(kind, request) == D("0.30")
    assert not re.search(r"\d\.\d{3}", json.dumps(request.as_dict()))


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize("quantity", [0, -1, True, 1.0])
def test_a_quantity_that_is_not_a_positive_whole_number_is_refused(notices, kind, quantity):
    notice = notices[kind]
    lines = (replace(notice.lines[0], quantity=quantity), *notice.lines[1:])

    error = refused(kind, replace(notice, lines=lines))

    assert error_of(error) == ("lines[0].quantity", "invalid_quantity")


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize(
    "field",
    [
        "lines[0].item_amount",
        "lines[0].tax_amount",
        "lines[0].restocking_fee",
        "shipping_amount",
        "shipping_tax",
        "restocking_fee",
        "total",
    ],
)
def test_a_negative_amount_is_refused_naming_the_field(notices, kind, field):
    notice = notices[kind]
    if field.startswith("lines[0]."):
        name = field.removeprefix("lines[0].")
        lines = (replace(notice.lines[0], **{name: D("-1.00")}), *notice.lines[1:])
        notice = replace(notice, lines=lines)
    else:
        notice = replace(notice, **{field: D("-1.00")})

    assert error_of(refused(kind, notice)) == (field, "negative_amount")


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_float_and_fractional_cent_amounts_are_refused(notices, kind):
    notice = notices[kind]

    as_float = refused(kind, replace(notice, total=float(notice.total)))
    assert error_of(as_float) == ("total", "not_decimal")
    lines = (replace(notice.lines[0], item_amount=notice.lines[0].item_amount + D("0.001")),)
    fraction = refused(kind, replace(notice, lines=lines + notice.lines[1:]))
    assert error_of(fraction) == ("lines[0].item_amount", "invalid_precision")


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_a_line_without_the_channels_line_id_is_refused(notices, kind):
    notice = notices[kind]
    lines = (replace(notice.lines[0], external_line_id=""), *notice.lines[1:])

    assert error_of(refused(kind, replace(notice, lines=lines))) == (
        "lines[0].external_line_id",
        "required",
    )


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_a_notice_without_order_lines_or_time_zone_is_refused(notices, kind):
    notice = notices[kind]

    assert error_of(refused(kind, replace(notice, order_external_id=""))) == (
        "order_external_id",
        "required",
    )
    assert error_of(refused(kind, replace(notice, lines=()))) == ("lines", "required")
    naive = replace(notice, created_at=datetime(2026, 11, 21, 19, 29))
    assert error_of(refused(kind, naive)) == ("created_at", "naive_datetime")
    assert error_of(refused(kind, replace(notice, currency="usd"))) == (
        "currency",
        "invalid_currency",
    )


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_line_fees_must_match_the_refunds_fee(notices, kind):
    notice = notices[kind]
    lines = (replace(notice.lines[0], restocking_fee=D("0.50")), *notice.lines[1:])
    notice = replace(notice, lines=lines, restocking_fee=D("0.40"), total=notice.total - D("0.40"))

    assert error_of(refused(kind, notice)) == ("restocking_fee", "restocking_fee_mismatch")


def test_an_unknown_channel_kind_is_refused(b2b_notice):
    assert error_of(refused("etsy", b2b_notice)) == ("channel_kind", "unknown_channel_kind")


def test_a_notice_for_another_channel_is_refused(amazon_notice):
    assert refused("ebay", amazon_notice).errors[0].code == "channel_mismatch"


def test_allocation_spends_every_cent():
    assert allocate(D("1.00"), [D("1"), D("1"), D("1")]) == [D("0.34"), D("0.33"), D("0.33")]
    assert allocate(D("5.50"), [D("0"), D("0")]) == [D("5.50"), D("0.00")]
    assert sum(allocate(D("0.07"), [D("3.33"), D("6.67"), D("0.01")])) == D("0.07")


# --- What the outbox stores ---------------------------------------------------------------


def test_a_notice_survives_the_outbox_as_json(shopify_notice, woocommerce_notice, calculation):
    for notice in (shopify_notice, woocommerce_notice):
        stored = json.loads(json.dumps(notice.as_dict()))
        assert RefundNotice.from_dict(stored) == notice

    pending = replace(shopify_notice, transactions=(), channel_location_id="")
    restored = RefundNotice.from_dict(json.loads(json.dumps(pending.as_dict())))
    resolved = shopify.resolve_refund_calculation(restored, calculation)
    assert build_refund_request("shopify", resolved).body == sample("shopify_refund_create.json")


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_request_is_json_with_a_dedupe_key(notices, kind):
    request = build_refund_request(kind, notices[kind])

    assert isinstance(request, OutboundRequest)
    assert json.loads(json.dumps(request.as_dict()))["body"] == request.body
    assert request.topic == f"refund.{kind}"
    assert request.dedupe_key == (
        f"refund.{kind}:{notices[kind].order_external_id}:{notices[kind].refund_reference}"
    )
