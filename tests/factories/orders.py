from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from orders.models import Order, OrderLine
from tests.factories.erp import ChannelFactory


class OrderFactory(factory.django.DjangoModelFactory):
    """An order as ingestion stores it, before validation and routing."""

    class Meta:
        model = Order

    channel = factory.SubFactory(ChannelFactory)
    external_id = factory.Sequence(lambda n: f"EXT-{n:06d}")
    order_number = factory.LazyAttribute(lambda o: o.external_id)
    placed_at = factory.LazyFunction(timezone.now)
    ship_by = factory.LazyFunction(lambda: timezone.now() + timedelta(days=2))
    currency = "USD"
    payment_status = "captured"
    ship_name = "Ada Buyer"
    ship_line1 = "1 Main St"
    ship_city = "Springfield"
    ship_region = "IL"
    ship_postal_code = "62701"
    ship_country = "US"
    raw_payload = factory.LazyFunction(dict)
    payload_hash = "test"


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    line_number = factory.Sequence(lambda n: n + 1)
    external_line_id = factory.Sequence(lambda n: f"L{n}")
    channel_sku = factory.LazyAttribute(lambda line: line.sku.code if line.sku else "UNKNOWN")
    quantity = 1
    unit_price = Decimal("10.00")
