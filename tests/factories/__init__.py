"""factory-boy factories shared by the tests and `manage.py seed_demo`."""

from tests.factories.erp import (
    ChannelFactory,
    ChannelListingFactory,
    EndpointFactory,
    LocationFactory,
    SkuFactory,
    UserFactory,
)

__all__ = [
    "ChannelFactory",
    "ChannelListingFactory",
    "EndpointFactory",
    "LocationFactory",
    "SkuFactory",
    "UserFactory",
]
