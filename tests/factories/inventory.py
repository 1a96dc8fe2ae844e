import factory

from inventory.models import AllocationRule, Lot, SafetyStock
from tests.factories.erp import ChannelFactory, LocationFactory, SkuFactory


class LotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lot

    sku = factory.SubFactory(SkuFactory, lot_tracked=True)
    code = factory.Sequence(lambda n: f"L{n:05d}")
    expires_on = None


class AllocationRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AllocationRule

    channel = factory.SubFactory(ChannelFactory)
    sku = None


class SafetyStockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SafetyStock

    sku = factory.SubFactory(SkuFactory)
    location = factory.SubFactory(LocationFactory)
    quantity = 1
