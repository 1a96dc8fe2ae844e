"""Channel money as the channel means it: a Shopify buyer's presentment currency beside the
shop's, Amazon gift wrap in the totals, and Amazon Pending orders' money unknown until
Amazon sends it."""

import copy
from decimal import Decimal

import pytest
from django.urls import reverse

from erp.errors import Conflict
from inventory.models import Reservation, StockBalance
from orders.models import ChannelOrderPolicy, Order, OrderState
from orders.services import holds
from tests.factories import ChannelFactory, ChannelListingFactory, SkuFactory
from tests.orders.test_adapters_shopify import buyer_paid_in_euros
from tests.orders.test_ingestion_api import _post, sample

pytestmark = pytest.mark.django_db


@pytest.fixture
def amazon(east, rates, stock):
    channel = ChannelFactory(code="AMZ", kind="amazon", currency="USD", eligible_locations=[east])
    # Amazon charges at shipment confirmation: an authorised (Unshipped) order may ship.
    ChannelOrderPolicy.objects.create(channel=channel, require_captured_payment=False)
    for code in ("AMZ-TEE-BLK-M", "AMZ-SOAP-LAV"):
        sku = SkuFactory(code=f"OUR-{code}")
        ChannelListingFactory(channel=channel, sku=sku, channel_sku=code)
        stock(sku, east, 10)
    return channel


def test_a_shopify_order_paid_in_the_buyers_currency_is_accepted_with_both_amounts(
    api, shop, client, cs_user
):
    response = _post(api, buyer_paid_in_euros(sample("shopify_order.json")))

    assert response.status_code == 201, response.json()
    order = Order.objects.get()
    assert order.state == OrderState.RELEASED
    assert (order.currency, order.total, order.tax_total, order.shipping_total) == (
        "USD",
        Decimal("102.14"),
        Decimal("5.18"),
        Decimal("6.99"),
    )
    assert (
        order.presentment_currency,
        order.presentment_total,
        order.presentment_tax_total,
        order.presentment_discount_total,
        order.presentment_shipping_total,
    ) == ("EUR", Decimal("94.10"), Decimal("4.77"), Decimal("4.61"), Decimal("6.44"))
    tee = order.lines.get(channel_sku="TEE-BLK-M")
    assert (tee.unit_price, tee.presentment_unit_price) == (Decimal("24.99"), Decimal("23.02"))
    assert (tee.presentment_tax, tee.presentment_discount) == (Decimal("2.39"), Decimal("4.61"))

    shown = api.get(f"/api/v1/orders/{order.pk}/").json()
    assert (shown["currency"], shown["total"]) == ("USD", "102.14")
    assert (shown["presentment_currency"], shown["presentment_total"]) == ("EUR", "94.10")
    tee_shown = next(line for line in shown["lines"] if line["channel_sku"] == "TEE-BLK-M")
    assert (tee_shown["unit_price"], tee_shown["presentment_unit_price"]) == ("24.99", "23.02")

    client.force_login(cs_user)
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "102.14 USD" in page
    assert "buyer paid <strong>94.10 EUR</strong>" in page
    assert "23.02 EUR" in page


def test_an_order_paid_in_the_shops_currency_has_no_presentment_amounts(api, shop):
    _post(api, sample("shopify_order.json"))

    order = Order.objects.get()
    assert (order.presentment_currency, order.presentment_total) == ("", None)
    assert api.get(f"/api/v1/orders/{order.pk}/").json()["presentment_total"] is None


def test_amazon_gift_wrap_is_stored_and_the_parts_add_up_to_the_total(api, amazon):
    payload = sample("amazon_order.json")
    item = payload["items"]["OrderItems"][0]
    item["BuyerInfo"] = {
        "GiftWrapPrice": {"CurrencyCode": "USD", "Amount": "3.99"},
        "GiftWrapTax": {"CurrencyCode": "USD", "Amount": "0.33"},
    }
    payload["order"]["OrderTotal"]["Amount"] = "67.79"

    response = _post(api, payload, code="AMZ")

    assert response.status_code == 201, response.json()
    order = Order.objects.get()
    lines = sum(line.unit_price * line.quantity for line in order.lines.all())
    assert order.gift_wrap_total == Decimal("3.99")
    assert (
        lines
        + order.shipping_total
        + order.gift_wrap_total
        - order.discount_total
        + order.tax_total
        == order.total
        == Decimal("67.79")
    )


def pending(payload: dict) -> dict:
    """The sample as Amazon sends it while the order is Pending: no prices, no address."""
    payload = copy.deepcopy(payload)
    payload["order"]["OrderStatus"] = "Pending"
    payload["order"]["LastUpdateDate"] = "2026-11-20T15:05:00Z"
    for key in ("ShippingAddress", "OrderTotal"):
        payload["order"].pop(key)
    for item in payload["items"]["OrderItems"]:
        for key in list(item):
            if key.endswith(("Price", "Tax", "Discount")):
                item.pop(key)
    return payload


def test_an_amazon_pending_order_has_unknown_money_and_waits_for_amazon_unreserved(
    api, amazon, client, cs_user
):
    response = _post(api, pending(sample("amazon_order.json")), code="AMZ")

    assert response.status_code == 201, response.json()
    assert response.json()["order"]["total"] is None
    order = Order.objects.get()
    assert (order.total, order.tax_total, order.shipping_total) == (None, None, None)
    assert set(order.lines.values_list("unit_price", "tax", "discount")) == {(None, None, None)}
    assert order.state == OrderState.ON_HOLD
    hold = order.holds.get()
    assert hold.reason == "awaiting_channel"
    assert "Amazon Pending" in hold.detail
    assert not Reservation.objects.exists()
    shown = api.get(f"/api/v1/orders/{order.pk}/").json()
    assert (shown["total"], shown["lines"][0]["unit_price"]) == (None, None)
    client.force_login(cs_user)
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "Not priced yet" in page
    assert "0.00" not in page


def test_customer_service_cannot_release_a_pending_order_before_amazon_prices_it(
    api, amazon, cs_user
):
    _post(api, pending(sample("amazon_order.json")), code="AMZ")
    order = Order.objects.get()

    with pytest.raises(Conflict) as refused:
        holds.release_order(order_id=order.pk, actor=cs_user, note="looks fine")

    assert refused.value.errors[0].code == "awaiting_channel"
    order.refresh_from_db()
    assert order.state == OrderState.ON_HOLD
    assert not Reservation.objects.exists()


def test_the_unshipped_update_prices_the_pending_order_and_routes_it(api, amazon):
    _post(api, pending(sample("amazon_order.json")), code="AMZ")

    response = _post(api, sample("amazon_order.json"), code="AMZ")

    assert response.json()["outcome"] == "updated"
    order = Order.objects.get()
    assert order.total == Decimal("63.47")
    assert sorted(order.lines.values_list("unit_price", "tax")) == [
        (Decimal("8.49"), Decimal("0.88")),
        (Decimal("24.99"), Decimal("4.12")),
    ]
    assert order.state == OrderState.RELEASED
    assert order.holds.get().resolved_at is not None
    assert sum(StockBalance.objects.values_list("reserved", flat=True)) == 3
