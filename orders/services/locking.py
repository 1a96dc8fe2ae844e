"""The order row lock every service of an order takes first (the fixed lock order:
order, then its lines' stock, then fulfillment's rows)."""

from erp.errors import NotFound
from orders.models import Order


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
