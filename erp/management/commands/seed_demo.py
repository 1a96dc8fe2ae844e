"""Seed demo data: nodes, channels, 500 SKUs with listings, one user per role.

Idempotent: rows are looked up by code and only created when missing, so a second
run changes nothing (no new rows, no history entries).
"""

import random

import factory.random
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from rest_framework.authtoken.models import Token

from erp import roles
from erp.demo import demo_seeders
from erp.models import Channel, ChannelListing, Location, Sku
from erp.roles import sync_role_groups
from tests.factories import (
    ChannelFactory,
    ChannelListingFactory,
    LocationFactory,
    SkuFactory,
    UserFactory,
)

LOCATIONS = [
    dict(
        code="WH-EAST",
        name="Newark warehouse",
        kind="warehouse",
        region="us-east",
        postal_zone="07",
        priority=10,
    ),
    dict(
        code="WH-WEST",
        name="Reno warehouse",
        kind="warehouse",
        region="us-west",
        postal_zone="89",
        priority=20,
    ),
    dict(
        code="WH-CENT",
        name="Dallas warehouse",
        kind="warehouse",
        region="us-central",
        postal_zone="75",
        priority=30,
    ),
    dict(
        code="ST-NYC",
        name="Manhattan store",
        kind="store",
        region="us-east",
        postal_zone="10",
        priority=60,
        shelf_floor=2,
    ),
    dict(
        code="3PL-ATL",
        name="Atlanta 3PL",
        kind="3pl",
        region="us-south",
        postal_zone="30",
        priority=40,
    ),
    dict(
        code="DS-ACME",
        name="Acme drop-ship",
        kind="dropship",
        region="us-central",
        postal_zone="60",
        priority=90,
    ),
]
CHANNELS = [
    dict(
        code="WEB",
        name="Own storefront (Shopify)",
        kind="shopify",
        fee_rate="0.0290",
        ship_by_sla_hours=48,
        nodes=["WH-EAST", "WH-WEST", "WH-CENT", "ST-NYC", "DS-ACME"],
    ),
    dict(
        code="AMZ-US",
        name="Amazon US",
        kind="amazon",
        fee_rate="0.1500",
        ship_by_sla_hours=24,
        nodes=["WH-EAST", "WH-WEST", "WH-CENT"],
    ),
    dict(
        code="EBAY-US",
        name="eBay US",
        kind="ebay",
        fee_rate="0.1325",
        ship_by_sla_hours=72,
        nodes=["WH-EAST", "WH-CENT", "3PL-ATL"],
    ),
    dict(
        code="WMT",
        name="Walmart Marketplace",
        kind="walmart",
        fee_rate="0.1500",
        ship_by_sla_hours=48,
        nodes=["WH-EAST", "WH-WEST"],
    ),
    dict(
        code="WOO-EU",
        name="WooCommerce EU shop",
        kind="woocommerce",
        currency="EUR",
        fee_rate="0.0000",
        ship_by_sla_hours=72,
        nodes=["WH-EAST"],
    ),
    dict(
        code="B2B",
        name="B2B portal",
        kind="b2b",
        fee_rate="0.0000",
        ship_by_sla_hours=120,
        refund_timing="on_receipt",
        nodes=["WH-CENT", "3PL-ATL"],
    ),
]
SKU_COUNT = 500
DEMO_PASSWORDS = {role: f"demo-{role.replace('_', '-')}-2026" for role in roles.ALL_ROLES}


class Command(BaseCommand):
    help = "Seed demo data (idempotent) and print one login per role plus the integration token."

    def add_arguments(self, parser):
        parser.add_argument("--skus", type=int, default=SKU_COUNT)

    def handle(self, *args, skus, **options):
        factory.random.reseed_random("marketplace-erp-demo")
        random.seed(7)
        with transaction.atomic():
            sync_role_groups()
            created = self._seed_master_data(skus)
            users = self._seed_users()
        # Outside one wrapping transaction: the seeders call the real entry-point services
        # (ingestion, …), each its own durable transaction. Every seeder is idempotent, so
        # a run stopped half-way is finished by the next one.
        for name, seeder in demo_seeders():
            self.stdout.write(f"Seeding {name}: {seeder(users)}")
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({created} new rows)."))
        self.stdout.write("Logins (http://127.0.0.1:8000/login/):")
        for role, user in users.items():
            if role == roles.INTEGRATION:
                continue
            self.stdout.write(
                f"  {role:<17} user {user.username:<17} password {DEMO_PASSWORDS[role]}"
            )
        token = Token.objects.get(user=users[roles.INTEGRATION])
        self.stdout.write(f"Integration API token: {token.key}")
        self.stdout.write(
            '  curl -H "Authorization: Token <token>" http://127.0.0.1:8000/api/v1/skus/'
        )

    def _seed_master_data(self, sku_count: int) -> int:
        before = (
            Sku.objects.count()
            + Location.objects.count()
            + Channel.objects.count()
            + ChannelListing.objects.count()
        )
        locations = {spec["code"]: LocationFactory(**spec) for spec in LOCATIONS}
        channels = []
        existing_channels = {channel.code: channel for channel in Channel.objects.all()}
        for spec in CHANNELS:
            spec = dict(spec)
            nodes = [locations[code] for code in spec.pop("nodes")]
            channel = existing_channels.get(spec["code"])
            # Adding eligible locations again would write a history row: only new channels get them.
            channels.append(channel or ChannelFactory(eligible_locations=nodes, **spec))
        existing = set(Sku.objects.values_list("code", flat=True))
        for n in range(1, sku_count + 1):
            code = f"SKU-{n:05d}"
            if code in existing:
                continue
            sku = SkuFactory(
                code=code,
                barcode=f"0{400000000000 + n:012d}",
                lot_tracked=n % 25 == 0,
                expiry_tracked=n % 50 == 0,
                serial_tracked=n % 40 == 0,
            )
            for index, channel in enumerate(channels):
                # Not every SKU is on every channel: marketplaces carry a subset.
                if index == 0 or (n + index) % 3 != 0:
                    ChannelListingFactory(
                        channel=channel, sku=sku, channel_sku=f"{channel.code}-{code}"
                    )
        after = (
            Sku.objects.count()
            + Location.objects.count()
            + Channel.objects.count()
            + ChannelListing.objects.count()
        )
        return after - before

    def _seed_users(self) -> dict:
        users = {}
        for role in roles.ALL_ROLES:
            username = role.replace("_", "-")
            user = get_user_model().objects.filter(username=username).first()
            if user is None:
                user = UserFactory(username=username, password=DEMO_PASSWORDS[role], roles=[role])
            users[role] = user
        Token.objects.get_or_create(user=users[roles.INTEGRATION])
        return users
