"""Lots and expiry: first-expiring-first suggestions; expired lots go to quarantine."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from erp.errors import ValidationFailed
from erp.roles import require_permission, system_actor
from inventory.errors import InsufficientStock
from inventory.models import Lot, LotBalance, MovementKind, StockStatus
from inventory.services.ledger import Movement, post_movements


def register_lot(*, sku, code: str, expires_on: date | None, actor) -> Lot:
    require_permission(actor, "inventory.add_stockledgerentry", action="register lots")
    if not sku.lot_tracked:
        raise ValidationFailed(f"{sku.code} is not lot-tracked.", field="sku", code="not_tracked")
    if sku.expiry_tracked and expires_on is None:
        raise ValidationFailed(
            f"{sku.code} tracks expiry: give the expiry date.", field="expires_on", code="required"
        )
    lot, created = Lot.objects.get_or_create(
        sku=sku, code=code.strip(), defaults={"expires_on": expires_on}
    )
    if not created and lot.expires_on != expires_on:
        raise ValidationFailed(
            f"Lot {code} is already recorded with expiry {lot.expires_on}.",
            field="expires_on",
            code="mismatch",
        )
    return lot


def suggest_lots(
    *, sku, location, quantity: int, today: date | None = None
) -> list[tuple[Lot, int]]:
    """FEFO: sellable lots at the node, first-expiring first, never an expired one."""
    today = today or timezone.localdate()
    balances = (
        LotBalance.objects.filter(
            sku=sku, location=location, status=StockStatus.SELLABLE, on_hand__gt=0
        )
        .exclude(lot__expires_on__lt=today)
        .select_related("lot")
        .order_by("lot__expires_on", "lot__code")
    )
    plan, remaining = [], quantity
    for balance in balances:
        if remaining <= 0:
            break
        take = min(balance.on_hand, remaining)
        plan.append((balance.lot, take))
        remaining -= take
    return plan


def quarantine_expired_lots(*, today: date | None = None) -> int:
    """Move every sellable unit of an expired lot to quarantine (daily beat task)."""
    today = today or timezone.localdate()
    expired = list(
        LotBalance.objects.filter(
            status=StockStatus.SELLABLE, on_hand__gt=0, lot__expires_on__lt=today
        )
        .select_related("lot")
        .order_by("pk")
    )
    if not expired:
        return 0
    actor = system_actor()
    moved = 0
    for balance in expired:
        try:
            moved += _quarantine(balance, actor)
        except InsufficientStock:
            # Units of this lot are reserved for orders: pickers never get an expired lot
            # suggested, and the job moves the rest once the reservations are re-routed.
            continue
    return moved


def _quarantine(balance: LotBalance, actor) -> int:
    with transaction.atomic():
        movements = [
            Movement(
                balance.sku_id,
                balance.location_id,
                StockStatus.SELLABLE,
                -balance.on_hand,
                balance.lot_id,
            ),
            Movement(
                balance.sku_id,
                balance.location_id,
                StockStatus.QUARANTINE,
                balance.on_hand,
                balance.lot_id,
            ),
        ]
        post_movements(
            movements=movements,
            kind=MovementKind.STATUS_CHANGE,
            actor=actor,
            reference=f"LOT-{balance.lot.code}",
            reason=f"lot expired {balance.lot.expires_on}",
        )
    return balance.on_hand
