"""Orders react to inventory events: stock that arrives routes waiting backorders."""

from functools import partial

from django.db import transaction

from erp import events
from inventory.services.ledger import SELLABLE_STOCK_ARRIVED

# Published after commit when arriving stock meets lines waiting for it: fulfillment
# allocates its own backorders (orders already being picked) on it.
BACKORDERS_WAITING = "orders.backorders_waiting"


@events.subscribe(SELLABLE_STOCK_ARRIVED)
def route_backorders_when_stock_arrives(event: events.DomainEvent) -> None:
    # After commit: the new stock must be visible, and the routing runs in its own
    # transaction. Most arrivals meet no backorder: one indexed read instead of tasks.
    transaction.on_commit(partial(wake_waiting_lines, event.payload["sku_ids"], event.actor_id))


def wake_waiting_lines(sku_ids, actor_id=None) -> None:
    """Route the backorders of these SKUs, if any line waits for one (after commit)."""
    from orders.selectors import backordered_sku_ids
    from orders.tasks import route_backorders

    waiting = sorted(backordered_sku_ids(sku_ids))
    if waiting:
        route_backorders.delay(waiting)
        events.publish(events.DomainEvent(BACKORDERS_WAITING, {"sku_ids": waiting}, actor_id))
