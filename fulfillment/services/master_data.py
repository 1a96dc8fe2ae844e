"""Writes to fulfillment master data: carriers, carrier services, rate cards, boxes and
channel fulfillment policies (slots are assigned on the floor: `waves.assign_slot`).

The same contract as the core master data (erp.services.master_data): every write checks
the actor's permission, validates the whole record (field rules, database constraints,
the cross-record rules below) before touching the database, and records who changed
what in the model's history where it keeps one.
"""

import re

from erp.errors import FieldError
from erp.services.master_data import save_record
from fulfillment.models import (
    Box,
    Carrier,
    CarrierService,
    ChannelFulfillmentPolicy,
    RateCard,
)


def _write(model, *, instance, actor, data: dict, reason: str, rules=None, checks=None):
    return save_record(
        model, instance=instance, actor=actor, data=data, reason=reason, rules=rules, checks=checks
    )


# --- rules that span fields or records ------------------------------------------------------


def _carrier_rules(carrier: Carrier) -> list[FieldError]:
    if not carrier.tracking_pattern:
        return []
    try:
        re.compile(carrier.tracking_pattern)
    except re.error as error:
        return [
            FieldError("tracking_pattern", "invalid_pattern", f"Not a regular expression: {error}.")
        ]
    return []


def _rate_card_bounds(rate: RateCard) -> list[FieldError]:
    low, high = rate.min_weight_grams, rate.max_weight_grams
    if low is None or high is None or high > low:
        return []
    return [
        FieldError(
            "max_weight_grams",
            "empty_band",
            f"The band must end above where it starts ({low} g).",
        )
    ]


def _rate_card_rules(rate: RateCard) -> list[FieldError]:
    """Bands of one lane must not overlap, or a parcel's price would be ambiguous."""
    if rate.max_weight_grams is None or rate.min_weight_grams is None:
        return []
    overlapping = (
        RateCard.objects.filter(
            service_id=rate.service_id,
            origin_region=rate.origin_region,
            zone=rate.zone,
            min_weight_grams__lt=rate.max_weight_grams,
            max_weight_grams__gt=rate.min_weight_grams,
        )
        .exclude(pk=rate.pk)
        .order_by("min_weight_grams")
        .first()
    )
    if overlapping is None:
        return []
    return [
        FieldError(
            "max_weight_grams",
            "overlapping_band",
            f"Overlaps the band {overlapping.min_weight_grams}–{overlapping.max_weight_grams} g "
            "of this service and lane.",
        )
    ]


# --- services --------------------------------------------------------------------------------


def create_carrier(*, actor, data: dict, reason: str = "created") -> Carrier:
    """Create a carrier; its tracking format, when given, must be a regular expression."""
    return _write(
        Carrier, instance=None, actor=actor, data=data, reason=reason, rules=_carrier_rules
    )


def update_carrier(*, carrier: Carrier, actor, data: dict, reason: str = "edited") -> Carrier:
    """Edit a carrier; its tracking format, when given, must be a regular expression."""
    return _write(
        Carrier, instance=carrier, actor=actor, data=data, reason=reason, rules=_carrier_rules
    )


def create_carrier_service(*, actor, data: dict, reason: str = "created") -> CarrierService:
    """Create a carrier service; its code is unique per carrier."""
    return _write(CarrierService, instance=None, actor=actor, data=data, reason=reason)


def update_carrier_service(
    *, service: CarrierService, actor, data: dict, reason: str = "edited"
) -> CarrierService:
    """Edit a carrier service (cutoff, level, weight limit, active)."""
    return _write(CarrierService, instance=service, actor=actor, data=data, reason=reason)


def create_rate_card(*, actor, data: dict, reason: str = "created") -> RateCard:
    """Add a price band; bands of one service and lane never overlap."""
    return _write(
        RateCard,
        instance=None,
        actor=actor,
        data=data,
        reason=reason,
        checks=_rate_card_bounds,
        rules=_rate_card_rules,
    )


def update_rate_card(*, rate_card: RateCard, actor, data: dict, reason: str = "edited") -> RateCard:
    """Edit a price band; bands of one service and lane never overlap."""
    return _write(
        RateCard,
        instance=rate_card,
        actor=actor,
        data=data,
        reason=reason,
        checks=_rate_card_bounds,
        rules=_rate_card_rules,
    )


def create_box(*, actor, data: dict, reason: str = "created") -> Box:
    """Add a carton the packers use."""
    return _write(Box, instance=None, actor=actor, data=data, reason=reason)


def update_box(*, box: Box, actor, data: dict, reason: str = "edited") -> Box:
    """Edit a carton (size, weights, cost, active)."""
    return _write(Box, instance=box, actor=actor, data=data, reason=reason)


def create_channel_policy(
    *, actor, data: dict, reason: str = "created"
) -> ChannelFulfillmentPolicy:
    """Set a channel's fulfillment policy (one per channel)."""
    return _write(ChannelFulfillmentPolicy, instance=None, actor=actor, data=data, reason=reason)


def update_channel_policy(
    *, policy: ChannelFulfillmentPolicy, actor, data: dict, reason: str = "edited"
) -> ChannelFulfillmentPolicy:
    """Edit a channel's fulfillment policy."""
    return _write(ChannelFulfillmentPolicy, instance=policy, actor=actor, data=data, reason=reason)
