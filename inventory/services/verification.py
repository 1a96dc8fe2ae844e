"""Balances must always equal the sum of the ledger: rebuild and compare, set-based."""

from dataclasses import dataclass

from django.db import connection


@dataclass(frozen=True)
class Difference:
    kind: str  # "balance" or "lot_balance"
    sku_id: int
    location_id: int
    status: str
    lot_id: int | None
    balance: int
    ledger: int


_BALANCE_SQL = """
    SELECT COALESCE(b.sku_id, l.sku_id), COALESCE(b.location_id, l.location_id),
           COALESCE(b.status, l.status), COALESCE(b.on_hand, 0), COALESCE(l.total, 0)
      FROM inventory_stockbalance b
      FULL OUTER JOIN (
            SELECT sku_id, location_id, status, SUM(quantity) AS total
              FROM inventory_stockledgerentry GROUP BY sku_id, location_id, status
           ) l
        ON l.sku_id = b.sku_id AND l.location_id = b.location_id AND l.status = b.status
     WHERE COALESCE(b.on_hand, 0) <> COALESCE(l.total, 0)
"""
_LOT_SQL = """
    SELECT COALESCE(b.sku_id, l.sku_id), COALESCE(b.location_id, l.location_id),
           COALESCE(b.status, l.status), COALESCE(b.lot_id, l.lot_id),
           COALESCE(b.on_hand, 0), COALESCE(l.total, 0)
      FROM inventory_lotbalance b
      FULL OUTER JOIN (
            SELECT sku_id, location_id, status, lot_id, SUM(quantity) AS total
              FROM inventory_stockledgerentry WHERE lot_id IS NOT NULL
             GROUP BY sku_id, location_id, status, lot_id
           ) l
        ON l.lot_id = b.lot_id AND l.location_id = b.location_id AND l.status = b.status
     WHERE COALESCE(b.on_hand, 0) <> COALESCE(l.total, 0)
"""


def find_balance_differences() -> list[Difference]:
    """Every (sku, location, status[, lot]) whose balance differs from its ledger sum."""
    differences = []
    with connection.cursor() as cursor:
        cursor.execute(_BALANCE_SQL)
        for sku, location, status, balance, ledger in cursor.fetchall():
            differences.append(
                Difference("balance", sku, location, status, None, int(balance), int(ledger))
            )
        cursor.execute(_LOT_SQL)
        for sku, location, status, lot, balance, ledger in cursor.fetchall():
            differences.append(
                Difference("lot_balance", sku, location, status, lot, int(balance), int(ledger))
            )
    return differences
