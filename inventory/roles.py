"""What each role may do with stock (checked in the services)."""

from erp import roles

_VIEW = {
    f"inventory.view_{model}"
    for model in (
        "stockbalance",
        "stockledgerentry",
        "lot",
        "serialnumber",
        "reservation",
        "allocationrule",
        "safetystock",
        "transfer",
        "inventoryadjustment",
        "cyclecount",
        "channelavailability",
    )
}
_FLOOR = {
    "inventory.add_stockledgerentry",
    "inventory.add_transfer",
    "inventory.change_transfer",
    "inventory.add_inventoryadjustment",
    "inventory.add_cyclecount",
    "inventory.change_cyclecount",
}
_APPROVE = {"inventory.approve_inventoryadjustment", "inventory.approve_write_off"}
_RULES = {
    "inventory.add_allocationrule",
    "inventory.change_allocationrule",
    "inventory.delete_allocationrule",
    "inventory.add_safetystock",
    "inventory.change_safetystock",
    "inventory.delete_safetystock",
}
_RESERVE = {"inventory.add_reservation", "inventory.change_reservation"}

roles.register_role_permissions(roles.WAREHOUSE, _VIEW | _FLOOR)
roles.register_role_permissions(roles.CUSTOMER_SERVICE, _VIEW)
roles.register_role_permissions(roles.FINANCE, _VIEW)
roles.register_role_permissions(roles.MANAGER, _VIEW | _FLOOR | _APPROVE | _RULES | _RESERVE)
roles.register_role_permissions(roles.INTEGRATION, _VIEW | _FLOOR | _RULES | _RESERVE)
