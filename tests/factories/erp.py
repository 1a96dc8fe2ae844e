from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from erp.models import Channel, ChannelListing, Endpoint, Location, Sku

FAMILIES = ["apparel", "footwear", "electronics", "home", "beauty", "toys", "grocery"]


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("pass-for-tests-1")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*[Group.objects.get_or_create(name=role)[0] for role in extracted])


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"WH{n:02d}")
    name = factory.LazyAttribute(lambda loc: f"Warehouse {loc.code}")
    kind = Location.Kind.WAREHOUSE
    region = "us-east"
    postal_zone = "1"
    can_ship = True
    priority = factory.Sequence(lambda n: 10 + n)


class SkuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sku
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Faker("catch_phrase")
    barcode = factory.Sequence(lambda n: f"0{400000000000 + n:012d}")
    unit_of_measure = Sku.UnitOfMeasure.EACH
    pack_quantity = 1
    weight_grams = factory.Faker("random_int", min=50, max=5000)
    length_mm = factory.Faker("random_int", min=50, max=600)
    width_mm = factory.Faker("random_int", min=50, max=400)
    height_mm = factory.Faker("random_int", min=10, max=300)
    unit_cost = factory.Faker(
        "pydecimal", left_digits=3, right_digits=2, min_value=1, max_value=400
    )
    product_family = factory.Faker("random_element", elements=FAMILIES)


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"CH{n:02d}")
    name = factory.LazyAttribute(lambda ch: f"Channel {ch.code}")
    kind = Channel.Kind.SHOPIFY
    currency = "USD"
    ship_by_sla_hours = 48
    fee_rate = Decimal("0.1000")
    return_window_days = 30

    @factory.post_generation
    def eligible_locations(self, create, extracted, **kwargs):
        if not create:
            return
        if extracted is None and not self.eligible_locations.exists():
            extracted = [LocationFactory()]
        if extracted:
            self.eligible_locations.add(*extracted)


class ChannelListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChannelListing
        django_get_or_create = ("channel", "channel_sku")

    channel = factory.SubFactory(ChannelFactory)
    sku = factory.SubFactory(SkuFactory)
    channel_sku = factory.LazyAttribute(
        lambda listing: f"{listing.channel.code}-{listing.sku.code}"
    )
    external_listing_id = factory.Sequence(lambda n: f"EXT{n:08d}")
    active = True


class EndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Endpoint
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"hook-{n}")
    name = factory.LazyAttribute(lambda e: f"Webhook {e.code}")
    kind = Endpoint.Kind.WEBHOOK
    url = "http://127.0.0.1:9/unused"
