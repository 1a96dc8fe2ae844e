"""Real threads, real PostgreSQL connections, real row locks."""

import pytest

from inventory.concurrency import race_reservations
from inventory.services.movements import receive_stock
from tests.factories import AllocationRuleFactory, ChannelFactory, LocationFactory, SkuFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_concurrent_reservations_never_oversell_or_take_protected_units(manager):
    node = LocationFactory(code="RACE")
    sku = SkuFactory(code="HOT")
    web = ChannelFactory(code="WEB", eligible_locations=[node])
    wholesale = ChannelFactory(code="B2B", eligible_locations=[node])
    AllocationRuleFactory(channel=wholesale, protected=3)
    receive_stock(sku=sku, location=node, quantity=10, actor=manager)

    result = race_reservations(
        sku=sku,
        location=node,
        channel=web,
        actor=manager,
        workers=16,
        attempts_per_worker=3,
        allowed_for_channel=7,
    )

    assert result.attempts == 48
    assert result.errors == 0
    assert result.successes == 7
    assert result.reserved_for_channel == 7 and result.reserved_total == 7
    assert result.oversold == 0
