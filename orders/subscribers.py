"""Orders react to inventory events: stock that arrives routes waiting backorders."""

from functools import partial

from django.db import transaction

from erp import events
from inventory.services.ledger import SELLABLE_STOCK_ARRIVED


@events.subscribe(SELLABLE_STOCK_ARRIVED)
def route_backorders_when_stock_arrives(event: events.DomainEvent) -> None:
    from orders.tasks import route_backorders

    # After commit: the new stock must be visible, and the routing runs in its own transaction.
    transaction.on_commit(partial(route_backorders.delay, event.payload["sku_ids"]))
