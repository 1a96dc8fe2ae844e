"""Settlements plug into the shared machinery: role permissions, the settlement variances
exception queue and the demo seeder (imported by FinanceConfig.ready)."""

from erp import roles
from erp.queues import ExceptionQueue, register_queue
from finance import settlement_selectors, settlement_tasks  # noqa: F401  register the task

_VIEW = {
    f"finance.view_{model}"
    for model in ("settlement", "settlementline", "settlementvariance", "settlementimport")
}
_WORK = {"finance.upload_settlement", "finance.decide_settlementvariance"}

# Finance uploads settlements and works the variances; managers may look.
roles.register_role_permissions(roles.FINANCE, _VIEW | _WORK)
roles.register_role_permissions(roles.MANAGER, _VIEW)
# Integrations push settlement files over the API.
roles.register_role_permissions(
    roles.INTEGRATION,
    {"finance.view_settlement", "finance.view_settlementline", "finance.upload_settlement"},
)


def _by_kind(rows, value):
    return rows.filter(kind=value)


register_queue(
    ExceptionQueue(
        key="settlement-variances",
        name="Settlement variances",
        owner_role=roles.FINANCE,
        sla_hours=72,
        selector=settlement_selectors.open_variances,
        age_field="created_at",
        row_template="finance/settlements/queue_rows/variance.html",
        columns=("Settlement", "Kind", "Order", "Expected", "Actual", "Difference", "Found", ""),
        search_fields=("order_ref", "settlement__external_id", "channel__code", "description"),
        description=(
            "Settlement lines that did not match the books: accept with a note (posted to "
            "the settlement variance account) or dispute with the marketplace."
        ),
        filters={"kind": _by_kind},
    )
)
