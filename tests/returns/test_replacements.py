"""A no-charge replacement created from an RMA: an order through orders' manual-order
service, naming the RMA, once."""

import pytest
from django.urls import reverse

from erp.errors import Conflict, ValidationFailed
from orders.models import Order
from returns.services.replacements import create_replacement
from tests.factories import ChannelFactory, ChannelListingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def phone_channel(node, tee):
    channel = ChannelFactory(code="PHONE", kind="manual", eligible_locations=[node])
    ChannelListingFactory(channel=channel, sku=tee, channel_sku="TEE")
    return channel


def test_a_replacement_ships_the_rma_units_again_at_no_charge(
    tee_order, tee, defective, authorize, phone_channel, cs_user
):
    rma = authorize(tee_order, [(tee, 2, defective)])

    order = create_replacement(rma_id=rma.pk, channel_code="PHONE", actor=cs_user).order

    assert (order.origin, order.replaces_rma, order.total) == ("replacement", rma.number, 0)
    assert order.ship_city == tee_order.ship_city
    line = order.lines.get()
    assert (line.sku, line.quantity, line.unit_price) == (tee, 2, 0)
    with pytest.raises(Conflict):
        create_replacement(rma_id=rma.pk, channel_code="PHONE", actor=cs_user)
    assert Order.objects.filter(replaces_rma=rma.number).count() == 1


def test_a_replacement_on_a_marketplace_channel_is_refused(
    tee_order, tee, defective, authorize, phone_channel, shop, cs_user
):
    rma = authorize(tee_order, [(tee, 1, defective)])

    with pytest.raises(ValidationFailed) as refused:
        create_replacement(rma_id=rma.pk, channel_code=shop.code, actor=cs_user)

    assert refused.value.errors[0].field == "channel"
    assert not Order.objects.filter(replaces_rma=rma.number).exists()


def test_the_rma_page_offers_the_replacement_and_it_opens_the_new_order(
    client, tee_order, tee, defective, authorize, phone_channel, cs_user
):
    rma = authorize(tee_order, [(tee, 1, defective)])
    client.force_login(cs_user)
    url = reverse("returns:replacement", args=[rma.pk])
    assert url in client.get(reverse("returns:detail", args=[rma.pk])).content.decode()

    response = client.post(url, {"channel": "PHONE"})

    order = Order.objects.get(replaces_rma=rma.number)
    assert response["Location"] == reverse("orders:detail", args=[order.pk])
    assert "Already replaced by" in client.get(url).content.decode()
