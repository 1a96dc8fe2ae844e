"""What each role may do with returns (checked in the services)."""

from erp import roles

_MODELS = (
    "rma",
    "refund",
    "returnpolicy",
    "returnreason",
    "receiveditem",
    "inspection",
    "repairorder",
    "supplierclaim",
)
_VIEW = {f"returns.view_{model}" for model in _MODELS}
_AUTHORIZE = {"returns.add_rma", "returns.change_rma"}
_REQUEST_REFUND = {"returns.add_refund"}
_DOCK = {"returns.receive_return", "returns.inspect_return", "returns.change_repairorder"}
_DISCREPANCIES = {"returns.change_receiveditem"}
_APPROVE = {"returns.approve_refund"}
_POLICY = {
    f"returns.{action}_{model}"
    for model in ("returnpolicy", "returnreason")
    for action in ("add", "change")
}

roles.register_role_permissions(
    roles.CUSTOMER_SERVICE, _VIEW | _AUTHORIZE | _REQUEST_REFUND | _DISCREPANCIES
)
roles.register_role_permissions(roles.WAREHOUSE, _VIEW | _DOCK | _DISCREPANCIES)
roles.register_role_permissions(
    roles.MANAGER,
    _VIEW | _AUTHORIZE | _REQUEST_REFUND | _DOCK | _DISCREPANCIES | _APPROVE | _POLICY,
)
# Finance watches money leave: it may approve refunds, never request them.
roles.register_role_permissions(roles.FINANCE, _VIEW | _APPROVE)
# Channels push returns (and refunds they already made); 3PLs push receipts and gradings.
roles.register_role_permissions(
    roles.INTEGRATION,
    _VIEW | {"returns.add_rma"} | {"returns.receive_return", "returns.inspect_return"},
)
