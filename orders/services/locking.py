"""The order row lock every service of an order takes first (the fixed lock order:
order, then its lines' stock, then fulfillment's rows)."""

from erp import fastsql
from erp.errors import NotFound
from orders.models import LineState, Order, OrderLine


def lock_order(order_id: int) -> Order:
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("channel")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise NotFound("No such order.")
    return order


def lock_orders(order_ids) -> dict[int, Order]:
    """Lock several orders in primary-key order (as every order lock is taken) with one
    statement; returns them by id (a truck's manifest)."""
    return {
        order.pk: order
        for order in Order.objects.select_for_update(of=("self",))
        .select_related("channel")
        .filter(pk__in=sorted(set(order_ids)))
        .order_by("pk")
    }


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
