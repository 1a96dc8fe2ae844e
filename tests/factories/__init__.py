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
from tests.factories.orders import OrderFactory, OrderLineFactory

__all__ = [
    "OrderFactory",
    "OrderLineFactory",
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
