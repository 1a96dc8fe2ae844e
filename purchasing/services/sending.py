"""Purchase orders to the supplier: a webhook or an e-mail message through the outbox.

A supplier with an order endpoint gets the PO as JSON on it; one with an order e-mail gets
it through the mail relay endpoint (`settings.PURCHASING_MAIL_ENDPOINT`). One message per
PO and purpose (its dedupe key), so a retried request never sends a PO twice.
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from erp.errors import ValidationFailed
from erp.models import Endpoint
from erp.services.outbox import enqueue_message
from purchasing.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderState
from purchasing.services import timeline

CENTS = Decimal("0.01")
ORDER_TOPIC = "purchasing.purchase_order"
ORDER_EMAIL_TOPIC = "purchasing.purchase_order_email"


def purchase_order_document(purchase_order: PurchaseOrder, *, cancellation=False) -> dict:
    """The PO as the supplier sees it (JSON-safe)."""
    supplier = purchase_order.supplier
    lines = purchase_order.lines.select_related("sku", "supplier_item").order_by("line_number")
    return {
        "number": purchase_order.number,
        "status": "cancelled" if cancellation else "open",
        "cancel_reason": purchase_order.cancel_reason if cancellation else "",
        "supplier": {"code": supplier.code, "name": supplier.name},
        "currency": purchase_order.currency,
        "ship_to": {
            "code": purchase_order.destination.code,
            "name": purchase_order.destination.name,
        },
        "expected_date": (
            purchase_order.expected_date.isoformat() if purchase_order.expected_date else None
        ),
        "note": purchase_order.note,
        "lines": [
            {
                "line": line.line_number,
                "sku": line.sku.code,
                "supplier_sku": line.supplier_item.supplier_sku if line.supplier_item else "",
                "description": line.sku.name,
                "quantity": line.quantity_ordered,
                "unit_cost": str(line.unit_cost),
                "amount": str((line.quantity_ordered * line.unit_cost).quantize(CENTS)),
                "expected_date": line.expected_date.isoformat() if line.expected_date else None,
            }
            for line in lines
        ],
        "total": str(
            sum((line.quantity_ordered * line.unit_cost for line in lines), Decimal("0")).quantize(
                CENTS
            )
        ),
    }


def _mail_endpoint() -> Endpoint | None:
    return Endpoint.objects.filter(code=settings.PURCHASING_MAIL_ENDPOINT, active=True).first()


def _schedule_from_today(purchase_order: PurchaseOrder) -> None:
    """The supplier's lead time runs from the day it gets the order."""
    today = timezone.localdate()
    lines = list(purchase_order.lines.select_related("supplier_item"))
    for line in lines:
        if line.supplier_item_id:
            line.expected_date = today + timedelta(days=line.supplier_item.lead_time_days)
    PurchaseOrderLine.objects.bulk_update(lines, ["expected_date"])
    dates = [line.expected_date for line in lines if line.expected_date]
    purchase_order.expected_date = max(dates) if dates else purchase_order.expected_date


def send_to_supplier(
    *,
    purchase_order: PurchaseOrder,
    actor,
    cancellation: bool = False,
    required: bool = False,
    by_file: bool = False,
) -> bool:
    """Queue the PO (or its cancellation) for the supplier and move an approved PO to sent.

    Without an endpoint or e-mail the PO stays approved and says so on its timeline (the
    buyer sends the PDF/CSV and marks it sent); `required` refuses instead. Returns
    whether a message was queued.
    """
    supplier = purchase_order.supplier
    endpoint, topic = supplier.order_endpoint, ORDER_TOPIC
    if endpoint is None and supplier.order_email and not by_file:
        endpoint, topic = _mail_endpoint(), ORDER_EMAIL_TOPIC
    if not cancellation:
        _schedule_from_today(purchase_order)
    if by_file or endpoint is None:
        if cancellation:
            timeline.note(
                purchase_order, "supplier", "Tell the supplier: no endpoint or e-mail.", actor=actor
            )
            return False
        if not by_file:
            if required:
                raise ValidationFailed(
                    f"{supplier.code} has no order endpoint or e-mail (or no mail relay is "
                    "configured): send the PDF or CSV and mark the PO sent.",
                    field="supplier",
                    code="no_destination",
                )
            timeline.note(
                purchase_order,
                "supplier",
                "Not sent: the supplier has no order endpoint or e-mail. Send the PDF or CSV.",
                actor=actor,
            )
            purchase_order.save(update_fields=["expected_date"])
            return False
        timeline.advance(
            purchase_order,
            PurchaseOrderState.SENT,
            actor=actor,
            message="Sent to the supplier as a file.",
            extra=("expected_date",),
        )
        return False
    document = purchase_order_document(purchase_order, cancellation=cancellation)
    purpose = "cancelled" if cancellation else "sent"
    payload = document
    if topic == ORDER_EMAIL_TOPIC:
        verb = "Cancellation of purchase order" if cancellation else "Purchase order"
        payload = {
            "to": supplier.order_email,
            "subject": f"{verb} {purchase_order.number}",
            "purchase_order": document,
        }
    enqueue_message(
        topic=topic,
        endpoint=endpoint,
        payload=payload,
        dedupe_key=f"{ORDER_TOPIC}:{purchase_order.number}:{purpose}",
    )
    if cancellation:
        timeline.note(purchase_order, "supplier", "Cancellation sent to the supplier.", actor=actor)
        return True
    how = f"e-mail to {supplier.order_email}" if topic == ORDER_EMAIL_TOPIC else endpoint.code
    timeline.advance(
        purchase_order,
        PurchaseOrderState.SENT,
        actor=actor,
        message=f"Sent to the supplier ({how}).",
        extra=("expected_date",),
    )
    return True
