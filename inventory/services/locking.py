"""Row locks on balances, always taken in primary-key order so two transactions that
touch the same rows queue instead of deadlocking (Saleor's lock_objects pattern).

These run on every stock movement, so they are written as plain SQL: one SELECT … FOR
UPDATE with row-value matching instead of an ORM filter built from OR-ed Q objects.
"""

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from django.db import connection
from django.utils import timezone

from erp import fastsql
from erp.models import Location, Sku
from inventory.models import (
    AvailabilityDirty,
    CycleCount,
    CycleCountLine,
    LotBalance,
    SkuCost,
    StockBalance,
    StockStatus,
    Transfer,
    TransferLine,
)
from inventory.selectors import ATP_FROM, ATP_SQL

BalanceKey = tuple[int, int, str]  # (sku_id, location_id, status)
LotKey = tuple[int, int, str, int]  # (sku_id, location_id, status, lot_id)

_BALANCE_FIELDS = ("sku_id", "location_id", "status")
_LOT_FIELDS = ("sku_id", "location_id", "status", "lot_id")


_COST_PLACES = Decimal("0.0001")
_VALUE_CASTS = ("::bigint", "::bigint", "::varchar", "::bigint", "::bigint")


def apply_balance_changes(
    changes: dict[BalanceKey, tuple[int, int]], *, limit: int
) -> list[BalanceKey]:
    """Add (on_hand, reserved) changes to the balance rows of their keys, in one statement:
    the rows are locked in primary-key order first (a CTE with FOR UPDATE), then updated
    only where the result stays valid (0 ≤ on_hand ≤ `limit`, 0 ≤ reserved ≤ on_hand), and
    the SKUs whose sellable rows changed are queued for availability republication
    (`AvailabilityDirty`; in the same statement on PostgreSQL).

    Returns the keys NOT applied — no row yet, or the change would break a rule — for the
    caller to create or refuse; the rows that were found stay locked either way."""
    if not changes:
        return []
    keys = sorted(changes)
    postgres = connection.vendor == "postgresql"
    db = connection
    now = db.ops.adapt_datetimefield_value(timezone.now())
    params = [value for key in keys for value in key]
    params += [value for key in keys for value in (*key, *changes[key])]
    params.append(now)
    params.append(limit)
    if postgres:
        params.append(now)
    with fastsql.cursor() as cur:
        cur.execute(_apply_sql(len(keys), postgres), params)
        applied = {tuple(row) for row in cur.fetchall()}
    if not postgres:
        from inventory.services.ledger import mark_availability_dirty

        mark_availability_dirty(key[0] for key in applied if key[2] == StockStatus.SELLABLE)
    return [key for key in keys if key not in applied]


@lru_cache(maxsize=64)
def _apply_sql(count: int, postgres: bool) -> str:
    table = StockBalance._meta.db_table
    dirty = AvailabilityDirty._meta.db_table
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    rows = ", ".join(["(%s, %s, %s)"] * count)
    # Typed VALUES on PostgreSQL: the sums are computed in bigint, so nothing overflows the
    # column before the bound refuses it.
    casts = _VALUE_CASTS if postgres else ("",) * 5
    value_row = "(" + ", ".join(f"%s{cast}" for cast in casts) + ")"
    values = ", ".join([value_row] * count)
    update = (
        f"UPDATE {table} SET on_hand = {table}.on_hand + v.d_on_hand,"
        f" reserved = {table}.reserved + v.d_reserved, updated_at = %s"
        f" FROM locked, v"
        f" WHERE {table}.id = locked.id AND {table}.sku_id = v.sku_id"
        f" AND {table}.location_id = v.location_id AND {table}.status = v.status"
        f" AND {table}.on_hand + v.d_on_hand BETWEEN 0 AND %s"
        f" AND {table}.reserved + v.d_reserved BETWEEN 0 AND {table}.on_hand + v.d_on_hand"
        f" RETURNING {table}.sku_id, {table}.location_id, {table}.status"
    )
    head = (
        f"WITH locked AS (SELECT id FROM {table}"
        f" WHERE (sku_id, location_id, status) IN ({rows}) ORDER BY id{lock}),"
        f" v (sku_id, location_id, status, d_on_hand, d_reserved) AS (VALUES {values})"
    )
    if not postgres:
        return f"{head} {update}"
    return (
        f"{head}, applied AS ({update}),"
        f" marked AS (INSERT INTO {dirty} (sku_id, marked_at)"
        f" SELECT DISTINCT sku_id, %s::timestamptz FROM applied"
        f" WHERE status = '{StockStatus.SELLABLE}' ON CONFLICT DO NOTHING)"
        f" SELECT sku_id, location_id, status FROM applied"
    )


def read_balances(keys) -> dict[BalanceKey, StockBalance]:
    """The balance rows of these keys as they are now (rows missing are absent)."""
    return _select(StockBalance, _BALANCE_FIELDS, sorted(set(keys)), lock=False)


def create_balances(keys) -> None:
    """Create zero balance rows for these keys (a concurrent creator may win: no error)."""
    StockBalance.objects.bulk_create(
        [StockBalance(sku_id=sku, location_id=loc, status=status) for sku, loc, status in keys],
        ignore_conflicts=True,
    )


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
    return _select(model, fields, keys, lock=True)


def _select(model, fields, keys, *, lock: bool) -> dict:
    table = model._meta.db_table
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"SELECT * FROM {table} WHERE ({', '.join(fields)}) IN ({', '.join([row] * len(keys))}) "
        "ORDER BY id"
    )
    if lock and connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    params = [value for key in keys for value in key]
    # Rows fetched before the columns are read: inside a pipeline (the ledger's posting)
    # a statement's description exists only once its result has arrived.
    with fastsql.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
        columns = [column[0] for column in cur.description]
    concrete = model._meta.concrete_fields
    position = {name: index for index, name in enumerate(columns)}
    order = [position[field.column] for field in concrete]  # the table's column order may differ
    names = [field.attname for field in concrete]
    objects = (
        model.from_db(connection.alias, names, [row[index] for index in order]) for row in rows
    )
    return {tuple(getattr(obj, name) for name in fields): obj for obj in objects}


def lock_transfer(transfer_id: int) -> Transfer | None:
    """The transfer row, locked, with the code of the node it comes from
    (`from_location_code`); None when there is no such transfer. Every writer of a
    transfer locks it before its lines (`lock_transfer_lines`)."""
    concrete = Transfer._meta.concrete_fields
    lock = " FOR UPDATE OF t" if connection.features.has_select_for_update else ""
    with fastsql.cursor() as cur:
        cur.execute(
            f"SELECT {', '.join('t.' + field.column for field in concrete)}, l.code"
            f" FROM {Transfer._meta.db_table} t JOIN {Location._meta.db_table} l"
            f" ON l.id = t.from_location_id WHERE t.id = %s{lock}",
            [transfer_id],
        )
        row = cur.fetchone()
    if row is None:
        return None
    transfer = Transfer.from_db(connection.alias, [f.attname for f in concrete], row[:-1])
    transfer.from_location_code = row[-1]
    return transfer


def lock_transfer_lines(transfer_id: int) -> list[TransferLine]:
    """The lines of a transfer its caller has locked, locked in primary-key order."""
    concrete = TransferLine._meta.concrete_fields
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with fastsql.cursor() as cur:
        cur.execute(
            f"SELECT {', '.join(field.column for field in concrete)}"
            f" FROM {TransferLine._meta.db_table} WHERE transfer_id = %s ORDER BY id{lock}",
            [transfer_id],
        )
        rows = cur.fetchall()
    names = [field.attname for field in concrete]
    return [TransferLine.from_db(connection.alias, names, row) for row in rows]


def read_unit_costs(sku_ids, *, scope_location_id: int | None) -> dict[int, Decimal]:
    """Valuation cost per SKU in one statement: the moving average kept at the costing
    scope (a node, or the company when `scope_location_id` is None), else the master-data
    cost. Every posting of stock reads this, so it is a prepared statement, not an ORM
    query compiled each time."""
    ids = sorted(set(sku_ids))
    if not ids:
        return {}
    sku_table, cost_table = Sku._meta.db_table, SkuCost._meta.db_table
    scope = "c.location_id = %s" if scope_location_id is not None else "c.location_id IS NULL"
    params = [scope_location_id] if scope_location_id is not None else []
    with fastsql.cursor() as cur:
        cur.execute(
            f"SELECT s.id, COALESCE(c.average_cost, s.unit_cost) FROM {sku_table} s"
            f" LEFT JOIN {cost_table} c ON c.sku_id = s.id AND {scope}"
            f" WHERE s.id IN ({fastsql.in_list(ids)})",
            [*params, *ids],
        )
        # PostgreSQL answers Decimal; SQLite a number: both four places, as the columns.
        return {
            sku_id: Decimal(str(cost)).quantize(_COST_PLACES) for sku_id, cost in cur.fetchall()
        }
