"""Exception queues the fulfillment app registers."""

from erp import roles
from erp.queues import ExceptionQueue, register_queue
from fulfillment.selectors import open_short_picks

SHORT_PICKS = "short-picks"

register_queue(
    ExceptionQueue(
        key=SHORT_PICKS,
        name="Short picks",
        owner_role=roles.WAREHOUSE,
        sla_hours=4,
        selector=open_short_picks,
        age_field="reported_at",
        row_template="fulfillment/partials/queue_rows/short_pick.html",
        columns=("Reported", "Node", "Slot", "SKU", "Missing", "Order", "Re-routed", "Count", ""),
        search_fields=("task__sku__code", "task__slot_code", "task__order__external_id"),
        description="Slots that held fewer units than the pick: count the SKU, then resolve.",
    )
)
