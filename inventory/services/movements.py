"""Receipts and status changes (manual, 3PL, returns); each writes ledger entries."""

from django.db import transaction

from erp import events
from erp.errors import ValidationFailed
from erp.roles import require_permission
from inventory.models import Lot, MovementKind, SerialNumber, StockStatus
from inventory.services.ledger import Movement, post_movements
from inventory.services.validation import (
    check_lot_and_serials,
    check_quantity,
    check_sku_and_location,
)

# Published by receive_stock (manual, 3PL and return receipts) once the units are booked in:
# finance puts them on the inventory account at their valuation cost.
STOCK_RECEIVED = "inventory.stock_received"

RECEIVABLE_STATUSES = {
    StockStatus.SELLABLE,
    StockStatus.INSPECTION,
    StockStatus.QUARANTINE,
    StockStatus.DAMAGED,
}


@transaction.atomic
def receive_stock(
    *,
    sku,
    location,
    quantity: int,
    actor,
    status: str = StockStatus.SELLABLE,
    lot: Lot | None = None,
    serials: list[str] | None = None,
    reference: str = "",
    reason: str = "receipt",
    kind: str = MovementKind.RECEIPT,
    valued_by: str = "",
):
    """Book units into a node without a purchase order (manual or 3PL receipt).

    Lot-tracked SKUs need a lot; serial-tracked SKUs need one new serial per unit.
    `valued_by` names the document that puts the units on the books itself (a purchase
    receipt posts them at the PO's cost), so finance does not value them a second time.
    """
    require_permission(actor, "inventory.add_stockledgerentry", action="receive stock")
    check_quantity(quantity)
    check_sku_and_location(sku, location)
    if status not in RECEIVABLE_STATUSES:
        raise ValidationFailed(
            f"Stock cannot be received into {status}.", field="status", code="invalid_choice"
        )
    serials = check_lot_and_serials(
        sku=sku, lot=lot, serials=serials, quantity=quantity, receiving=True
    )
    entries = post_movements(
        movements=[Movement(sku.pk, location.pk, status, quantity, lot.pk if lot else None)],
        kind=kind,
        actor=actor,
        reference=reference,
        reason=reason,
    )
    if serials:
        _put_serials_in_stock(sku, serials, location, status, lot)
    events.publish(
        events.DomainEvent(
            STOCK_RECEIVED,
            {
                "ledger_entry_id": entries[0].pk,
                "kind": kind,
                "reference": reference,
                "sku_id": sku.pk,
                "location_id": location.pk,
                "status": status,
                "quantity": quantity,
                # A document that puts these units on the books itself (a purchase
                # receipt, at the PO's cost): finance does not value them twice.
                "valued_by": valued_by,
            },
            actor_id=getattr(actor, "pk", None),
        )
    )
    return entries


def _put_serials_in_stock(sku, serials, location, status, lot) -> None:
    existing = {s.serial: s for s in SerialNumber.objects.filter(sku=sku, serial__in=serials)}
    new = []
    for serial in serials:
        record = existing.get(serial)
        if record is None:
            new.append(
                SerialNumber(sku=sku, serial=serial, location=location, status=status, lot=lot)
            )
            continue
        record.state, record.location, record.status, record.lot = (
            SerialNumber.State.IN_STOCK,
            location,
            status,
            lot,
        )
        record.save()
    SerialNumber.objects.bulk_create(new)


@transaction.atomic
def change_status(
    *,
    sku,
    location,
    quantity: int,
    from_status: str,
    to_status: str,
    actor,
    lot: Lot | None = None,
    reason: str,
    reference: str = "",
):
    """Move units between statuses at one node (sellable ⇄ inspection/quarantine/damaged)."""
    require_permission(actor, "inventory.add_stockledgerentry", action="change stock status")
    check_quantity(quantity)
    check_sku_and_location(sku, location)
    allowed = RECEIVABLE_STATUSES
    if from_status not in allowed or to_status not in allowed:
        raise ValidationFailed(
            "Status changes move stock between sellable, inspection, quarantine and damaged.",
            field="to_status" if from_status in allowed else "from_status",
            code="invalid_choice",
        )
    if from_status == to_status:
        raise ValidationFailed(
            "Choose a different status to move to.", field="to_status", code="same_status"
        )
    if not reason.strip():
        raise ValidationFailed("Say why the stock changes status.", field="reason", code="required")
    check_lot_and_serials(sku=sku, lot=lot, serials=None, quantity=quantity, receiving=False)
    lot_id = lot.pk if lot else None
    return post_movements(
        movements=[
            Movement(sku.pk, location.pk, from_status, -quantity, lot_id),
            Movement(sku.pk, location.pk, to_status, quantity, lot_id),
        ],
        kind=MovementKind.STATUS_CHANGE,
        actor=actor,
        reference=reference,
        reason=reason,
    )
