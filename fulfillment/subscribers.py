"""Fulfillment reacts to orders and inventory events."""

from functools import partial

from django.contrib.auth import get_user_model
from django.db import transaction

from erp import events
from erp.roles import system_actor
from orders.services.cancellation import ORDER_CANCELLED
from orders.subscribers import BACKORDERS_WAITING


@events.subscribe(ORDER_CANCELLED)
def cancel_pick_tasks_of_cancelled_order(event: events.DomainEvent) -> None:
    from fulfillment.services.labels import void_labels_of_cancelled_order
    from fulfillment.services.picking import cancel_pick_tasks
    from orders.models import Order

    # In the cancelling transaction: no picker can confirm a task of a cancelled order,
    # and no label stays live for it.
    cancel_pick_tasks(order_id=event.payload["order_id"])
    order = Order.objects.get(pk=event.payload["order_id"])
    actor = get_user_model().objects.get(pk=event.actor_id) if event.actor_id else system_actor()
    void_labels_of_cancelled_order(order=order, actor=actor)


@events.subscribe(BACKORDERS_WAITING)
def allocate_backorders_in_fulfillment(event: events.DomainEvent) -> None:
    from fulfillment.tasks import route_backorders_in_fulfillment

    # In their own transactions (after the event's, which may be the one `publish` opens):
    # lines backordered after a short pick, of orders the orders app no longer routes
    # (they are being picked or partly shipped).
    transaction.on_commit(partial(route_backorders_in_fulfillment.delay, event.payload["sku_ids"]))
