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
