"""Rate selection: which carrier service a parcel should go with, and why.

Candidates are the active services of active carriers whose weight limit takes the
parcel and that have a rate-card band for (the node's region, the destination zone, the
billable weight). The destination zone is the orders app's (`routing.destination_zone`),
so routing and labelling price the same lane.

Billable weight is the larger of the actual weight and the dimensional weight
L × W × H / 5,000 (cm³ per kg, the divisor the big parcel carriers use for domestic
parcels; in millimetres that is mm³ / 5,000,000 kg = mm³ / 5,000 g, rounded up to the
gram). Rate-card bands include their upper bound: a 500 g parcel is priced in 0–500 g.

Dates are working days (Monday–Friday) in the node's local time, `settings.TIME_ZONE`:
a parcel ships today when it is handed over before the service's cutoff on a working day,
else on the next working day, and is delivered `transit_days` working days later.

The promise (what "meets the promise" means), for an order with ship-by date B and
service level L:
  1. the parcel leaves no later than B (marketplaces score late hand-overs), and
  2. it is delivered no later than B + the working days L allows (`routing.MAX_TRANSIT_DAYS`:
     same-day 0, next-day 1, expedited 2, standard 5, economy 8; unknown levels count as
     standard), the delivery date the buyer was shown.
An order without a ship-by date is held to (2) counted from today. The chosen service is
the cheapest that meets both (ties: fewer transit days, then carrier and service code).
When none does, the earliest delivery is chosen and flagged `meets_promise=False`.
"""

import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from erp import fastsql
from erp.errors import ValidationFailed
from erp.models import Location
from fulfillment import locking
from fulfillment.models import CarrierService, RateCard
from orders.models import Order, ShippingZone
from orders.services.routing import MAX_TRANSIT_DAYS, destination_zone

DIMENSIONAL_DIVISOR_CM3_PER_KG = 5000
DEFAULT_SERVICE_LEVEL = "standard"


@dataclass(frozen=True)
class RateOption:
    """One priced service for this parcel and what it would do for the promise."""

    service: CarrierService
    price: Decimal
    transit_days: int
    ship_date: date
    delivery_date: date
    meets_promise: bool
    promise_problem: str = ""  # why it misses the promise ("" when it meets it)
    chosen: bool = False
    rejected_because: str = ""

    @property
    def key(self) -> str:
        """`CARRIER:SERVICE`: unique, since codes cannot contain a colon."""
        return f"{self.service.carrier.code}:{self.service.code}"

    def as_json(self) -> dict:
        return {
            "key": self.key,
            "carrier": self.service.carrier.code,
            "service": self.service.code,
            "name": str(self.service),
            "service_level": self.service.service_level,
            "price": str(self.price),
            "transit_days": self.transit_days,
            "ship_date": self.ship_date.isoformat(),
            "delivery_date": self.delivery_date.isoformat(),
            "meets_promise": self.meets_promise,
            "chosen": self.chosen,
            "rejected_because": self.rejected_because,
        }


@dataclass(frozen=True)
class Quote:
    origin: Location
    zone: str
    weight_grams: int
    dimensional_weight_grams: int
    billable_weight_grams: int
    ship_by: date | None
    service_level: str
    promised_delivery: date
    chosen: RateOption
    options: list[RateOption]  # every priced candidate, chosen first, then by price
    excluded: list[dict] = field(default_factory=list)  # services not priced, with why
    reason: str = ""
    quoted_at: datetime | None = None

    @property
    def meets_promise(self) -> bool:
        return self.chosen.meets_promise

    def option(self, service_code: str) -> RateOption:
        """The option for `CARRIER:SERVICE`, or for a service code only one carrier uses."""
        matches = [o for o in self.options if service_code in (o.key, o.service.code)]
        if len(matches) != 1:
            quoted = ", ".join(o.key for o in self.options)
            problem = "is not one of" if not matches else "is ambiguous among"
            raise ValidationFailed(
                f"Service {service_code} {problem} the services quoted ({quoted}).",
                field="service_code",
                code="service_not_quoted" if not matches else "service_ambiguous",
            )
        return matches[0]

    def as_json(self) -> dict:
        """What `Shipment.rate_explanation` stores: every service considered and why."""
        return {
            "origin": self.origin.code,
            "origin_region": self.origin.region,
            "zone": self.zone,
            "weight_grams": self.weight_grams,
            "dimensional_weight_grams": self.dimensional_weight_grams,
            "billable_weight_grams": self.billable_weight_grams,
            "dimensional_divisor_cm3_per_kg": DIMENSIONAL_DIVISOR_CM3_PER_KG,
            "currency": settings.BASE_CURRENCY,
            "ship_by": self.ship_by.isoformat() if self.ship_by else None,
            "service_level": self.service_level,
            "promised_delivery": self.promised_delivery.isoformat(),
            "chosen": self.chosen.key,
            "meets_promise": self.chosen.meets_promise,
            "reason": self.reason,
            "quoted_at": self.quoted_at.isoformat() if self.quoted_at else None,
            "options": [option.as_json() for option in self.options],
            "excluded": list(self.excluded),
        }


def dimensional_weight_grams(length_mm: int, width_mm: int, height_mm: int) -> int:
    """mm³ / 5,000 = grams at 5,000 cm³ per kg; rounded up as carriers do."""
    return math.ceil(length_mm * width_mm * height_mm / DIMENSIONAL_DIVISOR_CM3_PER_KG)


def add_working_days(start: date, days: int) -> date:
    """`start` moved forward `days` working days (a weekend start first rolls to Monday)."""
    current = start
    while current.weekday() >= 5:
        current += timedelta(days=1)
    for _ in range(days):
        current += timedelta(days=1)
        while current.weekday() >= 5:
            current += timedelta(days=1)
    return current


def ship_date(service: CarrierService, now: datetime) -> date:
    """Today if handed over before the cutoff on a working day, else the next working day."""
    local = timezone.localtime(now)
    today = local.date()
    if today.weekday() < 5 and local.time() < service.cutoff_time:
        return today
    return add_working_days(today + timedelta(days=1), 0)


def promised_delivery(order: Order, now: datetime) -> tuple[date | None, str, date]:
    """(ship-by date, service level, the delivery date the order's promise allows)."""
    level = order.service_level or DEFAULT_SERVICE_LEVEL
    allowed_days = MAX_TRANSIT_DAYS.get(level, MAX_TRANSIT_DAYS[DEFAULT_SERVICE_LEVEL])
    ship_by = timezone.localdate(order.ship_by) if order.ship_by else None
    start = ship_by or timezone.localdate(now)
    return ship_by, level, add_working_days(start, allowed_days)


def quote(
    *,
    origin: Location,
    order: Order,
    weight_grams: int,
    length_mm: int = 0,
    width_mm: int = 0,
    height_mm: int = 0,
    now: datetime | None = None,
) -> Quote:
    """Price every service that can carry this parcel from `origin` to the order's ship-to,
    and choose the cheapest that meets the promise (module docstring). Two queries,
    however many services and rate cards there are. Raises ValidationFailed for a
    non-positive weight, negative dimensions, or a ship-to/weight nothing is priced for."""
    _validate_parcel(weight_grams, length_mm, width_mm, height_mm)
    now = now or timezone.now()
    zones = fastsql.select(ShippingZone, "t.country = %s", [order.ship_country])
    zone = destination_zone(order, zones)
    dimensional = dimensional_weight_grams(length_mm, width_mm, height_mm)
    billable = max(weight_grams, dimensional)
    services = _services_with_lane_rates(origin.region, zone)
    priced, excluded = [], []
    for service in services:
        card, problem = _rate_for(service, weight_grams, billable)
        if card is None:
            excluded.append(_excluded(service, problem))
        else:
            priced.append((service, card))
    if not priced:
        _refuse_unpriced(origin, zone, services, billable)
    ship_by, level, promised = promised_delivery(order, now)
    options = [_option(service, card, now, ship_by, promised) for service, card in priced]
    chosen, reason = _choose(options, promised)
    options = _explain(options, chosen)
    return Quote(
        origin=origin,
        zone=zone,
        weight_grams=weight_grams,
        dimensional_weight_grams=dimensional,
        billable_weight_grams=billable,
        ship_by=ship_by,
        service_level=level,
        promised_delivery=promised,
        chosen=options[0],
        options=options,
        excluded=excluded,
        reason=reason,
        quoted_at=now,
    )


def _validate_parcel(weight_grams, length_mm, width_mm, height_mm) -> None:
    if weight_grams is None or weight_grams <= 0:
        raise ValidationFailed(
            "The parcel's weight must be more than 0 g.", field="weight_grams", code="not_positive"
        )
    for name, value in (("length_mm", length_mm), ("width_mm", width_mm), ("height_mm", height_mm)):
        if value is None or value < 0:
            raise ValidationFailed(
                "Dimensions cannot be negative.", field=name, code="negative_dimension"
            )


def _services_with_lane_rates(region: str, zone: str) -> list[CarrierService]:
    """Active services of active carriers, each with its bands for this lane (1 query)."""
    return locking.services_with_lane_rates(region, zone)


def _rate_for(service, weight_grams: int, billable: int) -> tuple[RateCard | None, str]:
    if not service.lane_rates:
        return None, "no rate for this lane"
    if weight_grams > service.max_weight_grams:
        return None, f"{weight_grams} g is over its {service.max_weight_grams} g limit"
    card = next(
        (c for c in service.lane_rates if c.min_weight_grams < billable <= c.max_weight_grams),
        None,
    )
    if card is None:
        return None, f"no weight band for {billable} g on this lane"
    return card, ""


def _excluded(service: CarrierService, reason: str) -> dict:
    return {"key": f"{service.carrier.code}:{service.code}", "name": str(service), "reason": reason}


def _refuse_unpriced(origin, zone, services, billable) -> None:
    if any(service.lane_rates for service in services):
        raise ValidationFailed(
            f"No active service carries {billable} g (billable) from {origin.region} to "
            f"zone {zone}.",
            field="weight_grams",
            code="no_rate_for_weight",
        )
    raise ValidationFailed(
        f"No carrier rate from {origin.region} to the ship-to's zone ({zone}).",
        field="ship_to",
        code="no_rate_for_zone",
    )


def _option(service, card, now, ship_by, promised) -> RateOption:
    leaves = ship_date(service, now)
    arrives = add_working_days(leaves, card.transit_days)
    problems = []
    if ship_by and leaves > ship_by:
        problems.append(f"ships {leaves.isoformat()}, after the ship-by date {ship_by.isoformat()}")
    if arrives > promised:
        problems.append(
            f"delivers {arrives.isoformat()}, after the promised {promised.isoformat()}"
        )
    return RateOption(
        service=service,
        price=card.price,
        transit_days=card.transit_days,
        ship_date=leaves,
        delivery_date=arrives,
        meets_promise=not problems,
        promise_problem="; ".join(problems),
    )


def _cheapest(option: RateOption):
    return (option.price, option.transit_days, option.service.carrier.code, option.service.code)


def _fastest(option: RateOption):
    return (option.delivery_date, option.ship_date, *_cheapest(option))


def _choose(options: list[RateOption], promised: date) -> tuple[RateOption, str]:
    meeting = [option for option in options if option.meets_promise]
    if meeting:
        chosen = min(meeting, key=_cheapest)
        return chosen, (
            f"Cheapest of {len(meeting)} service(s) that ship in time and deliver by "
            f"{promised.isoformat()}."
        )
    chosen = min(options, key=_fastest)
    return chosen, (
        f"No service meets the promise ({chosen.promise_problem}); the earliest delivery "
        "was chosen."
    )


def _explain(options: list[RateOption], chosen: RateOption) -> list[RateOption]:
    """Mark the choice and say, for every other option, why it lost. Chosen first."""
    explained = []
    for option in sorted(options, key=_cheapest):
        if option is chosen:
            explained.insert(0, replace(option, chosen=True))
        else:
            explained.append(replace(option, rejected_because=_why_not(option, chosen)))
    return explained


def _why_not(option: RateOption, chosen: RateOption) -> str:
    if not option.meets_promise:
        if chosen.meets_promise:
            return f"misses the promise: {option.promise_problem}"
        return f"misses the promise and is not the earliest delivery: {option.promise_problem}"
    if option.price > chosen.price:
        return f"costs {option.price - chosen.price} more than {chosen.key}"
    if option.transit_days > chosen.transit_days:
        return f"same price as {chosen.key}, {option.transit_days - chosen.transit_days} more transit day(s)"
    return f"same price and transit as {chosen.key}; {chosen.key} sorts first"
