from decimal import Decimal

import factory

from purchasing.models import Supplier, SupplierItem
from tests.factories.erp import SkuFactory


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"SUP{n:03d}")
    name = factory.LazyAttribute(lambda supplier: f"Supplier {supplier.code}")
    currency = "USD"
    order_email = factory.LazyAttribute(
        lambda supplier: f"orders@{supplier.code.lower()}.example.com"
    )


class SupplierItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupplierItem
        django_get_or_create = ("supplier", "sku")

    supplier = factory.SubFactory(SupplierFactory)
    sku = factory.SubFactory(SkuFactory)
    supplier_sku = factory.LazyAttribute(lambda item: f"S-{item.sku.code}")
    unit_cost = Decimal("4.00")
    lead_time_days = 10
    moq = 1
    pack_multiple = 1
