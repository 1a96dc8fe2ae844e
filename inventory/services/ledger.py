"""The one place stock changes: ledger entries and balances in one transaction.

Every movement service (receipt, status change, transfer, adjustment, shipment, return)
builds `Movement`s and calls `post_movements`. It locks the touched balance rows in a
fixed order, checks that no on-hand figure goes negative and that sellable stock never
drops below what is reserved, appends the ledger entries, updates the balances, and marks
the SKUs whose sellable stock moved so their channel availability is republished.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from erp import events, fastsql
from erp.errors import ValidationFailed
from erp.input_bounds import integer_range
from inventory.errors import InsufficientStock
from inventory.models import (
    AvailabilityDirty,
    LotBalance,
    MovementKind,
    StockBalance,
    StockLedgerEntry,
    StockStatus,
)
from inventory.services.locking import lock_balances, lock_lot_balances

ON_HAND_MAX = min(
    integer_range(StockBalance._meta.get_field("on_hand"))[1],
    integer_range(LotBalance._meta.get_field("on_hand"))[1],
)


@dataclass(frozen=True)
class Movement:
    sku_id: int
    location_id: int
    status: str
    quantity: int
    lot_id: int | None = None


def post_movements(
    *,
    movements: list[Movement],
    kind: str,
    actor,
    reference: str = "",
    reason: str = "",
    occurred_at: datetime | None = None,
    reserved_changes: dict | None = None,
) -> list[StockLedgerEntry]:
    """Append ledger entries for `movements` and apply them to the balances.

    `reserved_changes` maps (sku_id, location_id) to a change of sellable `reserved`
    applied under the same lock (shipping consumes a reservation as stock leaves).
    """
    if kind not in MovementKind.values:
        raise ValidationFailed(f"Unknown movement kind {kind!r}.", field="kind")
    movements = [move for move in movements if move.quantity != 0]
    reserved_changes = reserved_changes or {}
    with transaction.atomic(savepoint=False):
        keys = {(m.sku_id, m.location_id, m.status) for m in movements}
        keys |= {(sku, loc, StockStatus.SELLABLE) for sku, loc in reserved_changes}
        balances = lock_balances(keys)
        _apply_to_balances(balances, movements, reserved_changes)
        _apply_to_lot_balances([m for m in movements if m.lot_id])
        now = timezone.now()
        entries = StockLedgerEntry.objects.bulk_create(
            [
                StockLedgerEntry(
                    sku_id=m.sku_id,
                    location_id=m.location_id,
                    status=m.status,
                    lot_id=m.lot_id,
                    quantity=m.quantity,
                    kind=kind,
                    reference=reference[:128],
                    reason=reason[:255],
                    actor=actor,
                    occurred_at=occurred_at or now,
                )
                for m in movements
            ]
        )
        sellable_skus = {key[0] for key in keys if key[2] == StockStatus.SELLABLE}
        mark_availability_dirty(sellable_skus)
        announce_sellable_stock(
            {m.sku_id for m in movements if m.status == StockStatus.SELLABLE and m.quantity > 0},
            actor=actor,
        )
    return entries


SELLABLE_STOCK_ARRIVED = "inventory.sellable_stock_arrived"


def announce_sellable_stock(sku_ids, *, actor) -> None:
    """Tell subscribers (order backorders) that these SKUs gained sellable units: a
    receipt, a transfer arriving, a restocked return, a released reservation."""
    sku_ids = sorted(set(sku_ids))
    if sku_ids:
        events.publish(
            events.DomainEvent(
                SELLABLE_STOCK_ARRIVED, {"sku_ids": sku_ids}, actor_id=getattr(actor, "pk", None)
            )
        )


def _apply_to_balances(balances, movements, reserved_changes) -> None:
    deltas = defaultdict(int)
    for move in movements:
        deltas[(move.sku_id, move.location_id, move.status)] += move.quantity
    for (sku_id, location_id), change in reserved_changes.items():
        balances[(sku_id, location_id, StockStatus.SELLABLE)].reserved += change
    for key, delta in deltas.items():
        balances[key].on_hand += delta
    # The rows are locked, so values read under the lock are current: plain assignment
    # is as safe here as F() and lets one UPDATE write every row.
    for key, balance in balances.items():
        _refuse_beyond_column(balance.on_hand)
        if balance.on_hand < 0:
            raise InsufficientStock(
                f"Only {balance.on_hand - deltas[key]} on hand in {balance.status} at this location; "
                f"{-deltas[key]} requested.",
                field="quantity",
            )
        if balance.reserved < 0 or balance.reserved > balance.on_hand:
            raise InsufficientStock(
                f"{balance.reserved} units are reserved for orders; only {balance.on_hand} would remain "
                "on hand. Release or ship the reservations first.",
                field="quantity",
                code="reserved_stock",
            )
    _write_rows(StockBalance, balances.values(), ("on_hand", "reserved", "updated_at"))


def set_reserved(reserved: dict[int, int]) -> None:
    """Set sellable `reserved` on balance rows the caller has locked (reservations hold or
    give back units without moving stock): one UPDATE for all of them. The database's
    check constraints refuse reserved above on hand or below zero."""
    fastsql.set_by_pk(StockBalance, "reserved", reserved, touch="updated_at")


def _refuse_beyond_column(on_hand: int) -> None:
    """A balance is an integer column: more units than it holds is refused, not overflowed."""
    if on_hand > ON_HAND_MAX:
        raise ValidationFailed(
            f"A balance holds at most {ON_HAND_MAX} units.", field="quantity", code="max_value"
        )


def _write_rows(model, rows, fields) -> None:
    """One UPDATE per locked row, sent together (the hot path of every movement)."""
    rows = list(rows)
    if "updated_at" in fields:
        now = timezone.now()
        for row in rows:
            row.updated_at = now
    fastsql.update_rows(model, rows, list(fields))


def _apply_to_lot_balances(movements: list[Movement]) -> None:
    if not movements:
        return
    deltas = defaultdict(int)
    for move in movements:
        deltas[(move.sku_id, move.location_id, move.status, move.lot_id)] += move.quantity
    lot_balances = lock_lot_balances(set(deltas))
    for key, delta in deltas.items():
        lot_balances[key].on_hand += delta
        _refuse_beyond_column(lot_balances[key].on_hand)
        if lot_balances[key].on_hand < 0:
            raise InsufficientStock(
                f"Only {lot_balances[key].on_hand - delta} of this lot on hand in {key[2]}.",
                field="lot",
            )
    _write_rows(LotBalance, lot_balances.values(), ("on_hand",))


def mark_availability_dirty(sku_ids) -> None:
    """Queue these SKUs for availability republication after commit."""
    sku_ids = sorted(set(sku_ids))
    if not sku_ids:
        return
    now = timezone.now()
    fastsql.insert_keys(AvailabilityDirty, ("sku", "marked_at"), [(sku, now) for sku in sku_ids])
