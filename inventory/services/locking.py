"""Row locks on balances, always taken in primary-key order so two transactions that
touch the same rows queue instead of deadlocking (Saleor's lock_objects pattern).

These run on every stock movement, so they are written as plain SQL: one SELECT … FOR
UPDATE with row-value matching instead of an ORM filter built from OR-ed Q objects.
"""

from dataclasses import dataclass

from django.db import connection

from erp import fastsql
from inventory.models import CycleCount, CycleCountLine, LotBalance, StockBalance, StockStatus
from inventory.selectors import ATP_FROM, ATP_SQL

BalanceKey = tuple[int, int, str]  # (sku_id, location_id, status)
LotKey = tuple[int, int, str, int]  # (sku_id, location_id, status, lot_id)

_BALANCE_FIELDS = ("sku_id", "location_id", "status")
_LOT_FIELDS = ("sku_id", "location_id", "status", "lot_id")


def lock_balances(keys: set[BalanceKey]) -> dict[BalanceKey, StockBalance]:
    """Lock (creating when missing) the balance row of every key; returns them by key."""
    return _lock_or_create(StockBalance, _BALANCE_FIELDS, sorted(set(keys)))


def lock_lot_balances(keys: set[LotKey]) -> dict[LotKey, LotBalance]:
    return _lock_or_create(LotBalance, _LOT_FIELDS, sorted(set(keys)))


@dataclass
class LockedSellable:
    """A sellable balance row read under the lock, with its ATP (the selector's formula)."""

    pk: int
    sku_id: int
    location_id: int
    reserved: int
    atp: int
    recounting: bool  # a count opened after a short pick covers this SKU at this node


# A count of chosen SKUs (what a short pick opens) still open for this SKU at this node: the
# balance is in doubt until it closes.
_RECOUNTING_SQL = f"""EXISTS (
    SELECT 1 FROM {CycleCountLine._meta.db_table} cl
      JOIN {CycleCount._meta.db_table} c ON c.id = cl.count_id
     WHERE cl.sku_id = b.sku_id AND c.location_id = b.location_id
       AND c.state = 'open' AND c.scope = 'skus')"""


def lock_sellable_stock(sku_ids: list[int]) -> list[LockedSellable]:
    """Lock every sellable balance of `sku_ids`, at every node, in pk order, and read each
    row's reserved units, ATP and whether a recount is open under the lock: one query.
    Reservations check a pool that spans nodes and channels, so they serialize per SKU."""
    sku_ids = sorted(set(sku_ids))
    if not sku_ids:
        return []
    lock = " FOR UPDATE OF b" if connection.features.has_select_for_update_of else ""
    with fastsql.cursor() as cursor:
        cursor.execute(
            f"SELECT b.id, b.sku_id, b.location_id, b.reserved, {ATP_SQL}, {_RECOUNTING_SQL}"
            f" {ATP_FROM}"
            f" WHERE b.status = %s AND b.sku_id IN ({fastsql.in_list(sku_ids)})"
            f" ORDER BY b.id{lock}",
            [StockStatus.SELLABLE, *sku_ids],
        )
        return [LockedSellable(*row) for row in cursor.fetchall()]


def _lock_or_create(model, fields, keys) -> dict:
    if not keys:
        return {}
    locked = _select_for_update(model, fields, keys)
    missing = [key for key in keys if key not in locked]
    if missing:
        # ON CONFLICT DO NOTHING: a concurrent creator wins, and we lock its row next.
        model.objects.bulk_create(
            [model(**dict(zip(fields, key, strict=True))) for key in missing], ignore_conflicts=True
        )
        locked |= _select_for_update(model, fields, missing)
    return locked


def _select_for_update(model, fields, keys) -> dict:
    table = model._meta.db_table
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"SELECT * FROM {table} WHERE ({', '.join(fields)}) IN ({', '.join([row] * len(keys))}) "
        "ORDER BY id"
    )
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    params = [value for key in keys for value in key]
    return {
        tuple(getattr(obj, name) for name in fields): obj for obj in model.objects.raw(sql, params)
    }
