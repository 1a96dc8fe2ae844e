"""Fulfillment factories, and builders for a warehouse floor with released orders."""

from datetime import time
from decimal import Decimal

import factory
from django.db import transaction

from fulfillment.models import (
    Box,
    Carrier,
    CarrierService,
    ChannelFulfillmentPolicy,
    RateCard,
    Slot,
)
from inventory.services.movements import receive_stock
from orders.services.evaluation import evaluate_order
from tests.factories.erp import ChannelFactory, EndpointFactory, LocationFactory, SkuFactory
from tests.factories.orders import OrderFactory, OrderLineFactory


class CarrierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Carrier
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"CAR{n}")
    name = factory.LazyAttribute(lambda carrier: f"{carrier.code} Parcels")
    tracking_url_template = factory.LazyAttribute(
        lambda carrier: f"https://track.example.com/{carrier.code}/{{tracking}}"
    )
    tracking_pattern = ""


class CarrierServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CarrierService
        django_get_or_create = ("carrier", "code")

    carrier = factory.SubFactory(CarrierFactory)
    code = factory.Sequence(lambda n: f"SVC{n}")
    name = factory.LazyAttribute(lambda service: f"{service.code.title()} service")
    service_level = "standard"
    cutoff_time = time(17, 0)


class RateCardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RateCard

    service = factory.SubFactory(CarrierServiceFactory)
    origin_region = "us-east"
    zone = "east"
    min_weight_grams = 0
    max_weight_grams = 30000
    price = Decimal("5.00")
    transit_days = 3


class BoxFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Box
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"BOX{n}")
    name = factory.LazyAttribute(lambda box: f"Box {box.code}")
    length_mm = 300
    width_mm = 200
    height_mm = 150
    max_weight_grams = 10000
    tare_grams = 150
    cost = Decimal("0.80")


class ChannelFulfillmentPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChannelFulfillmentPolicy
        django_get_or_create = ("channel",)

    channel = factory.SubFactory(ChannelFactory)
    tracking_endpoint = factory.SubFactory(EndpointFactory)
    notification_endpoint = factory.SubFactory(EndpointFactory)
    strict_penalties = False
    confirm_window_hours = 24
    notify_customer = True


class SlotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Slot
        django_get_or_create = ("sku", "location")

    sku = factory.SubFactory(SkuFactory)
    location = factory.SubFactory(LocationFactory)
    code = factory.Sequence(lambda n: f"A-{n % 99 + 1:02d}-1")


def stocked_sku(location, quantity, actor, *, slot=None, lot=None, serials=None, **fields):
    """A SKU received at `location` (with a slot there when `slot` is given)."""
    sku = SkuFactory(**fields)
    if quantity:
        receive_stock(
            sku=sku, location=location, quantity=quantity, actor=actor, lot=lot, serials=serials
        )
    if slot:
        SlotFactory(sku=sku, location=location, code=slot)
    return sku


def released_order(channel, lines, actor, **fields):
    """An order validated and routed as ingestion does it: released when stock allows.
    `lines` is [(sku, quantity), …]."""
    fields.setdefault("customer_email", "buyer@example.com")
    order = OrderFactory(channel=channel, **fields)
    for sku, quantity in lines:
        OrderLineFactory(
            order=order,
            sku=sku,
            quantity=quantity,
            external_item_id=f"ITEM-{sku.code}",
            title=f"{sku.name}"[:255],
        )
    with transaction.atomic():
        evaluate_order(order=order, actor=actor)
    order.refresh_from_db()
    return order
