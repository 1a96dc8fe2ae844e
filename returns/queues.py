"""Exception queues the returns app registers (row templates live with the returns
back-office screens, under templates/returns/partials/queue_rows/)."""

from erp import roles
from erp.queues import ExceptionQueue, register_queue
from returns import selectors

register_queue(
    ExceptionQueue(
        key="returns-awaiting-receipt",
        name="Returns awaiting receipt",
        owner_role=roles.WAREHOUSE,
        sla_hours=24,
        selector=selectors.rmas_awaiting_receipt,
        age_field="overdue_since",
        row_template="returns/partials/queue_rows/rma.html",
        columns=("RMA", "Channel", "Order", "State", "Expected by", "Label", ""),
        search_fields=(
            "number",
            "order__external_id",
            "order__order_number",
            "return_label_reference",
            "external_reference",
        ),
        description="Authorized returns not (fully) received, overdue first; age is how late.",
    )
)
register_queue(
    ExceptionQueue(
        key="returns-awaiting-inspection",
        name="Returns awaiting inspection",
        owner_role=roles.WAREHOUSE,
        sla_hours=48,
        selector=selectors.items_awaiting_inspection,
        age_field="received_at",
        row_template="returns/partials/queue_rows/received_item.html",
        columns=("RMA", "SKU", "Serial / lot", "Node", "Waiting", "Reason", "Received", ""),
        search_fields=("rma__number", "sku__code", "serial", "location__code"),
        description="Received units in inspection without a condition and disposition yet.",
    )
)
register_queue(
    ExceptionQueue(
        key="refunds-awaiting-approval",
        name="Refunds awaiting approval",
        owner_role=roles.MANAGER,
        sla_hours=24,
        selector=selectors.refunds_awaiting_approval,
        age_field="requested_at",
        row_template="returns/partials/queue_rows/refund.html",
        columns=("Refund", "RMA", "Channel", "Amount", "Requested by", "Requested", ""),
        search_fields=("number", "rma__number", "order__external_id", "channel__code"),
        description="Refunds above the threshold; decide them in the approvals inbox.",
    )
)
register_queue(
    ExceptionQueue(
        key="returns-repair-queue",
        name="Repair queue",
        owner_role=roles.WAREHOUSE,
        sla_hours=24 * 7,
        selector=selectors.open_repairs,
        age_field="created_at",
        row_template="returns/partials/queue_rows/repair.html",
        columns=("Repair", "RMA", "SKU", "Serial / lot", "Node", "Qty", "Since", ""),
        search_fields=("rma__number", "sku__code", "serial"),
        description="Returned units set aside for refurbishing, in quarantine.",
    )
)
register_queue(
    ExceptionQueue(
        key="return-discrepancies",
        name="Return discrepancies",
        owner_role=roles.CUSTOMER_SERVICE,
        sla_hours=24,
        selector=selectors.open_discrepancies,
        age_field="received_at",
        row_template="returns/partials/queue_rows/discrepancy.html",
        columns=("RMA", "SKU", "Serial / lot", "Qty", "Discrepancy", "Received", ""),
        search_fields=("rma__number", "sku__code", "serial"),
        description="Wrong serials, other lots and items that were not on the RMA.",
    )
)
register_queue(
    ExceptionQueue(
        key="channel-returns-to-match",
        name="Channel returns to match",
        owner_role=roles.CUSTOMER_SERVICE,
        sla_hours=24,
        selector=selectors.channel_returns_to_match,
        age_field="first_seen_at",
        row_template="returns/partials/queue_rows/channel_return.html",
        columns=("Channel", "Return", "Order", "Refused because", "Seen", ""),
        search_fields=("reference", "order_external_id", "channel__code", "source_format"),
        description="Returns and refunds a channel reported that could not be tied to an "
        "order, its lines or what it paid; the channel's next delivery settles them once "
        "the cause is fixed.",
    )
)
