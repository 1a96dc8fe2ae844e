"""The exception queue purchasing registers: inbound delayed."""

from erp import roles
from erp.queues import ExceptionQueue, register_queue
from purchasing import selectors

register_queue(
    ExceptionQueue(
        key="inbound-delayed",
        name="Inbound delayed",
        owner_role=roles.BUYER,
        sla_hours=24,
        selector=selectors.inbound_delayed,
        age_field="escalated_at",
        row_template="purchasing/partials/queue_rows/inbound_delayed.html",
        columns=("PO", "Supplier", "Ship to", "State", "Expected", "Received", ""),
        search_fields=("number", "supplier__code", "supplier__name", "destination__code"),
        description="Purchase orders past their expected date: chase the supplier or re-plan.",
    )
)


def _rtvs_unanswered():
    from purchasing.models import ReturnToVendor

    return (
        ReturnToVendor.objects.filter(state=ReturnToVendor.State.REQUESTED)
        .select_related("supplier")
        .order_by("created_at", "pk")
    )


register_queue(
    ExceptionQueue(
        key="rtv-unanswered",
        name="Returns to vendor without an answer",
        owner_role=roles.BUYER,
        sla_hours=72,
        selector=_rtvs_unanswered,
        age_field="created_at",
        row_template="purchasing/partials/queue_rows/rtv_unanswered.html",
        columns=("RTV", "Supplier", "Opened", ""),
        search_fields=("number", "supplier__code", "supplier__name"),
        description="Defective units waiting for the supplier's return authorization: chase it.",
    )
)
