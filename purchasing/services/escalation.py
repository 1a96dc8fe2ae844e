"""Overdue purchase orders escalate into the inbound-delayed queue."""

from django.utils import timezone

from erp.roles import system_actor
from purchasing.models import PurchaseOrder, PurchaseOrderEvent
from purchasing.services import timeline


def escalate_overdue_purchase_orders(*, today=None) -> int:
    """Mark every open PO past its expected date (set-based), each with a timeline row;
    POs already escalated stay as they were. Returns how many were new."""
    today = today or timezone.localdate()
    now = timezone.now()
    overdue = list(
        PurchaseOrder.objects.filter(
            state__in=timeline.OPEN_INBOUND, expected_date__lt=today, escalated_at__isnull=True
        ).values_list("pk", "expected_date", "state")
    )
    if not overdue:
        return 0
    ids = [pk for pk, _, _ in overdue]
    PurchaseOrder.objects.filter(pk__in=ids).update(escalated_at=now)
    actor = system_actor()
    PurchaseOrderEvent.objects.bulk_create(
        [
            PurchaseOrderEvent(
                purchase_order_id=pk,
                kind="escalated",
                from_state=state,
                to_state=state,
                message=f"Inbound delayed: expected {expected:%Y-%m-%d}, not yet received.",
                actor=actor,
            )
            for pk, expected, state in overdue
        ]
    )
    return len(ids)
