"""Channel configuration is cached between orders, and any edit of it applies at once."""

from decimal import Decimal

import pytest

from erp.models import Channel
from inventory.services.reservations import lock_stock_for_routing
from orders.models import ChannelOrderPolicy
from orders.services.channel_config import active_channel, config_for
from tests.factories import AllocationRuleFactory, ChannelFactory, LocationFactory, SkuFactory

pytestmark = pytest.mark.django_db


def _fresh(channel) -> Channel:
    return Channel.objects.get(pk=channel.pk)  # a new request's instance


def test_config_is_read_once_then_served_from_the_cache(web, django_assert_num_queries):
    config_for(_fresh(web))
    channel = _fresh(web)
    with django_assert_num_queries(0):
        config = config_for(channel)
    assert [n.code for n in config.routing_nodes] == ["EAST", "WEST"]
    assert config.policy.risk_threshold == web.order_policy.risk_threshold
    assert config.ring_fencing_channel_ids == []


def test_editing_the_policy_a_node_or_eligibility_applies_to_the_next_order(web, east, west):
    assert config_for(_fresh(web)).policy.risk_threshold == Decimal("75")
    policy = ChannelOrderPolicy.objects.get(channel=web)
    policy.risk_threshold = Decimal("20")
    policy.save()
    assert config_for(_fresh(web)).policy.risk_threshold == Decimal("20")

    west.active = False
    west.save()
    assert [n.code for n in config_for(_fresh(web)).routing_nodes] == ["EAST"]

    store = LocationFactory(code="STORE", kind="store", region="us-east")
    web.eligible_locations.add(store)
    assert {n.code for n in config_for(_fresh(web)).routing_nodes} == {"EAST", "STORE"}
    web.eligible_locations.remove(store)
    assert [n.code for n in config_for(_fresh(web)).routing_nodes] == ["EAST"]


def test_a_deactivated_channel_stops_being_served(web):
    assert active_channel("WEB").pk == web.pk
    web.active = False
    web.save()
    assert active_channel("WEB") is None


def test_a_ring_fence_on_shared_stock_is_seen_by_the_next_order(web, east, stock):
    sku = SkuFactory(code="RF-1")
    stock(sku, east, 10)
    b2b = ChannelFactory(code="B2B", eligible_locations=[east])

    def reservable():
        config = config_for(_fresh(web))
        return lock_stock_for_routing(
            channel=web,
            sku_ids=[sku.pk],
            pool_location_ids=config.pool_location_ids,
            sharing_channel_ids=config.sharing_channel_ids,
            ring_fencing_channel_ids=config.ring_fencing_channel_ids,
        ).reservable[sku.pk]

    assert reservable() == 10
    rule = AllocationRuleFactory(channel=b2b, sku=sku, protected=4)
    assert config_for(_fresh(web)).ring_fencing_channel_ids == [b2b.pk]
    assert reservable() == 6
    rule.delete()
    assert reservable() == 10
