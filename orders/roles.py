"""What each role may do with orders (checked in the services)."""

from erp import roles

_VIEW = {f"orders.view_{m}" for m in ("order", "orderhold", "ingestionerror", "routingdecision")}
_CS = {"orders.change_order", "orders.release_order", "orders.cancel_order"}
_INGEST = {"orders.add_order", "orders.cancel_order"}
_POLICY = {
    f"orders.{action}_{model}"
    for model in (
        "channelorderpolicy",
        "shippingrate",
        "shippingzone",
        "dropshipsource",
        "substitutionrule",
    )
    for action in ("add", "change", "delete", "view")
}

# Everyone in the back office reads the routing rules; managers change them.
_READ_POLICY = {name for name in _POLICY if ".view_" in name}

# CS keys in phone, B2B and replacement orders and replays refused payloads: both go
# through ingestion, which asks for add_order.
roles.register_role_permissions(
    roles.CUSTOMER_SERVICE, _VIEW | _CS | _READ_POLICY | {"orders.add_order"}
)
roles.register_role_permissions(roles.WAREHOUSE, _VIEW | _READ_POLICY)
roles.register_role_permissions(roles.FINANCE, _VIEW | _READ_POLICY)
roles.register_role_permissions(roles.BUYER, _READ_POLICY)
roles.register_role_permissions(
    roles.MANAGER, _VIEW | _CS | _INGEST | _POLICY | {"orders.approve_split"}
)
roles.register_role_permissions(roles.INTEGRATION, _VIEW | _INGEST)
# Routing reserves stock on behalf of whoever releases an order.
roles.register_role_permissions(
    roles.CUSTOMER_SERVICE, {"inventory.add_reservation", "inventory.change_reservation"}
)
roles.register_role_permissions(
    roles.INTEGRATION, {"inventory.add_reservation", "inventory.change_reservation"}
)
