"""Drop-ship purchase orders: an order line routed to a supplier's drop-ship node becomes
a line on a drop-ship PO to that supplier, which goes out through the outbox; when the
supplier confirms the shipment (fulfillment's external-shipment API), the PO line is
received and the PO closes once every line shipped.

Purchasing hears orders and fulfillment by event name only (it may not import them):
`orders.drop_ship_line_routed` and `fulfillment.shipment_confirmed`.

One drop-ship PO per order and supplier: the lines of an order routed in one transaction
collect on one draft; it is submitted (approval above the threshold, then the outbox)
right after that transaction commits, and the `send_drop_ship_orders` sweep (beat) sends
any draft a crash left behind.
"""

import logging

from django.db import transaction

from erp.errors import DomainError
from erp.roles import system_actor
from purchasing.locking import lock_purchase_order, lock_purchase_order_lines
from purchasing.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderState, Supplier
from purchasing.services import purchase_orders, timeline

log = logging.getLogger(__name__)
S = PurchaseOrderState
DROP_SHIP_LINE_ROUTED = "orders.drop_ship_line_routed"
SHIPMENT_CONFIRMED = "fulfillment.shipment_confirmed"


def line_reference(order_line_id: int) -> str:
    return f"OL-{order_line_id}"


def order_reference(order_id: int, order_number: str) -> str:
    return f"Drop-ship for order {order_number} (#{order_id})"[:128]


def add_routed_line(payload: dict) -> PurchaseOrder | None:
    """Put a routed drop-ship line on its order's draft drop-ship PO (created if need be).
    A node no active supplier ships from, or a SKU the supplier has no price for, leaves
    the routing alone and is logged; a line already ordered is not ordered twice."""
    supplier = Supplier.objects.filter(
        dropship_location_id=payload["location_id"], active=True
    ).first()
    if supplier is None:
        log.warning("Drop-ship line %s: no active supplier ships from that node", payload)
        return None
    reference = line_reference(payload["order_line_id"])
    if (
        PurchaseOrderLine.objects.filter(
            reference=reference, purchase_order__kind=PurchaseOrder.Kind.DROP_SHIP
        )
        .exclude(purchase_order__state=S.CANCELLED)
        .exists()
    ):
        return None
    actor = system_actor()
    header = order_reference(payload["order_id"], payload.get("order_number", ""))
    draft = (
        PurchaseOrder.objects.filter(
            supplier=supplier, kind=PurchaseOrder.Kind.DROP_SHIP, state=S.DRAFT, reference=header
        )
        .order_by("pk")
        .first()
    )
    new_line = {
        "sku": _sku(payload["sku_id"]),
        "quantity": int(payload["quantity"]),
        "reference": reference,
    }
    try:
        if draft is None:
            draft = purchase_orders.create_purchase_order(
                supplier=supplier,
                destination=supplier.dropship_location,
                kind=PurchaseOrder.Kind.DROP_SHIP,
                lines=[new_line],
                actor=actor,
                exchange_rate=_rate(supplier),
                reference=header,
                note=f"Ship directly to the customer of order {payload.get('order_number', '')}.",
            )
        else:
            kept = [
                purchase_orders.LineInput(
                    sku=line.sku,
                    quantity=line.quantity_ordered,
                    unit_cost=line.unit_cost,
                    reference=line.reference,
                )
                for line in draft.lines.select_related("sku").order_by("line_number")
            ]
            draft = purchase_orders.update_draft(
                purchase_order=draft,
                actor=actor,
                lines=[*kept, purchase_orders.LineInput(**new_line)],
            )
    except DomainError as error:
        log.warning("Drop-ship line %s not ordered from %s: %s", reference, supplier.code, error)
        return None
    draft_id = draft.pk
    # robust: a failed send is logged, never the request's error; the sweep retries it.
    transaction.on_commit(lambda: send_drop_ship_order(draft_id), robust=True)
    return draft


def _sku(sku_id: int):
    from erp.models import Sku

    return Sku.objects.get(pk=sku_id)


def _rate(supplier):
    # A supplier invoicing in another currency needs a rate: the last PO's, else none
    # (the PO service then refuses, and the line is logged, not lost from routing).
    last = (
        PurchaseOrder.objects.filter(supplier=supplier)
        .exclude(state=S.CANCELLED)
        .order_by("-pk")
        .values_list("exchange_rate", flat=True)
        .first()
    )
    return last


def send_drop_ship_order(purchase_order_id: int) -> PurchaseOrder | None:
    """Submit one draft drop-ship PO (approval above the threshold, else sent at once)."""
    purchase_order = PurchaseOrder.objects.filter(
        pk=purchase_order_id, state=S.DRAFT, kind=PurchaseOrder.Kind.DROP_SHIP
    ).first()
    if purchase_order is None:
        return None
    try:
        return purchase_orders.submit_purchase_order(
            purchase_order=purchase_order, actor=system_actor()
        )
    except DomainError as error:
        log.warning("Drop-ship %s not sent: %s", purchase_order.number, error)
        return None


def send_drop_ship_orders() -> int:
    """Beat: send every drop-ship draft still waiting (each in its own transaction)."""
    sent = 0
    for pk in PurchaseOrder.objects.filter(
        kind=PurchaseOrder.Kind.DROP_SHIP, state=S.DRAFT
    ).values_list("pk", flat=True):
        if send_drop_ship_order(pk) is not None:
            sent += 1
    return sent


def record_supplier_shipment(payload: dict, *, actor_id: int | None = None) -> list[int]:
    """The supplier shipped drop-ship lines: their PO lines are received (no stock moves:
    the units were never ours) and a PO whose every line shipped is closed. Returns the
    POs touched."""
    shipped = {}
    for line in payload.get("lines", ()):
        if line.get("dropship"):
            key = line_reference(line["line_id"])
            shipped[key] = shipped.get(key, 0) + int(line["quantity"])
    if not shipped:
        return []
    po_ids = sorted(
        set(
            PurchaseOrderLine.objects.filter(
                reference__in=list(shipped),
                purchase_order__kind=PurchaseOrder.Kind.DROP_SHIP,
                purchase_order__supplier__dropship_location_id=payload.get("location_id"),
            )
            .exclude(purchase_order__state__in=(S.CANCELLED, S.CLOSED))
            .values_list("purchase_order_id", flat=True)
        )
    )
    actor = system_actor()
    for po_id in po_ids:
        purchase_order = lock_purchase_order(po_id)
        lines = lock_purchase_order_lines(po_id)
        changed = []
        for line in lines.values():
            units = shipped.get(line.reference, 0)
            if units:
                allowed = line.quantity_ordered + line.over_receipt_approved
                line.quantity_received = min(allowed, line.quantity_received + units)
                changed.append(line)
        PurchaseOrderLine.objects.bulk_update(changed, ["quantity_received"])
        message = f"Supplier shipped {payload.get('shipment', '')} ({payload.get('carrier', '')})."
        if purchase_order.state not in timeline.RECEIVABLE:
            timeline.note(
                purchase_order, "supplier", f"{message} Before the PO was sent.", actor=actor
            )
            if purchase_order.state != S.APPROVED:
                continue
            timeline.advance(
                purchase_order, S.SENT, actor=actor, message="Sent (supplier shipped)."
            )
        done = all(line.quantity_received >= line.quantity_ordered for line in lines.values())
        if done:
            timeline.advance(purchase_order, S.RECEIVED, actor=actor, message=message)
            timeline.advance(
                purchase_order, S.CLOSED, actor=actor, message="Every drop-ship line shipped."
            )
        else:
            timeline.advance(purchase_order, S.PARTIALLY_RECEIVED, actor=actor, message=message)
    return po_ids
