"""Refunds of an order the buyer paid in another currency than the shop's (Shopify
presentment money): the channel is told, and the buyer gets back, what they paid in their
currency; the shop's amounts are what settles and posts. Never more than was paid, in
either currency."""

from decimal import Decimal

import pytest

from erp.errors import ValidationFailed
from erp.events import subscribe, unsubscribe
from erp.models import OutboxMessage
from orders.models import OrderLine
from returns.models import Refund
from returns.services.refunds import REFUND_POSTED, record_channel_refund, request_refund
from tests.factories import EndpointFactory, SkuFactory
from tests.factories.returns import ShippedLine, shipped_order

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def posted_events():
    events = []
    handler = subscribe(REFUND_POSTED)(events.append)
    yield events
    unsubscribe(REFUND_POSTED, handler)


@pytest.fixture
def mug(db):
    return SkuFactory(code="MUG", product_family="kitchen")


@pytest.fixture
def euro_order(shop, policy, node, tee, mug):
    """Shopify order #1042 (orders/shopify_order.json) on a USD shop, paid in EUR
    (tests/orders/test_adapters_shopify.buyer_paid_in_euros): two tees 2 × 24.99 − 5.00 +
    tax 2.59 USD (2 × 23.02 − 4.61 + 2.39 EUR) and a mug 44.99 + tax 2.59 USD (41.45 + 2.38
    EUR), shipping 6.99 USD (6.44 EUR); totals 102.14 USD, 94.10 EUR."""
    policy.refund_endpoint = EndpointFactory(code="shop-refunds")
    policy.refund_timing = "on_authorization"
    policy.save()
    order = shipped_order(
        shop,
        [
            ShippedLine(tee, 2, D("24.99"), tax=D("2.59"), discount=D("5.00")),
            ShippedLine(mug, 1, D("44.99"), tax=D("2.59")),
        ],
        location=node,
        shipping_total=D("6.99"),
        external_id="5841237409851",
        order_number="#1042",
        currency="USD",
        presentment_currency="EUR",
        presentment_total=D("94.10"),
        presentment_tax_total=D("4.77"),
        presentment_discount_total=D("4.61"),
        presentment_shipping_total=D("6.44"),
    )
    assert order.total == D("102.14")
    for sku, price, tax, discount in ((tee, "23.02", "2.39", "4.61"), (mug, "41.45", "2.38", "0")):
        OrderLine.objects.filter(order=order, sku=sku).update(
            presentment_unit_price=D(price),
            presentment_tax=D(tax),
            presentment_discount=D(discount),
        )
    return order


def test_a_euro_buyer_is_refunded_in_euros_and_the_shop_posts_dollars(
    euro_order, tee, changed_mind, authorize, cs_user, posted_events
):
    rma = authorize(euro_order, [(tee, 1, changed_mind)])

    refund = request_refund(rma_id=rma.pk, actor=cs_user)

    # The shop's money, what settles and posts: 24.99 − 2.50 + 1.30 (as the Shopify
    # refund sample, 23.79).
    assert (refund.currency, refund.amount) == ("USD", D("23.79"))
    # The buyer's: what they paid for one tee, 23.02 − 2.31 + 1.20, which the channel is
    # told to give back.
    assert (refund.presentment_currency, refund.presentment_amount) == ("EUR", D("21.91"))
    line = refund.lines.get()
    assert (line.presentment_items_amount, line.presentment_tax_amount) == (D("20.71"), D("1.20"))
    notice = OutboxMessage.objects.get().payload["notice"]
    assert (notice["currency"], notice["total"]) == ("EUR", "21.91")
    assert [(n["item_amount"], n["tax_amount"]) for n in notice["lines"]] == [("20.71", "1.20")]
    (event,) = posted_events
    assert (event.payload["currency"], event.payload["amount"]) == ("USD", "23.79")
    assert (event.payload["presentment_currency"], event.payload["presentment_amount"]) == (
        "EUR",
        "21.91",
    )


def test_an_agreed_amount_is_told_to_the_channel_in_the_buyers_money(
    euro_order, tee, changed_mind, authorize, cs_user
):
    rma = authorize(euro_order, [(tee, 1, changed_mind)])

    refund = request_refund(rma_id=rma.pk, actor=cs_user, amount=D("11.90"))

    # 11.90 of the computed 23.79 USD is the same share of the buyer's 21.91 EUR.
    assert (refund.amount, refund.presentment_amount) == (D("11.90"), D("10.96"))
    notice = OutboxMessage.objects.get().payload["notice"]
    assert (notice["currency"], notice["total"]) == ("EUR", "10.96")
    told = sum(D(n["item_amount"]) + D(n["tax_amount"]) for n in notice["lines"])
    assert told + D(notice["shipping_amount"]) - D(notice["restocking_fee"]) == D("10.96")


def test_refunding_everything_gives_back_exactly_what_the_buyer_paid(
    euro_order, tee, mug, authorize, defective, cs_user
):
    """Our fault: shipping goes back too; every cent of both totals and no more."""
    rma = authorize(euro_order, [(tee, 2, defective), (mug, 1, defective)])

    refund = request_refund(rma_id=rma.pk, actor=cs_user, amount=D("102.14"))

    assert (refund.amount, refund.presentment_amount) == (D("102.14"), D("94.10"))


def test_a_channel_refund_in_the_buyers_currency_is_recorded_in_both(
    euro_order, tee, changed_mind, authorize, cs_user, integration_user
):
    rma = authorize(euro_order, [(tee, 1, changed_mind)])

    refund = record_channel_refund(
        rma_id=rma.pk, actor=integration_user, amount="21.91", currency="EUR", reference="r-1"
    )

    assert (refund.presentment_currency, refund.presentment_amount) == ("EUR", D("21.91"))
    assert (refund.currency, refund.amount) == ("USD", D("23.79"))


def test_a_refund_for_more_than_the_buyer_paid_is_refused_and_writes_nothing(
    euro_order, tee, mug, defective, authorize, cs_user, integration_user
):
    rma = authorize(euro_order, [(tee, 2, defective), (mug, 1, defective)])

    with pytest.raises(ValidationFailed) as refused:
        record_channel_refund(
            rma_id=rma.pk, actor=integration_user, amount="94.11", currency="EUR", reference="r-2"
        )

    error = refused.value.errors[0]
    assert (error.field, error.code) == ("amount", "exceeds_paid")
    assert "The buyer paid 94.10 EUR" in error.message
    with pytest.raises(ValidationFailed) as refused:
        request_refund(rma_id=rma.pk, actor=cs_user, amount=D("102.15"))
    assert (refused.value.errors[0].field, refused.value.errors[0].code) == (
        "amount",
        "exceeds_paid",
    )
    assert not Refund.objects.exists()


def test_a_refund_in_a_currency_the_order_was_never_paid_in_is_refused(
    euro_order, tee, changed_mind, authorize, integration_user
):
    rma = authorize(euro_order, [(tee, 1, changed_mind)])

    with pytest.raises(ValidationFailed) as refused:
        record_channel_refund(
            rma_id=rma.pk, actor=integration_user, amount="10", currency="GBP", reference="r-3"
        )

    assert refused.value.errors[0].code == "currency_mismatch"
    assert not Refund.objects.exists()
