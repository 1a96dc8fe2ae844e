from decimal import Decimal

import pytest

from erp.models import Endpoint, OutboxMessage
from inventory import selectors
from inventory.models import ChannelAvailability
from inventory.services.availability import publish_availability
from inventory.services.reservations import reserve_stock
from tests.factories import (
    AllocationRuleFactory,
    ChannelFactory,
    ChannelListingFactory,
    SafetyStockFactory,
    SkuFactory,
)

pytestmark = pytest.mark.django_db


def _ats(channel, sku):
    return selectors.compute_availability(channel=channel, sku_ids=[sku.pk])[sku.pk]


def test_the_pool_sums_atp_over_the_channels_nodes(sku, node, second_node, channel, stocked):
    stocked(sku, node, 6)
    stocked(sku, second_node, 4)
    SafetyStockFactory(sku=sku, location=node, quantity=2)

    assert _ats(channel, sku).pool == 8
    assert _ats(channel, sku).available == 8


def test_atp_is_floored_at_zero_per_node(sku, node, second_node, channel, stocked):
    stocked(sku, node, 1)
    stocked(sku, second_node, 4)
    SafetyStockFactory(sku=sku, location=node, quantity=3)

    assert _ats(channel, sku).pool == 4


def test_rules_shape_what_is_published(sku, node, channel, stocked):
    stocked(sku, node, 100)
    other = ChannelFactory(code="B2B", eligible_locations=[node])
    AllocationRuleFactory(channel=other, protected=10)
    AllocationRuleFactory(channel=channel, buffer=5, cap=Decimal("0.8"), max_units=70)

    figure = _ats(channel, sku)

    # E = 100 − 10 − 5 = 85; cap 0.8·100 = 80; max 70.
    assert (figure.usable, figure.available, figure.reservable) == (85, 70, 90)


def test_below_the_threshold_nothing_is_shown(sku, node, channel, stocked):
    stocked(sku, node, 4)
    AllocationRuleFactory(channel=channel, threshold=5)

    assert _ats(channel, sku).available == 0


def test_a_sku_rule_overrides_the_channel_wide_rule(sku, node, channel, stocked):
    stocked(sku, node, 10)
    AllocationRuleFactory(channel=channel, max_units=2)
    AllocationRuleFactory(channel=channel, sku=sku, max_units=6)

    figure = _ats(channel, sku)
    assert (figure.available, figure.rule.source) == (6, "sku")


def test_full_channel_availability_is_a_fixed_number_of_queries(
    node, channel, manager, stocked, django_assert_num_queries
):
    skus = [SkuFactory() for _ in range(15)]
    for item in skus:
        ChannelListingFactory(channel=channel, sku=item)
        stocked(item, node, 3)

    # listings, pools, rules, active channels: the same for 1 SKU or 100,000.
    with django_assert_num_queries(4):
        figures = selectors.compute_availability(channel=channel)

    assert len(figures) == 15 and {f.available for f in figures.values()} == {3}


def test_moving_stock_publishes_one_coalesced_message_per_channel(
    sku, node, channel, manager, stocked
):
    endpoint = Endpoint.objects.create(code="web-feed", name="feed", url="http://127.0.0.1:9/feed")
    channel.availability_endpoint = endpoint
    channel.save()
    listing = ChannelListingFactory(channel=channel, sku=sku, channel_sku="web-tee")
    other = SkuFactory()
    ChannelListingFactory(channel=channel, sku=other, channel_sku="web-other")

    stocked(sku, node, 5)
    stocked(other, node, 2)
    reserve_stock(
        sku=sku, location=node, channel=channel, quantity=1, line_reference="L1", actor=manager
    )
    publish_availability()

    message = OutboxMessage.objects.get(topic="inventory.availability")
    assert message.payload["items"] == {listing.channel_sku: 4, "web-other": 2}
    assert ChannelAvailability.objects.get(channel=channel, sku=sku).available == 4


def test_unchanged_availability_publishes_nothing(sku, node, channel, stocked):
    ChannelListingFactory(channel=channel, sku=sku)
    stocked(sku, node, 5)
    publish_availability()
    assert publish_availability() == 0


def test_protection_of_a_channel_selling_from_other_nodes_does_not_bind(
    sku, node, channel, stocked
):
    from tests.factories import LocationFactory

    elsewhere = ChannelFactory(code="FAR", eligible_locations=[LocationFactory(code="FAR-NODE")])
    AllocationRuleFactory(channel=elsewhere, protected=5)
    stocked(sku, node, 10)

    assert _ats(channel, sku).reservable == 10
