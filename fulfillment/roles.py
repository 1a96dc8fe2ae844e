"""What each role may do on the warehouse floor (checked in the services).

warehouse: assign slots, build waves, pick, report short picks, pack, create labels and
confirm shipments. integration: report shipments a 3PL or WMS made, and read. manager:
everything, including carriers, rate cards, boxes and channel policies.
customer_service and finance: read.
"""

from erp import roles

_VIEWED = (
    "carrier",
    "carrierservice",
    "ratecard",
    "box",
    "channelfulfillmentpolicy",
    "slot",
    "wave",
    "picklist",
    "picktask",
    "pickconfirmation",
    "shortpick",
    "package",
    "packageline",
    "shipment",
    "shipmentline",
)
VIEW = {f"fulfillment.view_{model}" for model in _VIEWED}
FLOOR = {
    "fulfillment.add_slot",
    "fulfillment.change_slot",
    "fulfillment.add_wave",
    "fulfillment.change_picklist",
    "fulfillment.change_picktask",
    "fulfillment.add_shortpick",
    "fulfillment.change_shortpick",
    "fulfillment.add_package",
    "fulfillment.add_shipment",
    "fulfillment.change_shipment",
    "fulfillment.confirm_shipment",
}
EXTERNAL = {"fulfillment.confirm_external_shipment"}
SETUP = {
    f"fulfillment.{action}_{model}"
    for model in ("carrier", "carrierservice", "ratecard", "box", "channelfulfillmentpolicy")
    for action in ("add", "change", "delete")
}
# Shipping consumes reservations and a short pick re-routes the missing units: the
# warehouse does both through the inventory services, on the order's behalf.
RESERVATIONS = {"inventory.add_reservation", "inventory.change_reservation"}

roles.register_role_permissions(roles.WAREHOUSE, VIEW | FLOOR | RESERVATIONS)
roles.register_role_permissions(roles.MANAGER, VIEW | FLOOR | EXTERNAL | SETUP | RESERVATIONS)
roles.register_role_permissions(roles.INTEGRATION, VIEW | EXTERNAL)
roles.register_role_permissions(roles.CUSTOMER_SERVICE, VIEW)
roles.register_role_permissions(roles.FINANCE, VIEW)
