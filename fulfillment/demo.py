"""Demo fulfillment set-up: carriers and services with cutoffs, rate cards for every demo
lane, boxes, a slot for every SKU at every node we pick ourselves, channel policies.

Idempotent: rows are found by their natural keys and only the missing ones are created,
so a second run adds no rows and no history.
"""

from datetime import time
from decimal import ROUND_HALF_UP, Decimal

from simple_history.utils import bulk_create_with_history

from erp import roles
from erp.models import Channel, Endpoint, Location, Sku
from fulfillment.models import (
    Box,
    Carrier,
    CarrierService,
    ChannelFulfillmentPolicy,
    RateCard,
    ServiceLevel,
    Slot,
    slot_sort_key,
)
from orders.demo import RATES

CARRIERS = {
    "UPSX": {
        "name": "UPS",
        "tracking_pattern": r"^1Z[0-9A-Z]{16}$",
        "tracking_url_template": "https://www.ups.com/track?tracknum={tracking}",
    },
    "POST": {
        "name": "USPS",
        "tracking_pattern": r"^94[0-9]{20}$",
        "tracking_url_template": "https://tools.usps.com/go/TrackConfirmAction?tLabels={tracking}",
    },
    "SWFT": {
        "name": "Swift Regional Courier",
        "tracking_pattern": r"^SW[0-9]{10}$",
        "tracking_url_template": "https://track.swift-courier.example/{tracking}",
    },
}
# carrier, code, name, level, cutoff, max grams, price factor, transit days from the lane's
# ground days, in-region lanes only (a regional courier)
SERVICES = [
    ("UPSX", "GROUND", "UPS Ground", ServiceLevel.STANDARD, time(17, 0), 30000, "1.00", 0, False),
    (
        "UPSX",
        "2DAY",
        "UPS 2nd Day Air",
        ServiceLevel.EXPEDITED,
        time(17, 0),
        30000,
        "2.10",
        2,
        False,
    ),
    (
        "UPSX",
        "NDA",
        "UPS Next Day Air",
        ServiceLevel.PRIORITY,
        time(16, 0),
        30000,
        "3.60",
        1,
        False,
    ),
    (
        "POST",
        "GROUND",
        "Ground Advantage",
        ServiceLevel.STANDARD,
        time(15, 0),
        30000,
        "0.92",
        0,
        False,
    ),
    ("POST", "MEDIA", "Media Mail", ServiceLevel.ECONOMY, time(15, 0), 30000, "0.70", 3, False),
    (
        "POST",
        "PRIORITY",
        "Priority Mail",
        ServiceLevel.EXPEDITED,
        time(15, 0),
        30000,
        "1.55",
        2,
        False,
    ),
    (
        "POST",
        "EXPRESS",
        "Priority Mail Express",
        ServiceLevel.PRIORITY,
        time(14, 0),
        30000,
        "3.20",
        1,
        False,
    ),
    (
        "SWFT",
        "NEXTDAY",
        "Next-day regional",
        ServiceLevel.STANDARD,
        time(18, 0),
        20000,
        "0.85",
        1,
        True,
    ),
]
BANDS = [  # grams, price factor on the lane's base (first 500 g)
    (0, 500, "1.00"),
    (500, 1000, "1.15"),
    (1000, 2000, "1.40"),
    (2000, 5000, "1.90"),
    (5000, 10000, "2.80"),
    (10000, 30000, "4.50"),
]
BOXES = [  # code, name, L, W, H mm, max grams, tare grams, cost
    ("MAILER-S", "Small poly mailer", 230, 160, 40, 1000, 15, "0.18"),
    ("MAILER-L", "Large padded mailer", 350, 250, 60, 2000, 35, "0.32"),
    ("BOX-S", "Small carton", 200, 150, 100, 5000, 120, "0.55"),
    ("BOX-M", "Medium carton", 300, 250, 150, 10000, 250, "0.85"),
    ("BOX-L", "Large carton", 400, 300, 250, 20000, 450, "1.30"),
    ("BOX-XL", "Extra-large carton", 600, 400, 400, 30000, 900, "2.40"),
]
STRICT_KINDS = {Channel.Kind.AMAZON, Channel.Kind.WALMART}
# Marketplaces e-mail their own buyers about shipments; we notify our own shops' customers.
NOTIFYING_KINDS = {Channel.Kind.SHOPIFY, Channel.Kind.WOOCOMMERCE, Channel.Kind.B2B}
SLOTS_PER_AISLE = 24 * 5  # bays 1–24, levels 1–5
PICKING_KINDS = [Location.Kind.WAREHOUSE, Location.Kind.STORE]
CENT = Decimal("0.01")


def seed_fulfillment(users) -> str:
    manager = users[roles.MANAGER]
    services = _carriers_and_services()
    rate_cards = _rate_cards(services, actor=manager)
    boxes = _boxes()
    slots = _slots(actor=manager)
    policies = _channel_policies()
    return (
        f"{len(CARRIERS)} carriers, {len(services)} services, {rate_cards} rate cards, "
        f"{boxes} boxes, {slots} slots, {policies} channel policies"
    )


def _carriers_and_services() -> dict[tuple[str, str], tuple[CarrierService, tuple]]:
    carriers = {
        code: Carrier.objects.get_or_create(code=code, defaults=values)[0]
        for code, values in CARRIERS.items()
    }
    services = {}
    for spec in SERVICES:
        carrier_code, code, name, level, cutoff, max_grams, *_ = spec
        service, _ = CarrierService.objects.get_or_create(
            carrier=carriers[carrier_code],
            code=code,
            defaults={
                "name": name,
                "service_level": level,
                "cutoff_time": cutoff,
                "max_weight_grams": max_grams,
            },
        )
        services[carrier_code, code] = (service, spec)
    return services


def _rate_cards(services, *, actor) -> int:
    """Every demo node region × zone × band for each service; a price from the orders demo's
    lane cost (so routing and labels agree on which lanes are dear) times the service's and
    the band's factors."""
    regions = set(
        Location.objects.filter(active=True, can_ship=True).values_list("region", flat=True)
    )
    existing = set(
        RateCard.objects.values_list("service_id", "origin_region", "zone", "min_weight_grams")
    )
    missing = []
    for service, spec in services.values():
        *_, price_factor, days_rule, regional_only = spec
        for region in sorted(regions & RATES.keys()):
            for zone, (cost, ground_days) in RATES[region].items():
                if regional_only and region != f"us-{zone}":
                    continue
                for low, high, band_factor in BANDS:
                    if (service.pk, region, zone, low) in existing:
                        continue
                    price = Decimal(cost) * Decimal(price_factor) * Decimal(band_factor)
                    missing.append(
                        RateCard(
                            service=service,
                            origin_region=region,
                            zone=zone,
                            min_weight_grams=low,
                            max_weight_grams=high,
                            price=price.quantize(CENT, rounding=ROUND_HALF_UP),
                            transit_days=_transit_days(ground_days, days_rule),
                        )
                    )
    if missing:
        bulk_create_with_history(missing, RateCard, default_user=actor)
    return RateCard.objects.count()


def _transit_days(ground_days: int, rule: int) -> int:
    """0: the lane's ground days; 1 and 2: at most that many; 3: ground days + 3 (economy)."""
    if rule == 0:
        return ground_days
    if rule == 3:
        return ground_days + 3
    return min(rule, ground_days)


def _boxes() -> int:
    for code, name, length, width, height, max_grams, tare, cost in BOXES:
        Box.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "length_mm": length,
                "width_mm": width,
                "height_mm": height,
                "max_weight_grams": max_grams,
                "tare_grams": tare,
                "cost": Decimal(cost),
            },
        )
    return Box.objects.count()


def _slots(*, actor) -> int:
    """Aisle-bay-level by SKU code order, the same layout at every node we pick ourselves."""
    nodes = list(Location.objects.filter(kind__in=PICKING_KINDS, active=True).order_by("code"))
    skus = list(Sku.objects.filter(active=True).order_by("code").values_list("pk", flat=True))
    existing = set(Slot.objects.values_list("sku_id", "location_id"))
    missing = []
    for node in nodes:
        for index, sku_id in enumerate(skus):
            if (sku_id, node.pk) in existing:
                continue
            code = slot_code(index)
            missing.append(
                Slot(sku_id=sku_id, location=node, code=code, sort_key=slot_sort_key(code))
            )
    if missing:
        bulk_create_with_history(missing, Slot, default_user=actor, batch_size=1000)
    return Slot.objects.count()


def slot_code(index: int) -> str:
    """0 → A-01-1, 4 → A-01-5, 5 → A-02-1, 120 → B-01-1, … Z, then AA."""
    aisle, place = divmod(index, SLOTS_PER_AISLE)
    bay, level = divmod(place, 5)
    return f"{_aisle(aisle)}-{bay + 1:02d}-{level + 1}"


def _aisle(number: int) -> str:
    letters = ""
    number += 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _channel_policies() -> int:
    notifications, _ = Endpoint.objects.get_or_create(
        code="customer-shipment-email",
        defaults={
            "name": "Shipment e-mails to customers",
            "url": "https://mailer.example.com/hooks/shipment-notifications",
        },
    )
    for channel in Channel.objects.order_by("code"):
        tracking, _ = Endpoint.objects.get_or_create(
            code=f"{channel.code.lower()}-tracking",
            defaults={
                "name": f"{channel.name}: tracking upload",
                "url": f"https://connectors.example.com/{channel.kind}/{channel.code.lower()}/tracking",
            },
        )
        notify = channel.kind in NOTIFYING_KINDS
        ChannelFulfillmentPolicy.objects.get_or_create(
            channel=channel,
            defaults={
                "tracking_endpoint": tracking,
                "notification_endpoint": notifications if notify else None,
                "strict_penalties": channel.kind in STRICT_KINDS,
                "confirm_window_hours": channel.ship_by_sla_hours,
                "notify_customer": notify,
            },
        )
    return ChannelFulfillmentPolicy.objects.count()
