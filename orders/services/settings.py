"""Writes to the rules routing and validation read: channel order policies, shipping
zones and rates, drop-ship sources and substitution rules.

Each goes through `erp.services.master_data.save_record`: the actor's permission, a
reason (kept in the history with the actor), the model's validation and the rules below
that span records, all before anything is saved. The API and the back office call these
functions, so both refuse the same things. Zones and rates are cached by routing for a
minute; a saved change clears that cache after commit, so the next order sees it.
"""

import re
from decimal import Decimal

from django.db import transaction

from erp.errors import FieldError
from erp.models import Location, Sku
from erp.services.master_data import save_record
from orders.models import (
    ChannelOrderPolicy,
    DropshipSource,
    ShippingRate,
    ShippingZone,
    SubstitutionRule,
)
from orders.services.routing import forget_rate_table

COUNTRY = re.compile(r"^[A-Z]{2}$")
ZONE_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def _strip(instance, *names: str, upper: bool = False, lower: bool = False) -> None:
    for name in names:
        value = (getattr(instance, name) or "").strip()
        setattr(instance, name, value.upper() if upper else value.lower() if lower else value)


def _not_negative(instance, *names: str) -> list[FieldError]:
    return [
        FieldError(name, "negative", "Must be zero or more.")
        for name in names
        if getattr(instance, name) is not None and getattr(instance, name) < Decimal(0)
    ]


# --- channel order policy --------------------------------------------------------------------


def create_order_policy(*, actor, data: dict, reason: str) -> ChannelOrderPolicy:
    """Give a channel its order policy (one per channel): the risk score above which an
    order is held (0–100), whether payment must be captured, substitution, wave priority."""
    return save_record(ChannelOrderPolicy, instance=None, actor=actor, data=data, reason=reason)


def update_order_policy(
    *, policy: ChannelOrderPolicy, actor, data: dict, reason: str
) -> ChannelOrderPolicy:
    """Change a channel's order policy; the next order of the channel is held by it."""
    return save_record(ChannelOrderPolicy, instance=policy, actor=actor, data=data, reason=reason)


# --- shipping zones and rates -----------------------------------------------------------------


def _zone_checks(zone: ShippingZone) -> list[FieldError]:
    _strip(zone, "country", "postal_prefix", upper=True)
    _strip(zone, "zone", lower=True)
    errors = []
    if not COUNTRY.match(zone.country):
        errors.append(FieldError("country", "invalid", "Use the two-letter country code (US)."))
    if not ZONE_CODE.match(zone.zone):
        errors.append(FieldError("zone", "invalid", "Use lower-case letters, digits and dashes."))
    return errors


def _zone_rules(zone: ShippingZone) -> list[FieldError]:
    """A zone no rate reaches would price every order to it at the fallback rate."""
    if ShippingRate.objects.filter(zone=zone.zone).exists():
        return []
    return [
        FieldError(
            "zone",
            "unpriced",
            f"No shipping rate reaches zone {zone.zone}; add its rates first.",
        )
    ]


def _save_zone(instance, *, actor, data, reason) -> ShippingZone:
    zone = save_record(
        ShippingZone,
        instance=instance,
        actor=actor,
        data=data,
        reason=reason,
        checks=_zone_checks,
        rules=_zone_rules,
    )
    transaction.on_commit(forget_rate_table)
    return zone


def create_shipping_zone(*, actor, data: dict, reason: str) -> ShippingZone:
    """Map a country and postal prefix to a zone (the longest matching prefix wins)."""
    return _save_zone(None, actor=actor, data=data, reason=reason)


def update_shipping_zone(*, zone: ShippingZone, actor, data: dict, reason: str) -> ShippingZone:
    """Change which zone a country and postal prefix fall in."""
    return _save_zone(zone, actor=actor, data=data, reason=reason)


def _rate_checks(rate: ShippingRate) -> list[FieldError]:
    _strip(rate, "origin_region")
    _strip(rate, "zone", lower=True)
    return _not_negative(rate, "cost")


def _rate_rules(rate: ShippingRate) -> list[FieldError]:
    """A rate from a region with no shipping node would never be used."""
    if Location.objects.filter(region=rate.origin_region, active=True, can_ship=True).exists():
        return []
    return [
        FieldError(
            "origin_region",
            "no_node",
            f"No active shipping node is in region {rate.origin_region}.",
        )
    ]


def _save_rate(instance, *, actor, data, reason) -> ShippingRate:
    rate = save_record(
        ShippingRate,
        instance=instance,
        actor=actor,
        data=data,
        reason=reason,
        checks=_rate_checks,
        rules=_rate_rules,
    )
    transaction.on_commit(forget_rate_table)
    return rate


def create_shipping_rate(*, actor, data: dict, reason: str) -> ShippingRate:
    """Price a lane (origin region → zone): cost and transit days routing compares."""
    return _save_rate(None, actor=actor, data=data, reason=reason)


def update_shipping_rate(*, rate: ShippingRate, actor, data: dict, reason: str) -> ShippingRate:
    """Change a lane's cost or transit days; the next routing compares nodes by it."""
    return _save_rate(rate, actor=actor, data=data, reason=reason)


# --- drop-ship sources and substitution rules --------------------------------------------------


def _dropship_checks(source: DropshipSource) -> list[FieldError]:
    """Before the model's validation, whose own check of the node kind has no words."""
    errors = _not_negative(source, "cost")
    location = source.location if source.location_id else None
    if location is None:
        return errors
    if location.kind != Location.Kind.DROPSHIP:
        return [
            *errors,
            FieldError(
                "location", "not_dropship", f"{location.code} is not a drop-ship supplier node."
            ),
        ]
    if not location.active:
        return [*errors, FieldError("location", "inactive", f"{location.code} is inactive.")]
    return errors


def create_dropship_source(*, actor, data: dict, reason: str) -> DropshipSource:
    """Let a drop-ship supplier node ship a SKU directly, at a cost and transit time."""
    return save_record(
        DropshipSource,
        instance=None,
        actor=actor,
        data=data,
        reason=reason,
        checks=_dropship_checks,
    )


def update_dropship_source(
    *, source: DropshipSource, actor, data: dict, reason: str
) -> DropshipSource:
    """Change a drop-ship source's node, cost or transit time."""
    return save_record(
        DropshipSource,
        instance=source,
        actor=actor,
        data=data,
        reason=reason,
        checks=_dropship_checks,
    )


def _substitution_checks(rule: SubstitutionRule) -> list[FieldError]:
    _strip(rule, "product_family")
    return []


def _substitution_rules(rule: SubstitutionRule) -> list[FieldError]:
    if Sku.objects.filter(product_family=rule.product_family).exists():
        return []
    return [
        FieldError(
            "product_family",
            "unknown_family",
            f"No SKU is in the product family {rule.product_family!r}.",
        )
    ]


def create_substitution_rule(*, actor, data: dict, reason: str) -> SubstitutionRule:
    """Allow (or forbid) listed substitutes for a product family's out-of-stock SKUs."""
    return save_record(
        SubstitutionRule,
        instance=None,
        actor=actor,
        data=data,
        reason=reason,
        checks=_substitution_checks,
        rules=_substitution_rules,
    )


def update_substitution_rule(
    *, rule: SubstitutionRule, actor, data: dict, reason: str
) -> SubstitutionRule:
    """Change whether a product family may ship substitutes."""
    return save_record(
        SubstitutionRule,
        instance=rule,
        actor=actor,
        data=data,
        reason=reason,
        checks=_substitution_checks,
        rules=_substitution_rules,
    )
