"""Shipment confirmation: the parcel left the building.

In one transaction: the reservations of what shipped are consumed through the inventory
services (ledger entries of kind shipment naming the shipment, balances, lot balances,
serials marked shipped), the allocations shrink, the order lines count what shipped, the
order becomes shipped or partially shipped (the rest stays allocated or backordered), the
channel's tracking upload and the customer's notification go to the outbox, and
`fulfillment.shipment_confirmed` is published for finance.

Two sources: a label of a packed package (`confirm_shipment`, the warehouse scanned it
onto the truck; `confirm_shipments` for a whole manifest at once), and a 3PL or WMS that shipped from its own node and reports back
(`confirm_external_shipment`), with its own carrier and tracking number.
"""

from fulfillment.services.shipping.external import confirm_external_shipment
from fulfillment.services.shipping.messages import NOTIFICATION_TOPIC, SHIPMENT_CONFIRMED
from fulfillment.services.shipping.warehouse import confirm_shipment, confirm_shipments

__all__ = [
    "NOTIFICATION_TOPIC",
    "SHIPMENT_CONFIRMED",
    "confirm_external_shipment",
    "confirm_shipment",
    "confirm_shipments",
]
