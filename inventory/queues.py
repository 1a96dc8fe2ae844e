"""Exception queues the inventory app registers."""

from datetime import timedelta

from django.utils import timezone

from erp import roles
from erp.queues import ExceptionQueue, register_queue
from inventory.models import InventoryAdjustment, Transfer

OVERDUE_TRANSFER_DAYS = 5


def adjustments_awaiting_approval():
    return InventoryAdjustment.objects.filter(
        state=InventoryAdjustment.State.PENDING_APPROVAL
    ).select_related("sku", "location", "requested_by")


def overdue_transfers():
    cutoff = timezone.now() - timedelta(days=OVERDUE_TRANSFER_DAYS)
    return Transfer.objects.filter(
        state__in=[Transfer.State.IN_TRANSIT, Transfer.State.PARTIALLY_RECEIVED],
        shipped_at__lt=cutoff,
    ).select_related("from_location", "to_location")


register_queue(
    ExceptionQueue(
        key="adjustments-awaiting-approval",
        name="Adjustments awaiting approval",
        owner_role=roles.MANAGER,
        sla_hours=24,
        selector=adjustments_awaiting_approval,
        age_field="created_at",
        row_template="inventory/partials/queue_rows/adjustment.html",
        columns=("Adjustment", "SKU", "Node", "Qty", "Value", "Reason", "Requested", ""),
        search_fields=("sku__code", "location__code", "reason_code"),
        description="Adjustments and write-offs above the value threshold.",
    )
)
register_queue(
    ExceptionQueue(
        key="overdue-transfers",
        name="Transfers overdue",
        owner_role=roles.WAREHOUSE,
        sla_hours=24,
        selector=overdue_transfers,
        age_field="shipped_at",
        row_template="inventory/partials/queue_rows/transfer.html",
        columns=("Transfer", "From", "To", "State", "Shipped", ""),
        search_fields=("number", "from_location__code", "to_location__code"),
        description=f"Shipped more than {OVERDUE_TRANSFER_DAYS} days ago and not fully received.",
    )
)
