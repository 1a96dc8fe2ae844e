"""Row locks for returns, always taken in the same order: order, then RMA, then refund.

Creating an RMA and requesting a refund both lock the order row: the first so two RMAs
for the same order line cannot both take the last returnable unit, the second so two
refunds cannot both take what is left of the order's total.
"""

from erp.errors import NotFound
from orders.models import Order
from returns.models import Refund, Rma


def lock_order(order_id: int) -> Order:
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("channel")
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise NotFound("No such order.", field="order")
    return order


def lock_rma(rma_id: int) -> Rma:
    rma = (
        Rma.objects.select_for_update(of=("self",))
        .select_related("channel", "order")
        .filter(pk=rma_id)
        .first()
    )
    if rma is None:
        raise NotFound("No such RMA.", field="rma")
    return rma


def order_id_of_rma(rma_id: int) -> int:
    order_id = Rma.objects.filter(pk=rma_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise NotFound("No such RMA.", field="rma")
    return order_id


def lock_refund(refund_id: int) -> Refund:
    """Lock the refund's order first, then the refund (the fixed order)."""
    order_id = Refund.objects.filter(pk=refund_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise NotFound("No such refund.", field="refund")
    lock_order(order_id)
    return (
        Refund.objects.select_for_update(of=("self",))
        .select_related("rma", "order", "channel")
        .get(pk=refund_id)
    )
