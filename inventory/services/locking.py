"""Row locks on balances, always taken in primary-key order so two transactions that
touch the same rows queue instead of deadlocking (Saleor's lock_objects pattern).

These run on every stock movement, so they are written as plain SQL: one SELECT … FOR
UPDATE with row-value matching instead of an ORM filter built from OR-ed Q objects.
"""

from django.db import connection

from inventory.models import LotBalance, StockBalance

BalanceKey = tuple[int, int, str]  # (sku_id, location_id, status)
LotKey = tuple[int, int, str, int]  # (sku_id, location_id, status, lot_id)

_BALANCE_FIELDS = ("sku_id", "location_id", "status")
_LOT_FIELDS = ("sku_id", "location_id", "status", "lot_id")


def lock_balances(keys: set[BalanceKey]) -> dict[BalanceKey, StockBalance]:
    """Lock (creating when missing) the balance row of every key; returns them by key."""
    return _lock_or_create(StockBalance, _BALANCE_FIELDS, sorted(set(keys)))


def lock_lot_balances(keys: set[LotKey]) -> dict[LotKey, LotBalance]:
    return _lock_or_create(LotBalance, _LOT_FIELDS, sorted(set(keys)))


def lock_sellable_balances_of_sku(sku_id: int) -> list[StockBalance]:
    """Every sellable balance of one SKU, at every node: reservations check a pool that
    spans nodes and channels, so they serialize per SKU."""
    return list(
        StockBalance.objects.select_for_update()
        .filter(sku_id=sku_id, status="sellable")
        .order_by("pk")
    )


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
