"""Row locks on balances, always taken in primary-key order so two transactions that
touch the same rows queue instead of deadlocking (Saleor's lock_objects pattern)."""

from django.db.models import Q

from inventory.models import LotBalance, StockBalance

BalanceKey = tuple[int, int, str]  # (sku_id, location_id, status)
LotKey = tuple[int, int, str, int]  # (sku_id, location_id, status, lot_id)


def _match(keys, fields) -> Q:
    query = Q()
    for key in keys:
        query |= Q(**dict(zip(fields, key, strict=True)))
    return query


def lock_balances(keys: set[BalanceKey]) -> dict[BalanceKey, StockBalance]:
    """Lock (creating when missing) the balance row of every key; returns them by key."""
    keys = sorted(set(keys))
    fields = ("sku_id", "location_id", "status")
    locked = _locked(StockBalance, keys, fields)
    missing = [key for key in keys if key not in locked]
    if missing:
        StockBalance.objects.bulk_create(
            [StockBalance(sku_id=s, location_id=loc, status=st) for s, loc, st in missing],
            ignore_conflicts=True,
        )
        locked = _locked(StockBalance, keys, fields)
    return locked


def lock_lot_balances(keys: set[LotKey]) -> dict[LotKey, LotBalance]:
    keys = sorted(set(keys))
    fields = ("sku_id", "location_id", "status", "lot_id")
    locked = _locked(LotBalance, keys, fields)
    missing = [key for key in keys if key not in locked]
    if missing:
        LotBalance.objects.bulk_create(
            [
                LotBalance(sku_id=s, location_id=loc, status=st, lot_id=lot)
                for s, loc, st, lot in missing
            ],
            ignore_conflicts=True,
        )
        locked = _locked(LotBalance, keys, fields)
    return locked


def lock_sellable_balances_of_sku(sku_id: int) -> list[StockBalance]:
    """Every sellable balance of one SKU, at every node: reservations check a pool that
    spans nodes and channels, so they serialize per SKU."""
    return list(
        StockBalance.objects.select_for_update()
        .filter(sku_id=sku_id, status="sellable")
        .order_by("pk")
    )


def _locked(model, keys, fields) -> dict:
    if not keys:
        return {}
    rows = model.objects.select_for_update().filter(_match(keys, fields)).order_by("pk")
    return {tuple(getattr(row, name) for name in fields): row for row in rows}
