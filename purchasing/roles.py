"""What each role may do in purchasing (checked in the services).

Buyers keep suppliers and prices and raise POs; managers do that too and approve large
POs and over-receipts (never their own); warehouse staff receive at the dock; finance
sees everything and records landed charges.
"""

from erp import roles

_MODELS = (
    "supplier",
    "suppliercontact",
    "supplieritem",
    "purchaseorder",
    "purchaseorderline",
    "receipt",
    "overreceipt",
    "landedcharge",
    "replenishmentrun",
    "replenishmentsettings",
    "proposal",
    "proposalline",
    "supplierdefect",
    "returntovendor",
)
_VIEW = {f"purchasing.view_{model}" for model in _MODELS}
_BUY = {
    f"purchasing.{action}_{model}"
    for model in ("supplier", "suppliercontact", "supplieritem", "purchaseorder")
    for action in ("add", "change")
}
_RECEIVE = {
    "purchasing.receive_purchaseorder",
    "purchasing.add_receipt",
    "purchasing.add_overreceipt",
    "inventory.add_stockledgerentry",
}
_APPROVE = {"purchasing.approve_purchaseorder"}
_CHARGES = {"purchasing.add_landedcharge"}
# Planners (buyers and managers) run replenishment and turn proposals into draft POs;
# only managers tune its parameters.
_PLAN = {"purchasing.run_replenishment", "purchasing.accept_proposal"}
_TUNE = {"purchasing.change_replenishmentsettings"}
# Returns to vendor: buyers and managers open them and record answers and credits;
# the warehouse ships them back.
_RTV = {"purchasing.add_returntovendor", "purchasing.change_returntovendor"}

# Buyers read what customer service reads (orders, backorders, stock, returns: the demand
# they buy for, and every queue's records), registered by the apps loaded before this one.
_READ_ALONG = {perm for perm in roles.ROLE_PERMISSIONS[roles.CUSTOMER_SERVICE] if ".view_" in perm}
roles.register_role_permissions(roles.BUYER, _VIEW | _BUY | _CHARGES | _READ_ALONG | _PLAN | _RTV)
# Customer service answers "when is it back in stock?": it reads POs and suppliers.
roles.register_role_permissions(roles.CUSTOMER_SERVICE, _VIEW)
roles.register_role_permissions(
    roles.MANAGER, _VIEW | _BUY | _CHARGES | _APPROVE | _RECEIVE | _PLAN | _TUNE | _RTV
)
roles.register_role_permissions(
    roles.WAREHOUSE, _VIEW | _RECEIVE | {"purchasing.change_returntovendor"}
)
roles.register_role_permissions(roles.FINANCE, _VIEW | _CHARGES)
# Suppliers' and 3PLs' systems: keep price lists, raise POs, and book receipts.
roles.register_role_permissions(roles.INTEGRATION, _VIEW | _BUY | _RECEIVE | _PLAN)
