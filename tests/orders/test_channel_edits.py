"""A channel's later version of an order: removed units are cancelled and their stock
released, added lines join the order, and what the warehouse already holds is never
taken back by an edit."""

import copy
from datetime import UTC, datetime

import pytest
from django.db import transaction

from inventory.models import Reservation, StockBalance
from inventory.services.verification import find_balance_differences
from orders.models import ChannelOrderPolicy, IngestionError, Order, OrderState
from orders.services import cancellation, holds, in_fulfillment, locking
from orders.services.ingestion import ingest_order
from tests.factories import ChannelFactory, ChannelListingFactory, SkuFactory
from tests.orders.test_ingestion_api import _post, sample

pytestmark = pytest.mark.django_db


def edited(payload: dict, at: str = "2026-11-21T09:00:00-05:00", **current) -> dict:
    """The payload as Shopify sends it after an edit: `current` maps a line's SKU to its
    current_quantity."""
    payload = copy.deepcopy(payload)
    payload["updated_at"] = at
    for line in payload["line_items"]:
        if line["sku"] in current:
            line["current_quantity"] = current[line["sku"]]
    return payload


def reserved_by_line(order: Order) -> dict[str, int]:
    reserved = {}
    for line in order.lines.all():
        reserved[line.channel_sku] = sum(
            Reservation.objects.filter(
                line_reference=line.reference, state=Reservation.State.ACTIVE
            ).values_list("quantity", flat=True)
        )
    return reserved


def assert_stock_consistent(order: Order) -> None:
    """Reservations hold exactly the open units, balances hold exactly the reservations."""
    for line in order.lines.all():
        active = line.allocations.filter(active=True)
        assert sum(a.quantity for a in active) == line.open_quantity, line
    assert reserved_by_line(order) == {
        line.channel_sku: line.open_quantity for line in order.lines.all()
    }
    assert sum(StockBalance.objects.values_list("reserved", flat=True)) == sum(
        Reservation.objects.filter(state=Reservation.State.ACTIVE).values_list(
            "quantity", flat=True
        )
    )
    assert find_balance_differences() == []


def test_a_unit_the_buyer_removed_on_shopify_is_cancelled_and_its_stock_released(api, shop):
    payload = sample("shopify_order.json")
    _post(api, payload)

    response = _post(api, edited(payload, **{"TEE-BLK-M": 1}))

    assert response.status_code == 200, response.json()
    order = Order.objects.get()
    tee = order.lines.get(channel_sku="TEE-BLK-M")
    assert (tee.quantity, tee.quantity_cancelled, tee.state) == (2, 1, "allocated")
    assert order.state == OrderState.RELEASED
    assert reserved_by_line(order) == {"TEE-BLK-M": 1, "MUG-CER-12": 1}
    assert_stock_consistent(order)
    assert order.events.filter(kind="line_cancelled", message__contains="Line 1: 1").exists()
    assert order.history.filter(history_change_reason="updated by the channel").exists()


def test_an_order_whose_every_line_was_removed_is_cancelled_through_the_cancel_path(api, shop):
    payload = sample("shopify_order.json")
    _post(api, payload)

    _post(api, edited(payload, **{"TEE-BLK-M": 0, "MUG-CER-12": 0}))

    order = Order.objects.get()
    assert order.state == OrderState.CANCELLED
    assert set(order.lines.values_list("state", flat=True)) == {"cancelled"}
    assert sum(StockBalance.objects.values_list("reserved", flat=True)) == 0
    assert order.events.filter(to_state="cancelled", kind="state").exists()
    assert_stock_consistent(order)


def test_a_removal_the_order_already_had_is_not_applied_twice(api, shop, cs_user):
    payload = sample("shopify_order.json")
    _post(api, payload)
    tee = Order.objects.get().lines.get(channel_sku="TEE-BLK-M")
    cancellation.cancel_line(line_id=tee.pk, actor=cs_user, quantity=1, reason="buyer called")

    _post(api, edited(payload, **{"TEE-BLK-M": 1}))

    tee.refresh_from_db()
    assert (tee.quantity_cancelled, tee.open_quantity) == (1, 1)
    assert_stock_consistent(Order.objects.get())


def test_a_line_added_on_the_channel_is_mapped_and_routed_like_the_first_ones(api, shop):
    payload = sample("shopify_order.json")
    _post(api, payload)
    more = edited(payload)
    more["line_items"].append({**copy.deepcopy(more["line_items"][1]), "id": 14210000003})
    more["line_items"][2]["quantity"] = 2

    response = _post(api, more)

    assert response.status_code == 200, response.json()
    order = Order.objects.get()
    added = order.lines.get(external_line_id="14210000003")
    assert (added.line_number, added.sku.code, added.quantity, added.state) == (
        3,
        "OUR-MUG-CER-12",
        2,
        "allocated",
    )
    assert order.state == OrderState.RELEASED
    assert order.events.filter(kind="lines_added").exists()
    assert_stock_consistent(order)


def test_an_added_line_without_a_listing_holds_the_order(api, shop):
    payload = sample("shopify_order.json")
    _post(api, payload)
    more = edited(payload)
    more["line_items"].append(
        {**copy.deepcopy(more["line_items"][1]), "id": 14210000004, "sku": "NOT-LISTED"}
    )

    _post(api, more)

    order = Order.objects.get()
    assert order.state == OrderState.ON_HOLD
    assert list(order.holds.values_list("reason", flat=True)) == ["sku_not_mapped"]
    # A held order keeps what it had reserved; the unmapped line has nothing to reserve.
    assert reserved_by_line(order) == {"TEE-BLK-M": 2, "MUG-CER-12": 1, "NOT-LISTED": 0}
    assert find_balance_differences() == []


def test_a_new_order_with_removed_units_arrives_with_them_cancelled(api, shop):
    response = _post(api, edited(sample("shopify_order.json"), **{"TEE-BLK-M": 1}))

    assert response.status_code == 201
    order = Order.objects.get()
    assert order.lines.get(channel_sku="TEE-BLK-M").open_quantity == 1
    assert reserved_by_line(order) == {"TEE-BLK-M": 1, "MUG-CER-12": 1}


def test_the_cancellation_time_is_the_channels_not_the_ingestion_time(api, shop):
    payload = sample("shopify_order.json")
    _post(api, payload)
    cancelled = edited(payload)
    cancelled["cancelled_at"] = "2026-11-21T08:30:00-05:00"

    _post(api, cancelled)

    assert Order.objects.get().cancelled_at == datetime(2026, 11, 21, 13, 30, tzinfo=UTC)


def test_a_new_order_cancelled_on_the_channel_keeps_the_channels_time(api, shop):
    payload = sample("shopify_order.json")
    payload["cancelled_at"] = "2026-11-20T11:00:00-05:00"

    _post(api, payload)

    order = Order.objects.get()
    assert (order.state, order.cancelled_at) == (
        OrderState.CANCELLED,
        datetime(2026, 11, 20, 16, 0, tzinfo=UTC),
    )


def _into_picking(order: Order, actor) -> None:
    with transaction.atomic():
        in_fulfillment.advance_orders(
            orders=[locking.lock_order(order.pk)],
            to_state=OrderState.PICKING,
            actor=actor,
            message="wave",
        )


def test_an_edit_below_what_the_warehouse_holds_is_refused_and_changes_nothing(
    api, shop, warehouse_user
):
    payload = sample("shopify_order.json")
    _post(api, payload)
    order = Order.objects.get()
    _into_picking(order, warehouse_user)
    before = reserved_by_line(order)

    response = _post(api, edited(payload, **{"TEE-BLK-M": 1}))

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "below_fulfilled"
    error = IngestionError.objects.get()
    assert (error.code, error.field) == ("below_fulfilled", "lines")
    assert "Line 1 (TEE-BLK-M)" in error.message
    order.refresh_from_db()
    assert order.state == OrderState.PICKING
    assert order.lines.get(channel_sku="TEE-BLK-M").quantity_cancelled == 0
    assert order.channel_updated_at == datetime(2026, 11, 20, 15, 15, 35, tzinfo=UTC)
    assert reserved_by_line(order) == before


def test_backordered_units_of_an_order_being_picked_can_still_be_removed(
    api, east, rates, stock, warehouse_user, cs_user
):
    channel = ChannelFactory(code="SHOP", kind="shopify", currency="USD", eligible_locations=[east])
    for code, units in (("TEE-BLK-M", 1), ("MUG-CER-12", 5)):
        sku = SkuFactory(code=f"OUR-{code}")
        ChannelListingFactory(channel=channel, sku=sku, channel_sku=code)
        stock(sku, east, units)
    payload = sample("shopify_order.json")
    _post(api, payload)  # 2 tees wanted, 1 in stock
    order = Order.objects.get()
    holds.release_order(order_id=order.pk, actor=cs_user, note="ship what is in stock")
    _into_picking(order, warehouse_user)

    response = _post(api, edited(payload, **{"TEE-BLK-M": 1}))

    assert response.status_code == 200, response.json()
    order.refresh_from_db()
    tee = order.lines.get(channel_sku="TEE-BLK-M")
    assert (tee.quantity_cancelled, tee.open_quantity, tee.state) == (1, 1, "allocated")
    assert order.state == OrderState.PICKING
    assert_stock_consistent(order)


def test_a_line_added_to_an_order_being_picked_is_refused(api, shop, warehouse_user):
    payload = sample("shopify_order.json")
    _post(api, payload)
    _into_picking(Order.objects.get(), warehouse_user)
    more = edited(payload)
    more["line_items"].append({**copy.deepcopy(more["line_items"][1]), "id": 14210000005})

    response = _post(api, more)

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "order_in_fulfillment"
    assert Order.objects.get().lines.count() == 2


def test_a_walmart_line_partly_cancelled_on_the_channel_releases_those_units(
    east, rates, stock, integration_user
):
    channel = ChannelFactory(code="WMT", kind="walmart", currency="USD", eligible_locations=[east])
    # Walmart charges at shipment: an authorized order may ship.
    ChannelOrderPolicy.objects.create(channel=channel, require_captured_payment=False)
    payload = sample("walmart_order.json")
    line = payload["order"]["orderLines"]["orderLine"][0]
    sku = SkuFactory(code="OUR-VITC")
    ChannelListingFactory(channel=channel, sku=sku, channel_sku=line["item"]["sku"])
    stock(sku, east, 10)
    ingest_order(channel=channel, payload=payload, actor=integration_user)
    cancelled = copy.deepcopy(payload)
    line = cancelled["order"]["orderLines"]["orderLine"][0]
    line["statusDate"] += 60_000
    line["orderLineStatuses"]["orderLineStatus"] = [
        {"status": "Created", "statusQuantity": {"unitOfMeasurement": "EACH", "amount": "2"}},
        {"status": "Cancelled", "statusQuantity": {"unitOfMeasurement": "EACH", "amount": "1"}},
    ]

    order = ingest_order(channel=channel, payload=cancelled, actor=integration_user).order

    order.refresh_from_db()
    walmart_line = order.lines.get()
    assert (walmart_line.quantity_cancelled, walmart_line.open_quantity) == (1, 2)
    assert order.state == OrderState.RELEASED
    assert reserved_by_line(order) == {line["item"]["sku"]: 2}
    assert_stock_consistent(order)


def test_a_removed_line_without_a_listing_does_not_hold_the_new_order(api, shop):
    payload = edited(sample("shopify_order.json"), **{"TEE-BLK-M": 0})
    payload["line_items"][0]["sku"] = "NOT-LISTED"
    payload["line_items"][0]["current_quantity"] = 0

    _post(api, payload)

    order = Order.objects.get()
    assert order.state == OrderState.RELEASED
    assert not order.holds.exists()


def test_our_own_format_lowers_a_line_by_sending_the_new_quantity(
    east, rates, stock, integration_user
):
    channel = ChannelFactory(code="B2B", kind="b2b", currency="USD", eligible_locations=[east])
    ChannelOrderPolicy.objects.create(channel=channel, require_captured_payment=False)
    sku = SkuFactory(code="OUR-TEE")
    ChannelListingFactory(channel=channel, sku=sku, channel_sku="TEE")
    stock(sku, east, 10)
    payload = {
        "external_id": "PO-7",
        "placed_at": "2026-11-20T09:30:00Z",
        "updated_at": "2026-11-20T09:30:00Z",
        "currency": "USD",
        "payment_status": "authorized",
        "ship_to": {
            "name": "Ada Buyer",
            "line1": "1 Main St",
            "city": "Columbus",
            "region": "OH",
            "postal_code": "43215",
            "country": "US",
        },
        "lines": [{"line_id": "1", "sku": "TEE", "quantity": 5, "unit_price": "10.00"}],
    }
    ingest_order(channel=channel, payload=payload, actor=integration_user)
    lowered = copy.deepcopy(payload)
    lowered["updated_at"] = "2026-11-20T10:00:00Z"
    lowered["lines"][0]["quantity"] = 3

    order = ingest_order(channel=channel, payload=lowered, actor=integration_user).order

    line = order.lines.get()
    assert (line.quantity, line.quantity_cancelled, line.open_quantity) == (5, 2, 3)
    assert reserved_by_line(order) == {"TEE": 3}
    assert_stock_consistent(order)


def ebay_two_lines() -> dict:
    """The eBay sample with a second line (a case, 1 × 19.99) beside the headphones."""
    payload = sample("ebay_order.json")
    case = copy.deepcopy(payload["lineItems"][0])
    case.update(
        lineItemId="10072845510028",
        legacyItemId="386120456790",
        sku="EB-CASE-BT200",
        title="Carry case BT200",
        lineItemCost={"value": "19.99", "currency": "USD"},
        taxes=[],
        ebayCollectAndRemitTaxes=[],
    )
    payload["lineItems"].append(case)
    return payload


def refund_case(payload: dict, at: str) -> dict:
    """eBay drops one line of a multi-line order by refunding it (issueRefund refundItems)."""
    payload = copy.deepcopy(payload)
    payload["lastModifiedDate"] = at
    payload["orderPaymentStatus"] = "PARTIALLY_REFUNDED"
    payload["lineItems"][1]["refunds"] = [
        {"amount": {"value": "19.99", "currency": "USD"}, "refundId": "5000012345"}
    ]
    return payload


@pytest.fixture
def ebay(east, rates, stock):
    channel = ChannelFactory(code="EBAY", kind="ebay", currency="USD", eligible_locations=[east])
    ChannelOrderPolicy.objects.create(channel=channel)
    for channel_sku, code in (("EB-HDPH-BT200", "OUR-HDPH"), ("EB-CASE-BT200", "OUR-CASE")):
        sku = SkuFactory(code=code)
        ChannelListingFactory(channel=channel, sku=sku, channel_sku=channel_sku)
        stock(sku, east, 5)
    return channel


def test_an_ebay_line_refunded_before_shipping_arrives_cancelled_and_unreserved(
    ebay, integration_user
):
    payload = refund_case(ebay_two_lines(), "2026-11-20T18:30:00.000Z")

    order = ingest_order(channel=ebay, payload=payload, actor=integration_user).order

    order.refresh_from_db()
    case = order.lines.get(channel_sku="EB-CASE-BT200")
    assert (case.quantity_cancelled, case.open_quantity, case.state) == (1, 0, "cancelled")
    assert order.state == OrderState.RELEASED
    assert reserved_by_line(order) == {"EB-HDPH-BT200": 1, "EB-CASE-BT200": 0}
    assert_stock_consistent(order)


def test_an_ebay_line_refunded_after_ingestion_releases_its_units(ebay, integration_user):
    first = ebay_two_lines()
    ingest_order(channel=ebay, payload=first, actor=integration_user)

    order = ingest_order(
        channel=ebay,
        payload=refund_case(first, "2026-11-20T19:00:00.000Z"),
        actor=integration_user,
    ).order

    order.refresh_from_db()
    case = order.lines.get(channel_sku="EB-CASE-BT200")
    assert (case.quantity_cancelled, case.open_quantity) == (1, 0)
    assert order.state == OrderState.RELEASED
    assert reserved_by_line(order) == {"EB-HDPH-BT200": 1, "EB-CASE-BT200": 0}
    assert_stock_consistent(order)
