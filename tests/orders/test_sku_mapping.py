"""A channel's line maps to our SKU by one rule (orders.services.sku_mapping): through the
channel's active listing to an active SKU, at ingestion and when a held order is released."""

import pytest
from django.db import transaction

from orders.services.evaluation import evaluate_order
from orders.services.holds import release_order
from orders.services.sku_mapping import map_channel_skus
from tests.factories import ChannelListingFactory, OrderFactory, OrderLineFactory, SkuFactory

pytestmark = pytest.mark.django_db


def test_a_listing_of_an_inactive_sku_maps_nothing(web):
    retired = SkuFactory(code="OLD-TEE", active=False)
    ChannelListingFactory(channel=web, sku=retired, channel_sku="TEE-OLD")
    live = SkuFactory(code="NEW-TEE")
    ChannelListingFactory(channel=web, sku=live, channel_sku="TEE-NEW", external_listing_id="987")

    mapping = map_channel_skus(web, [("TEE-OLD", ""), ("TEE-NEW", ""), ("", "987"), ("NOPE", "")])

    assert mapping.sku_for("TEE-OLD", "") is None
    assert mapping.sku_for("TEE-NEW", "") == live
    assert mapping.sku_for("", "987") == live
    assert mapping.sku_for("NOPE", "") is None


def test_releasing_a_held_order_maps_its_lines_by_the_same_rule(web, east, stock, rates, cs_user):
    order = OrderFactory(channel=web)
    line = OrderLineFactory(order=order, sku=None, channel_sku="TEE-OLD")
    with transaction.atomic():
        evaluate_order(order=order, actor=cs_user)
    order.refresh_from_db()
    assert order.holds.get(resolved_at=None).reason == "sku_not_mapped"
    retired = SkuFactory(code="OLD-TEE", active=False)
    listing = ChannelListingFactory(channel=web, sku=retired, channel_sku="TEE-OLD")

    release_order(order_id=order.pk, actor=cs_user, note="listing added")
    line.refresh_from_db()

    assert line.sku_id is None  # an inactive SKU is never mapped, here as at ingestion
    active = SkuFactory(code="TEE-2")
    listing.sku = active
    listing.save()
    stock(active, east, 5)
    release_order(order_id=order.pk, actor=cs_user, note="listing fixed")
    line.refresh_from_db()
    order.refresh_from_db()

    assert line.sku_id == active.pk
    assert order.state == "released"
