"""Tracking uploads in each channel's format, checked against shared/samples/outbound."""

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from erp.errors import ValidationFailed
from fulfillment.channel_formats import (
    OutboundRequest,
    ShipmentNotice,
    ShipmentNoticeLine,
    build_tracking_upload,
    lookup_before_formatting,
    shopify,
    woocommerce,
)
from tests.channel_samples import assert_same_shape, sample

EASTERN = timezone(timedelta(hours=-5))
ALL_KINDS = ("shopify", "amazon", "ebay", "walmart", "woocommerce", "b2b", "manual")


def line(external_line_id, quantity, number=1, **fields) -> ShipmentNoticeLine:
    return ShipmentNoticeLine(
        line_number=number, external_line_id=external_line_id, quantity=quantity, **fields
    )


def refused(kind: str, notice: ShipmentNotice) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        build_tracking_upload(kind, notice)
    return caught.value


# --- Shopify ------------------------------------------------------------------------------


@pytest.fixture
def fulfillment_orders():
    return sample("shopify_fulfillment_orders.json")


@pytest.fixture
def shopify_notice():
    """Order #1042 (orders/shopify_order.json): both lines in one UPS parcel."""
    return ShipmentNotice(
        channel_kind="shopify",
        order_external_id="5841237409851",
        order_number="#1042",
        shipment_id=311,
        shipment_reference="SH0000311",
        carrier_code="UPS",
        carrier_name="UPS",
        tracking_number="1Z999AA10123456784",
        tracking_url="https://www.ups.com/track?tracknum=1Z999AA10123456784",
        shipped_at=datetime(2026, 11, 21, 11, 45, tzinfo=EASTERN),
        notify_customer=True,
        lines=(line("14210000001", 2, 1), line("14210000002", 1, 2)),
    )


def test_shopify_fulfillment_matches_the_sample(shopify_notice, fulfillment_orders):
    notice = shopify.resolve_fulfillment_orders(shopify_notice, fulfillment_orders)

    request = build_tracking_upload("shopify", notice)

    assert request.body == sample("shopify_fulfillment_create.json")
    assert (request.method, request.path, request.topic) == (
        "POST",
        "/admin/api/{version}/fulfillments.json",
        "tracking.shopify",
    )
    assert request.prerequisite is None


def test_shopify_names_fulfillment_order_line_items_not_order_line_items(
    shopify_notice, fulfillment_orders
):
    notice = shopify.resolve_fulfillment_orders(shopify_notice, fulfillment_orders)

    body = build_tracking_upload("shopify", notice).body
    named = [
        item["id"]
        for group in body["fulfillment"]["line_items_by_fulfillment_order"]
        for item in group["fulfillment_order_line_items"]
    ]

    assert named == [13801234500031, 13801234500032]
    assert 14210000001 not in named and 14210000002 not in named


def test_shopify_without_the_lookup_is_refused_and_the_lookup_is_named(shopify_notice):
    error = refused("shopify", shopify_notice)

    assert error.errors[0].field == "lines[0].fulfillment_order_id"
    assert error.errors[0].code == "fulfillment_order_lookup_required"
    lookup = lookup_before_formatting("shopify", shopify_notice)
    assert (lookup.method, lookup.path) == (
        "GET",
        "/admin/api/{version}/orders/5841237409851/fulfillment_orders.json",
    )


def test_shopify_needs_no_lookup_once_lines_are_resolved(shopify_notice, fulfillment_orders):
    notice = shopify.resolve_fulfillment_orders(shopify_notice, fulfillment_orders)

    assert lookup_before_formatting("shopify", notice) is None
    assert lookup_before_formatting("amazon", shopify_notice) is None


def test_shopify_refuses_more_than_is_left_to_fulfil(shopify_notice, fulfillment_orders):
    fulfillment_orders["fulfillment_orders"][0]["line_items"][0]["fulfillable_quantity"] = 1

    with pytest.raises(ValidationFailed) as caught:
        shopify.assign_fulfillment_order_lines(fulfillment_orders, shopify_notice.lines)

    assert caught.value.errors[0].field == "lines[0].quantity"
    assert caught.value.errors[0].code == "exceeds_fulfillable"


def test_shopify_refuses_a_line_on_no_open_fulfillment_order(shopify_notice, fulfillment_orders):
    fulfillment_orders["fulfillment_orders"][0]["status"] = "closed"

    with pytest.raises(ValidationFailed) as caught:
        shopify.assign_fulfillment_order_lines(fulfillment_orders, shopify_notice.lines)

    assert caught.value.errors[0].field == "lines[0].external_line_id"
    assert caught.value.errors[0].code == "not_fulfillable"


def test_shopify_skips_fulfillment_orders_that_cannot_be_fulfilled(
    shopify_notice, fulfillment_orders
):
    fulfillment_orders["fulfillment_orders"][0]["supported_actions"] = ["release_hold"]

    with pytest.raises(ValidationFailed) as caught:
        shopify.assign_fulfillment_order_lines(fulfillment_orders, shopify_notice.lines)

    assert caught.value.errors[0].code == "not_fulfillable"


def _second_fulfillment_order(fulfillment_orders, *, location_id, fulfillable=1):
    """A copy of the sample's fulfillment order holding the first line's other units."""
    first = fulfillment_orders["fulfillment_orders"][0]
    second = json.loads(json.dumps(first))
    second.update(id=6401234500018, assigned_location_id=location_id)
    second["line_items"] = [
        dict(first["line_items"][0], id=13801234500041, fulfillable_quantity=fulfillable)
    ]
    second["line_items"][0]["fulfillment_order_id"] = 6401234500018
    fulfillment_orders["fulfillment_orders"].append(second)
    return fulfillment_orders


def test_shopify_splits_a_line_over_two_fulfillment_orders_at_one_location(
    shopify_notice, fulfillment_orders
):
    fulfillment_orders = _second_fulfillment_order(fulfillment_orders, location_id=71234500001)
    notice = replace(shopify_notice, lines=(line("14210000001", 3),))

    notice = shopify.resolve_fulfillment_orders(notice, fulfillment_orders)
    body = build_tracking_upload("shopify", notice).body

    groups = body["fulfillment"]["line_items_by_fulfillment_order"]
    assert [
        (group["fulfillment_order_id"], group["fulfillment_order_line_items"]) for group in groups
    ] == [
        (6401234500017, [{"id": 13801234500031, "quantity": 2}]),
        (6401234500018, [{"id": 13801234500041, "quantity": 1}]),
    ]
    assert_same_shape(body, sample("shopify_fulfillment_create.json"))


def test_shopify_keeps_one_fulfillment_at_one_location(shopify_notice, fulfillment_orders):
    fulfillment_orders = _second_fulfillment_order(
        fulfillment_orders, location_id=71234500002, fulfillable=3
    )
    notice = replace(shopify_notice, lines=(line("14210000001", 3),))

    at_second = shopify.assign_fulfillment_order_lines(fulfillment_orders, notice.lines)
    assert [(item.fulfillment_order_id, item.quantity) for item in at_second] == [
        (6401234500018, 3)
    ]

    two_lines = (line("14210000001", 3, 1), line("14210000002", 1, 2))
    with pytest.raises(ValidationFailed) as caught:
        shopify.assign_fulfillment_order_lines(fulfillment_orders, two_lines)
    assert caught.value.errors[0].code == "fulfillment_orders_span_locations"

    with pytest.raises(ValidationFailed) as caught:
        shopify.assign_fulfillment_order_lines(
            fulfillment_orders, notice.lines, location_id=71234500001
        )
    assert caught.value.errors[0].code == "exceeds_fulfillable"


def test_shopify_notify_customer_and_unlisted_carrier(shopify_notice, fulfillment_orders):
    notice = replace(
        shopify.resolve_fulfillment_orders(shopify_notice, fulfillment_orders),
        notify_customer=False,
        carrier_code="REGIO-EXPRESS",
        carrier_name="Regio Express",
    )

    body = build_tracking_upload("shopify", notice).body

    assert body["fulfillment"]["notify_customer"] is False
    assert body["fulfillment"]["tracking_info"]["company"] == "Regio Express"
    assert_same_shape(body, sample("shopify_fulfillment_create.json"))


# --- Amazon -------------------------------------------------------------------------------


@pytest.fixture
def amazon_notice():
    """Order 112-4829304-5566021 (orders/amazon_order.json), shipped at 11:45 New York time."""
    return ShipmentNotice(
        channel_kind="amazon",
        order_external_id="112-4829304-5566021",
        extra={"marketplace_id": "ATVPDKIKX0DER", "is_prime": False},
        shipment_id=1,
        carrier_code="UPS",
        carrier_name="UPS",
        service_code="UPS-GROUND",
        service_name="UPS Ground",
        tracking_number="1Z999AA10123456785",
        shipped_at=datetime(2026, 11, 21, 11, 45, tzinfo=EASTERN),
        lines=(
            line("49381726354012", 2, 1, channel_sku="TEE-BLK-M", external_item_id="B0C1234567"),
            line("49381726354013", 1, 2, channel_sku="MUG-12", external_item_id="B0C7654321"),
        ),
    )


def test_amazon_confirm_shipment_matches_the_sample(amazon_notice):
    request = build_tracking_upload("amazon", amazon_notice)

    assert request.body == sample("amazon_confirm_shipment.json")
    assert request.path == "/orders/v0/orders/112-4829304-5566021/shipmentConfirmation"
    assert request.body["packageDetail"]["shipDate"] == "2026-11-21T16:45:00Z"


def test_amazon_names_order_item_ids_not_asins(amazon_notice):
    items = build_tracking_upload("amazon", amazon_notice).body["packageDetail"]["orderItems"]

    assert [item["orderItemId"] for item in items] == ["49381726354012", "49381726354013"]


def test_amazon_unlisted_carrier_is_other_with_its_name(amazon_notice):
    notice = replace(amazon_notice, carrier_code="REGIO", carrier_name="Regio Express")

    package = build_tracking_upload("amazon", notice).body["packageDetail"]

    assert (package["carrierCode"], package["carrierName"]) == ("Other", "Regio Express")
    expected = sample("amazon_confirm_shipment.json")
    expected["packageDetail"]["carrierName"] = "a name"
    assert_same_shape(build_tracking_upload("amazon", notice).body, expected)


def test_amazon_merges_a_line_shipped_from_two_lots(amazon_notice):
    notice = replace(
        amazon_notice, lines=(line("49381726354012", 1, 1), line("49381726354012", 1, 1))
    )

    items = build_tracking_upload("amazon", notice).body["packageDetail"]["orderItems"]

    assert items == [{"orderItemId": "49381726354012", "quantity": 2}]


def test_amazon_refuses_a_line_without_its_order_item_id(amazon_notice):
    notice = replace(amazon_notice, lines=(line("49381726354012", 2, 1), line("", 1, 2)))

    error = refused("amazon", notice)

    assert (error.errors[0].field, error.errors[0].code) == (
        "lines[1].external_line_id",
        "required",
    )


def test_amazon_refuses_an_order_without_its_marketplace(amazon_notice):
    error = refused("amazon", replace(amazon_notice, extra={}))

    assert error.errors[0].field == "extra.marketplace_id"


# --- eBay ---------------------------------------------------------------------------------


@pytest.fixture
def ebay_notice():
    return ShipmentNotice(
        channel_kind="ebay",
        order_external_id="27-11842-90315",
        shipment_id=412,
        carrier_code="USPS",
        carrier_name="USPS",
        tracking_number="9400 1118 9922 3344 5566 77",
        shipped_at=datetime(2026, 11, 21, 14, 5, tzinfo=EASTERN),
        lines=(line("10072845510027", 1),),
    )


def test_ebay_shipping_fulfillment_matches_the_sample(ebay_notice):
    request = build_tracking_upload("ebay", ebay_notice)

    assert request.body == sample("ebay_create_shipping_fulfillment.json")
    assert request.path == "/sell/fulfillment/v1/order/27-11842-90315/shipping_fulfillment"


def test_ebay_shipped_date_is_utc_with_milliseconds(ebay_notice):
    notice = replace(ebay_notice, shipped_at=datetime(2026, 11, 21, 19, 9, 2, 768912, tzinfo=UTC))

    assert build_tracking_upload("ebay", notice).body["shippedDate"] == "2026-11-21T19:09:02.768Z"


def test_ebay_tracking_number_loses_spaces_and_hyphens(ebay_notice):
    notice = replace(ebay_notice, tracking_number=" 1Z-999-AA1 0123456784 ")

    assert build_tracking_upload("ebay", notice).body["trackingNumber"] == "1Z999AA10123456784"


@pytest.mark.parametrize("number", ["1Z999/AA10", "RR123456785DE#", "9400_1118", "ÄB12345"])
def test_ebay_refuses_tracking_numbers_that_are_not_alphanumeric(ebay_notice, number):
    error = refused("ebay", replace(ebay_notice, tracking_number=number))

    assert (error.errors[0].field, error.errors[0].code) == (
        "tracking_number",
        "invalid_tracking_number",
    )


def test_ebay_refuses_a_line_without_its_line_item_id(ebay_notice):
    error = refused("ebay", replace(ebay_notice, lines=(line("", 1),)))

    assert error.errors[0].field == "lines[0].external_line_id"


# --- Walmart ------------------------------------------------------------------------------


@pytest.fixture
def walmart_notice():
    """Purchase order 1796277083022 (orders/walmart_order.json): line 1, three units."""
    return ShipmentNotice(
        channel_kind="walmart",
        order_external_id="1796277083022",
        order_number="5281956426648",
        seller_order_reference="NW-100482",
        extra={"customer_order_id": "5281956426648"},
        shipment_id=513,
        carrier_code="USPS",
        carrier_name="USPS",
        service_code="VALUE",
        service_name="USPS Ground Advantage",
        tracking_number="9405511899223197428490",
        tracking_url="https://tools.usps.com/go/TrackConfirmAction?tLabels=9405511899223197428490",
        shipped_at=datetime(2026, 11, 21, 18, 30, tzinfo=timezone(timedelta(hours=1))),
        lines=(line("1", 3, channel_sku="WM-VITC-500-60"),),
    )


def test_walmart_ship_order_lines_matches_the_sample(walmart_notice):
    request = build_tracking_upload("walmart", walmart_notice)

    assert request.body == sample("walmart_ship_order_lines.json")
    assert request.path == "/v3/orders/1796277083022/shipping"
    status = request.body["orderShipment"]["orderLines"]["orderLine"][0]["orderLineStatuses"]
    tracking = status["orderLineStatus"][0]["trackingInfo"]
    assert tracking["shipDateTime"] == 1795282200000  # 2026-11-21T17:30:00Z
    assert status["orderLineStatus"][0]["statusQuantity"]["amount"] == "3"


def test_walmart_is_acknowledged_before_shipping(walmart_notice):
    prerequisite = build_tracking_upload("walmart", walmart_notice).prerequisite

    assert (prerequisite.method, prerequisite.path) == (
        "POST",
        "/v3/orders/1796277083022/acknowledge",
    )


def test_walmart_ships_each_line_number_even_for_the_same_sku(walmart_notice):
    notice = replace(
        walmart_notice,
        lines=(
            line("1", 2, 1, channel_sku="WM-VITC-500-60"),
            line("2", 1, 2, channel_sku="WM-VITC-500-60"),
        ),
    )

    body = build_tracking_upload("walmart", notice).body

    lines = body["orderShipment"]["orderLines"]["orderLine"]
    assert [
        (entry["lineNumber"], entry["orderLineStatuses"]["orderLineStatus"][0]["statusQuantity"])
        for entry in lines
    ] == [
        ("1", {"unitOfMeasurement": "EACH", "amount": "2"}),
        ("2", {"unitOfMeasurement": "EACH", "amount": "1"}),
    ]
    assert_same_shape(body, sample("walmart_ship_order_lines.json"))


def test_walmart_unlisted_carrier_is_other_carrier_with_its_url(walmart_notice):
    notice = replace(walmart_notice, carrier_code="REGIO", carrier_name="Regio Express")

    body = build_tracking_upload("walmart", notice).body
    tracking = body["orderShipment"]["orderLines"]["orderLine"][0]["orderLineStatuses"][
        "orderLineStatus"
    ][0]["trackingInfo"]

    assert tracking["carrierName"] == {"otherCarrier": "Regio Express"}
    assert tracking["trackingURL"].startswith("https://")
    assert refused("walmart", replace(notice, tracking_url="")).errors[0].field == "tracking_url"


def test_walmart_carrier_aliases_use_walmarts_spelling(walmart_notice):
    notice = replace(walmart_notice, carrier_code="FEDEX-SMARTPOST", carrier_name="FedEx SmartPost")

    body = build_tracking_upload("walmart", notice).body
    tracking = body["orderShipment"]["orderLines"]["orderLine"][0]["orderLineStatuses"][
        "orderLineStatus"
    ][0]["trackingInfo"]

    assert tracking["carrierName"] == {"carrier": "FEDEXSP"}


@pytest.mark.parametrize(("reference", "code"), [("", "required"), ("NW-" + "9" * 28, "too_long")])
def test_walmart_requires_our_seller_order_id(walmart_notice, reference, code):
    error = refused("walmart", replace(walmart_notice, seller_order_reference=reference))

    assert (error.errors[0].field, error.errors[0].code) == ("seller_order_reference", code)


def test_walmart_requires_a_method_code_it_knows(walmart_notice):
    notice = replace(walmart_notice, service_code="UPS-GROUND", service_name="UPS Ground")

    assert refused("walmart", notice).errors[0].field == "service_code"


# --- WooCommerce --------------------------------------------------------------------------


@pytest.fixture
def woocommerce_notice():
    """Order 7315 (orders/woocommerce_order.json), a DHL Paket parcel from a German store."""
    return ShipmentNotice(
        channel_kind="woocommerce",
        order_external_id="7315",
        order_number="7315",
        shipment_id=614,
        carrier_code="DHL-PAKET",
        carrier_name="DHL Paket",
        tracking_number="00340434161234567890",
        tracking_url="https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode=%1$s",
        shipped_at=datetime(2026, 11, 21, 14, 10, tzinfo=UTC),
        channel_timezone="Europe/Berlin",
        lines=(line("411", 1, 1), line("420", 2, 2)),
    )


def test_woocommerce_tracking_then_completion_match_the_samples(woocommerce_notice):
    request = build_tracking_upload("woocommerce", woocommerce_notice)

    tracking, complete = request.sequence()
    assert tracking.body == sample("woocommerce_shipment_tracking.json")
    assert (tracking.method, tracking.path) == (
        "POST",
        "/wp-json/wc-shipment-tracking/v3/orders/7315/shipment-trackings",
    )
    assert complete.body == sample("woocommerce_order_complete.json")
    assert (complete.method, complete.path) == ("PUT", "/wp-json/wc/v3/orders/7315")
    assert tracking.dedupe_key != complete.dedupe_key


def test_woocommerce_partial_shipment_leaves_the_order_open(woocommerce_notice):
    request = build_tracking_upload(
        "woocommerce", replace(woocommerce_notice, completes_order=False)
    )

    assert request.sequence() == (request,)


def test_woocommerce_date_shipped_is_the_stores_day(woocommerce_notice):
    late = replace(woocommerce_notice, shipped_at=datetime(2026, 11, 21, 23, 30, tzinfo=UTC))

    body = build_tracking_upload("woocommerce", late).body

    assert body["date_shipped"] == "2026-11-22"  # 00:30 in Berlin


def test_woocommerce_without_a_link_names_a_predefined_provider(woocommerce_notice):
    notice = replace(woocommerce_notice, carrier_name="DHL", tracking_url="")

    body = build_tracking_upload("woocommerce", notice).body

    assert body == {
        "tracking_provider": "DHL",
        "tracking_number": "00340434161234567890",
        "date_shipped": "2026-11-21",
    }


def test_woocommerce_order_note_fallback_matches_the_sample(woocommerce_notice):
    request = woocommerce.build_order_note(
        woocommerce_notice, template="Ihr Paket ist unterwegs: {carrier} {tracking_number}"
    )

    assert request.body == sample("woocommerce_order_note.json")
    assert (request.method, request.path) == ("POST", "/wp-json/wc/v3/orders/7315/notes")


# --- B2B portal and manual orders ---------------------------------------------------------


@pytest.fixture
def b2b_notice():
    return ShipmentNotice(
        channel_kind="b2b",
        order_external_id="PO-2026-0042",
        order_number="B2B-0042",
        shipment_id=715,
        shipment_reference="SH0000715",
        carrier_code="UPS",
        carrier_name="UPS",
        service_code="UPS-GROUND",
        service_name="UPS Ground",
        tracking_number="1Z999AA10123456784",
        shipped_at=datetime(2026, 11, 21, 17, 45, tzinfo=timezone(timedelta(hours=1))),
        ship_from_location_code="EAST",
        lines=(line("1", 2, 1, channel_sku="TEE-BLK-M"), line("2", 1, 2, channel_sku="MUG-12")),
    )


def test_b2b_tracking_is_our_own_format(b2b_notice):
    request = build_tracking_upload("b2b", b2b_notice)

    assert request.body == {
        "order_external_id": "PO-2026-0042",
        "order_number": "B2B-0042",
        "shipment_reference": "SH0000715",
        "carrier": {"code": "UPS", "name": "UPS"},
        "service": {"code": "UPS-GROUND", "name": "UPS Ground"},
        "tracking_number": "1Z999AA10123456784",
        "tracking_url": "",
        "shipped_at": "2026-11-21T16:45:00Z",
        "ship_from": "EAST",
        "completes_order": True,
        "lines": [
            {"line_id": "1", "sku": "TEE-BLK-M", "quantity": 2},
            {"line_id": "2", "sku": "MUG-12", "quantity": 1},
        ],
    }
    assert (request.path, request.topic) == ("/orders/PO-2026-0042/shipments", "tracking.b2b")


def test_manual_orders_use_the_same_format(b2b_notice):
    request = build_tracking_upload("manual", replace(b2b_notice, channel_kind="manual"))

    assert request.topic == "tracking.manual"
    assert set(request.body) == set(build_tracking_upload("b2b", b2b_notice).body)


# --- Refusals every channel shares ----------------------------------------------------------


@pytest.fixture
def notices(
    shopify_notice,
    fulfillment_orders,
    amazon_notice,
    ebay_notice,
    walmart_notice,
    woocommerce_notice,
    b2b_notice,
):
    return {
        "shopify": shopify.resolve_fulfillment_orders(shopify_notice, fulfillment_orders),
        "amazon": amazon_notice,
        "ebay": ebay_notice,
        "walmart": walmart_notice,
        "woocommerce": woocommerce_notice,
        "b2b": b2b_notice,
        "manual": replace(b2b_notice, channel_kind="manual"),
    }


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize("number", ["", "   "])
def test_a_missing_tracking_number_is_refused(notices, kind, number):
    error = refused(kind, replace(notices[kind], tracking_number=number))

    assert (error.errors[0].field, error.errors[0].code) == ("tracking_number", "required")


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize("quantity", [0, -1, True, 1.0])
def test_a_quantity_that_is_not_a_positive_whole_number_is_refused(notices, kind, quantity):
    notice = notices[kind]
    lines = (replace(notice.lines[0], quantity=quantity), *notice.lines[1:])

    error = refused(kind, replace(notice, lines=lines))

    assert (error.errors[0].field, error.errors[0].code) == (
        "lines[0].quantity",
        "invalid_quantity",
    )


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_a_naive_ship_time_is_refused(notices, kind):
    error = refused(kind, replace(notices[kind], shipped_at=datetime(2026, 11, 21, 16, 45)))

    assert (error.errors[0].field, error.errors[0].code) == ("shipped_at", "naive_datetime")


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_a_notice_without_lines_or_carrier_is_refused(notices, kind):
    assert refused(kind, replace(notices[kind], lines=())).errors[0].field == "lines"
    no_carrier = replace(notices[kind], carrier_code="", carrier_name="")
    assert refused(kind, no_carrier).errors[0].field == "carrier_code"


def test_an_unknown_channel_kind_is_refused(b2b_notice):
    error = refused("etsy", b2b_notice)

    assert (error.errors[0].field, error.errors[0].code) == ("channel_kind", "unknown_channel_kind")


def test_a_notice_for_another_channel_is_refused(amazon_notice):
    assert refused("ebay", amazon_notice).errors[0].code == "channel_mismatch"


# --- What the outbox stores ---------------------------------------------------------------


def test_a_notice_survives_the_outbox_as_json(shopify_notice, fulfillment_orders):
    stored = json.loads(json.dumps(shopify_notice.as_dict()))

    restored = ShipmentNotice.from_dict(stored)

    assert restored == shopify_notice
    resolved = shopify.resolve_fulfillment_orders(restored, fulfillment_orders)
    assert build_tracking_upload("shopify", resolved).body == sample(
        "shopify_fulfillment_create.json"
    )


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_request_is_json_with_a_dedupe_key(notices, kind):
    request = build_tracking_upload(kind, notices[kind])

    assert isinstance(request, OutboundRequest)
    assert json.loads(json.dumps(request.as_dict()))["body"] == request.body
    assert request.dedupe_key.startswith(f"{request.topic}:")
    assert request.topic == f"tracking.{kind}"
