"""Demo orders: rate tables, channel policies, and orders in every customer-service queue."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from erp import roles
from erp.models import Channel, ChannelListing
from orders.models import ChannelOrderPolicy, Order, ShippingRate, ShippingZone, SubstitutionRule
from orders.services.ingestion import ingest_order

ZONES = [
    ("US", "0", "east"),
    ("US", "1", "east"),
    ("US", "2", "east"),
    ("US", "3", "south"),
    ("US", "4", "central"),
    ("US", "5", "central"),
    ("US", "6", "central"),
    ("US", "7", "central"),
    ("US", "8", "west"),
    ("US", "9", "west"),
]
RATES = {  # origin region → zone → (cost, transit days)
    "us-east": {
        "east": ("5.20", 2),
        "south": ("6.80", 3),
        "central": ("7.90", 4),
        "west": ("10.50", 5),
    },
    "us-west": {
        "east": ("10.40", 5),
        "south": ("8.90", 4),
        "central": ("7.60", 3),
        "west": ("5.10", 2),
    },
    "us-central": {
        "east": ("7.70", 3),
        "south": ("6.20", 2),
        "central": ("5.00", 2),
        "west": ("7.80", 3),
    },
    "us-south": {
        "east": ("6.60", 3),
        "south": ("4.90", 1),
        "central": ("6.10", 2),
        "west": ("9.40", 4),
    },
}
POLICIES = {  # channels that charge on shipment do not need captured payment to route
    "AMZ-US": {"require_captured_payment": False, "risk_threshold": Decimal("80"), "priority": 10},
    "WMT": {"require_captured_payment": False, "priority": 20},
    "EBAY-US": {"priority": 30},
    "WEB": {"allow_substitution": True, "priority": 40},
    "B2B": {
        "priority": 90,
        "require_captured_payment": False,
    },
}


def _address(city, region, postal, line1="12 Harbor Rd"):
    return {
        "name": "Jordan Reyes",
        "line1": line1,
        "city": city,
        "region": region,
        "postal_code": postal,
        "country": "US",
        "phone": "+1 555 0100",
    }


def seed_orders(users) -> str:
    if not ShippingZone.objects.exists():
        ShippingZone.objects.bulk_create(
            [ShippingZone(country=c, postal_prefix=p, zone=z) for c, p, z in ZONES]
        )
        ShippingRate.objects.bulk_create(
            [
                ShippingRate(origin_region=origin, zone=zone, cost=Decimal(cost), transit_days=days)
                for origin, zones in RATES.items()
                for zone, (cost, days) in zones.items()
            ]
        )
        SubstitutionRule.objects.get_or_create(product_family="apparel")
    for code, values in POLICIES.items():
        channel = Channel.objects.filter(code=code).first()
        if channel:
            ChannelOrderPolicy.objects.get_or_create(channel=channel, defaults=values)
    channel = Channel.objects.filter(code="B2B").first()
    if channel is None or Order.objects.exists():
        return "orders already seeded" if channel else "no B2B channel"
    codes = list(
        ChannelListing.objects.filter(
            channel=channel, active=True, sku__lot_tracked=False, sku__serial_tracked=False
        )
        .order_by("sku__code")
        .values_list("channel_sku", flat=True)[:40]
    )
    actor = users[roles.INTEGRATION]
    now = timezone.now()
    specs = [
        ("released", _address("Dallas", "TX", "75201"), {}),
        ("released", _address("Chicago", "IL", "60601"), {}),
        ("held: address", _address("Denver", "CO", "", line1=""), {}),
        ("held: risk", _address("Miami", "FL", "33101"), {"risk_score": 93}),
        ("held: payment", _address("Austin", "TX", "73301"), {"payment_status": "pending"}),
        ("backordered", _address("Boston", "MA", "02108"), {"backorder": True}),
        (
            "past SLA",
            _address("Seattle", "WA", "98101"),
            {"placed_days_ago": 6, "ship_by_days": -1},
        ),
        # The second line names a seller SKU the channel has no listing for.
        ("held: unmapped SKU", _address("Denver", "CO", "80202"), {"unmapped": True}),
    ]
    for index, (label, address, options) in enumerate(specs):
        quantity = 999 if options.get("backorder") else 2
        payload = {
            "external_id": f"PO-DEMO-{index + 1:03d}",
            "order_number": f"B2B-{index + 1:04d}",
            "placed_at": (
                now - timedelta(days=options.get("placed_days_ago", 0), hours=index)
            ).isoformat(),
            "ship_by": (now + timedelta(days=options.get("ship_by_days", 2))).isoformat(),
            "currency": channel.currency,
            "payment_status": options.get("payment_status", "authorized"),
            "risk_score": options.get("risk_score"),
            "customer_email": "buyer@example.com",
            "ship_to": address,
            "lines": [
                {
                    "sku": (
                        f"{channel.code}-NOT-LISTED-{index + 1:03d}"
                        if options.get("unmapped") and n == 1
                        else codes[(index * 3 + n) % len(codes)]
                    ),
                    "quantity": quantity if n == 0 else 1,
                    "unit_price": "19.90",
                    "title": label,
                }
                for n in range(2)
            ],
        }
        ingest_order(channel=channel, payload=payload, actor=actor)
    from orders.services.sla import escalate_orders

    escalate_orders()
    return f"{Order.objects.count()} orders"
