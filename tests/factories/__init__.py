"""factory-boy factories shared by the tests and `manage.py seed_demo`."""

from tests.factories.erp import (
    ChannelFactory,
    ChannelListingFactory,
    EndpointFactory,
    LocationFactory,
    SkuFactory,
    UserFactory,
)
from tests.factories.inventory import AllocationRuleFactory, LotFactory, SafetyStockFactory

__all__ = [
    "AllocationRuleFactory",
    "LotFactory",
    "SafetyStockFactory",
    "ChannelFactory",
    "ChannelListingFactory",
    "EndpointFactory",
    "LocationFactory",
    "SkuFactory",
    "UserFactory",
]
