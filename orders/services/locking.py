"""The order row lock every service of an order takes first (the fixed lock order:
order, then its lines' stock, then fulfillment's rows)."""

from functools import lru_cache

from erp import fastsql
from erp.errors import NotFound
from erp.models import Channel
from orders.models import LineState, Order, OrderLine


def lock_order(order_id: int) -> Order:
    [order] = _locked_orders("o.id = %s", [order_id]) or [None]
    if order is None:
        raise NotFound("No such order.")
    return order


def lock_orders(order_ids) -> dict[int, Order]:
    """Lock several orders in primary-key order (as every order lock is taken) with one
    statement; returns them by id (a truck's manifest)."""
    ids = sorted(set(order_ids))
    if not ids:
        return {}
    return {order.pk: order for order in _locked_orders(f"o.id IN ({fastsql.in_list(ids)})", ids)}


def lock_order_where(condition: str, params) -> Order | None:
    """Lock the one order matching `condition` (SQL on alias `o`, e.g. the order of a pick
    task), with its channel: for callers that know a row of the order, not its id."""
    [order] = _locked_orders(condition, params) or [None]
    return order


def _locked_orders(condition: str, params) -> list[Order]:
    """Orders (with their channel, as `select_related("channel")` loads it) matching
    `condition`, locked (not the channel) in primary-key order: a hand-written, prepared
    statement, since every service of an order starts here."""
    with fastsql.cursor() as cur:
        cur.execute(_lock_sql(condition), params)
        rows = cur.fetchall()
    width = fastsql.width(Order)
    orders = []
    for row in rows:
        order = fastsql.build(Order, row)
        order._state.fields_cache["channel"] = fastsql.build(Channel, row, width)
        orders.append(order)
    return orders


@lru_cache(maxsize=32)
def _lock_sql(condition: str) -> str:
    return (
        f"SELECT {fastsql.column_list(Order, 'o')}, {fastsql.column_list(Channel, 'c')}"
        f" FROM {Order._meta.db_table} o JOIN {Channel._meta.db_table} c ON c.id = o.channel_id"
        f" WHERE {condition} ORDER BY o.id{fastsql.for_update('o')}"
    )


def backordered_sku_ids(sku_ids) -> set[int]:
    """Which of these SKUs have a line waiting on a backorder (the partial index
    `line_backordered_by_sku`). Every arrival of sellable stock asks, so it is a prepared
    statement rather than an ORM query compiled each time; `orders.selectors` answers
    through it."""
    ids = sorted(set(sku_ids))
    if not ids:
        return set()
    with fastsql.cursor() as cur:
        cur.execute(
            f"SELECT DISTINCT sku_id FROM {OrderLine._meta.db_table}"
            f" WHERE state = %s AND sku_id IN ({fastsql.in_list(ids)})",
            [LineState.BACKORDERED, *ids],
        )
        return {row[0] for row in cur.fetchall()}
