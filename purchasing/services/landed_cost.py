"""Landed cost: freight, duty and other charges on a PO, spread over the units received.

A charge is allocated to the PO's received lines by value (received × unit cost), by
quantity or by weight (received × the SKU's `weight_grams`), in cents, the rounding
remainder going to the line with the largest share. Each line's share raises the SKU's
moving-average cost through `costing.add_landed_cost`; what can no longer be capitalized
(the units have left) comes back as expensed. One `purchasing.landed_cost_applied` event
per charge, in the same transaction.
"""

from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from erp import events
from erp.errors import Conflict, NotFound, ValidationFailed
from erp.roles import require_permission
from inventory.services import costing
from purchasing.events import LANDED_COST_APPLIED
from purchasing.locking import lock_purchase_order, lock_purchase_order_lines
from purchasing.models import LandedCharge, LandedChargeAllocation, PurchaseOrderLine
from purchasing.services import timeline

CENTS = Decimal("0.01")
AMOUNT_MAX = Decimal("999999999999.99")


def _amount(amount) -> Decimal:
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(
            "Give the amount as a number.", field="amount", code="invalid"
        ) from None
    if not value.is_finite():
        raise ValidationFailed("Give the amount as a number.", field="amount", code="invalid")
    if value < 0:
        raise ValidationFailed("A charge cannot be negative.", field="amount", code="min_value")
    if value > AMOUNT_MAX:
        raise ValidationFailed("The amount is too large.", field="amount", code="max_value")
    return value.quantize(CENTS)


def _weights(lines: list[PurchaseOrderLine], basis: str) -> dict[int, Decimal]:
    if basis == LandedCharge.Basis.VALUE:
        return {line.pk: line.quantity_received * line.unit_cost for line in lines}
    if basis == LandedCharge.Basis.QUANTITY:
        return {line.pk: Decimal(line.quantity_received) for line in lines}
    return {line.pk: Decimal(line.quantity_received * line.sku.weight_grams) for line in lines}


def allocate(amount: Decimal, weights: dict[int, Decimal]) -> dict[int, Decimal]:
    """Split `amount` (cents) in proportion to `weights`; the sum is exactly `amount`."""
    total = sum(weights.values(), Decimal("0"))
    shares = {
        key: (amount * weight / total).quantize(CENTS, ROUND_DOWN)
        for key, weight in weights.items()
    }
    remainder = amount - sum(shares.values(), Decimal("0"))
    if remainder:
        largest = max(weights, key=lambda key: (weights[key], -key))
        shares[largest] += remainder
    return shares


@transaction.atomic
def add_landed_charge(
    *,
    purchase_order,
    kind: str,
    amount,
    actor,
    basis: str = LandedCharge.Basis.VALUE,
    description: str = "",
    currency: str | None = None,
    exchange_rate=None,
) -> LandedCharge:
    """Record a charge on a PO and apply it to the units received so far.

    Refused (nothing written): a negative or non-numeric amount, an unknown kind or basis,
    a PO with nothing received yet, weight allocation when no received SKU has a weight.
    `currency` defaults to the PO's (its exchange rate then too); another currency needs
    its rate to the base currency.
    """
    require_permission(actor, "purchasing.add_landedcharge", action="add landed charges")
    value = _amount(amount)
    if kind not in LandedCharge.Kind.values:
        raise ValidationFailed(
            "Choose freight, duty or other.", field="kind", code="invalid_choice"
        )
    if basis not in LandedCharge.Basis.values:
        raise ValidationFailed(
            "Allocate by value, quantity or weight.", field="basis", code="invalid_choice"
        )
    purchase_order = lock_purchase_order(purchase_order.pk)
    if purchase_order is None:
        raise NotFound("No such purchase order.")
    currency = currency or purchase_order.currency
    rate = _rate(purchase_order, currency, exchange_rate)
    lines = [
        line
        for line in lock_purchase_order_lines(purchase_order.pk).values()
        if line.quantity_received
    ]
    if not lines:
        raise Conflict(
            f"Nothing has been received on {purchase_order.number} yet: add charges once goods arrive.",
            field="purchase_order",
            code="nothing_received",
        )
    weights = {key: weight for key, weight in _weights(lines, basis).items() if weight > 0}
    if not weights:
        raise ValidationFailed(
            "No received SKU on this PO has a weight: allocate by value or quantity.",
            field="basis",
            code="no_weights",
        )
    base_amount = (value * rate).quantize(CENTS)
    charge = LandedCharge.objects.create(
        purchase_order=purchase_order,
        kind=kind,
        description=description[:255],
        amount=value,
        currency=currency,
        exchange_rate=rate,
        basis=basis,
        created_by=actor,
    )
    _apply(
        purchase_order,
        charge,
        {line.pk: line for line in lines},
        allocate(base_amount, weights),
        actor,
    )
    return charge


def _rate(purchase_order, currency: str, exchange_rate) -> Decimal:
    if currency == settings.BASE_CURRENCY:
        return Decimal("1")
    if currency == purchase_order.currency and exchange_rate is None:
        return purchase_order.exchange_rate
    try:
        rate = Decimal(str(exchange_rate)) if exchange_rate is not None else None
    except (InvalidOperation, ValueError):
        rate = None
    if rate is None or not rate.is_finite() or rate <= 0:
        raise ValidationFailed(
            f"Give the exchange rate from {currency} to {settings.BASE_CURRENCY} (above zero).",
            field="exchange_rate",
            code="required",
        )
    return rate


def _apply(purchase_order, charge, lines_by_id, shares, actor) -> None:
    capitalized = expensed = Decimal("0")
    allocations = []
    for line_id, share in sorted(shares.items()):
        line = lines_by_id[line_id]
        if share:
            result = costing.add_landed_cost(
                sku_id=line.sku_id,
                location_id=purchase_order.destination_id,
                amount=share,
                actor=actor,
                source=f"{purchase_order.number} {charge.get_kind_display().lower()}",
            )
        else:
            result = costing.LandedCostResult(Decimal("0"), Decimal("0"))
        capitalized += result.capitalized
        expensed += result.expensed
        allocations.append(
            LandedChargeAllocation(
                charge=charge,
                purchase_order_line=line,
                amount=share,
                capitalized=result.capitalized,
                expensed=result.expensed,
            )
        )
        PurchaseOrderLine.objects.filter(pk=line_id).update(landed_cost=F("landed_cost") + share)
    LandedChargeAllocation.objects.bulk_create(allocations)
    charge.capitalized, charge.expensed, charge.applied_at = capitalized, expensed, timezone.now()
    charge.save(update_fields=["capitalized", "expensed", "applied_at"])
    total = sum(shares.values(), Decimal("0"))
    timeline.note(
        purchase_order,
        "landed_cost",
        f"{charge.get_kind_display()} {charge.amount} {charge.currency} allocated "
        f"{charge.get_basis_display().lower()}: {capitalized} capitalized, {expensed} expensed.",
        actor=actor,
    )
    events.publish(
        events.DomainEvent(
            LANDED_COST_APPLIED,
            {
                "purchase_order_id": purchase_order.pk,
                "charge_ids": [charge.pk],
                "capitalized": str(capitalized),
                "expensed": str(expensed),
                "total": str(total),
            },
            actor_id=actor.pk,
        )
    )
