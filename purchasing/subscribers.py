"""What purchasing hears from apps above it, by event name (it may not import them)."""

from erp import events
from purchasing.services import drop_ship, performance


@events.subscribe(drop_ship.DROP_SHIP_LINE_ROUTED)
def order_drop_ship_line(event: events.DomainEvent) -> None:
    drop_ship.add_routed_line(event.payload)


@events.subscribe(drop_ship.SHIPMENT_CONFIRMED)
def supplier_shipped(event: events.DomainEvent) -> None:
    drop_ship.record_supplier_shipment(event.payload, actor_id=event.actor_id)


@events.subscribe(performance.SUPPLIER_CLAIM_OPENED)
def supplier_claim_opened(event: events.DomainEvent) -> None:
    performance.record_defect(event.payload)
