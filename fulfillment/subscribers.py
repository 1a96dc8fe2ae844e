"""Fulfillment reacts to orders and inventory events."""

from functools import partial

from django.db import transaction

from erp import events
from inventory.services.ledger import SELLABLE_STOCK_ARRIVED
from orders.services.flow import ORDER_CANCELLED


@events.subscribe(ORDER_CANCELLED)
def cancel_pick_tasks_of_cancelled_order(event: events.DomainEvent) -> None:
    from fulfillment.services.picking import cancel_pick_tasks

    # In the cancelling transaction: no picker can confirm a task of a cancelled order.
    cancel_pick_tasks(order_id=event.payload["order_id"])


@events.subscribe(SELLABLE_STOCK_ARRIVED)
def allocate_backorders_in_fulfillment(event: events.DomainEvent) -> None:
    from fulfillment.tasks import route_backorders_in_fulfillment

    # After commit, in its own transactions: lines backordered after a short pick, of
    # orders the orders app no longer routes (they are being picked or partly shipped).
    transaction.on_commit(partial(route_backorders_in_fulfillment.delay, event.payload["sku_ids"]))
