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

from django.db import DEFAULT_DB_ALIAS, transaction
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
from inventory.services.locking import (
    apply_balance_changes,
    create_balances,
    lock_lot_balances,
    read_balances,
)

ON_HAND_MAX = min(
    integer_range(StockBalance._meta.get_field("on_hand"))[1],
    integer_range(LotBalance._meta.get_field("on_hand"))[1],
)


MOVEMENT_KINDS = frozenset(MovementKind.values)
LEDGER_FIELDS = (
    "sku",
    "location",
    "status",
    "lot",
    "quantity",
    "kind",
    "reference",
    "reason",
    "actor",
    "occurred_at",
    "recorded_at",
)
LEDGER_ATTNAMES = ["id", *(StockLedgerEntry._meta.get_field(f).attname for f in LEDGER_FIELDS)]


@dataclass(frozen=True)
class Movement:
    sku_id: int
    location_id: int
    status: str
    quantity: int
    lot_id: int | None = None
    reference: str = ""  # the document this movement belongs to, when not the call's


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
    `reference` names the document; a movement's own `reference` overrides it (a truck's
    parcels post together, each entry naming its shipment).
    """
    if kind not in MOVEMENT_KINDS:
        raise ValidationFailed(f"Unknown movement kind {kind!r}.", field="kind")
    movements = [move for move in movements if move.quantity != 0]
    reserved_changes = reserved_changes or {}
    # Pipelined: BEGIN (when this opens the transaction) travels with the balance update
    # (which also queues the SKUs whose sellable stock moved for availability
    # republication), then the ledger insert: two round trips for the whole posting.
    with transaction.atomic(savepoint=False), fastsql.pipeline():
        changes = _balance_changes(movements, reserved_changes)
        _apply_to_balances(changes)
        _apply_to_lot_balances([m for m in movements if m.lot_id])
        now = timezone.now()
        occurred_at = occurred_at or now
        actor_id = getattr(actor, "pk", None)
        reason = reason[:255]
        rows = [
            (
                m.sku_id,
                m.location_id,
                m.status,
                m.lot_id,
                m.quantity,
                kind,
                (m.reference or reference)[:128],
                reason,
                actor_id,
                occurred_at,
                now,
            )
            for m in movements
        ]
        ids = fastsql.insert_values(StockLedgerEntry, LEDGER_FIELDS, rows, returning=True)
        entries = [
            StockLedgerEntry.from_db(DEFAULT_DB_ALIAS, LEDGER_ATTNAMES, (pk, *row))
            for pk, row in zip(ids, rows, strict=True)
        ]
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


def _balance_changes(movements, reserved_changes) -> dict:
    """(sku, location, status) → (change of on hand, change of reserved)."""
    changes = defaultdict(lambda: [0, 0])
    for move in movements:
        changes[(move.sku_id, move.location_id, move.status)][0] += move.quantity
    for (sku_id, location_id), change in reserved_changes.items():
        changes[(sku_id, location_id, StockStatus.SELLABLE)][1] += change
    return {key: tuple(change) for key, change in changes.items()}


def _apply_to_balances(changes: dict) -> None:
    """Apply the changes under row locks (one statement for rows that exist and stay
    valid); create the rows a receipt needs first, and refuse, naming the figures, a
    change that would take stock below zero or below what is reserved."""
    refused = apply_balance_changes(changes, limit=ON_HAND_MAX)
    if not refused:
        return
    current = read_balances(refused)
    missing = [key for key in refused if key not in current]
    for key in refused:
        on_hand_change, reserved_change = changes[key]
        balance = current.get(key) or StockBalance(sku_id=key[0], location_id=key[1], status=key[2])
        _refuse_invalid(balance, on_hand_change, reserved_change)
    if len(missing) != len(refused):  # a locked row refused for no reason we know
        raise RuntimeError(f"Balance change refused without cause: {refused}")
    # Every refused key was only missing, and its change is valid on an empty row.
    create_balances(missing)
    if apply_balance_changes({key: changes[key] for key in missing}, limit=ON_HAND_MAX):
        raise InsufficientStock("Stock moved meanwhile; try again.", field="quantity")


def _refuse_invalid(balance: StockBalance, on_hand_change: int, reserved_change: int) -> None:
    on_hand = balance.on_hand + on_hand_change
    reserved = balance.reserved + reserved_change
    _refuse_beyond_column(on_hand)
    if on_hand < 0:
        raise InsufficientStock(
            f"Only {balance.on_hand} on hand in {balance.status} at this location; "
            f"{-on_hand_change} requested.",
            field="quantity",
        )
    if reserved < 0 or reserved > on_hand:
        raise InsufficientStock(
            f"{reserved} units are reserved for orders; only {on_hand} would remain "
            "on hand. Release or ship the reservations first.",
            field="quantity",
            code="reserved_stock",
        )


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
