"""Transfers between nodes: out of sellable into in_transit at the receiving node, then
received (partially, in several receipts) into sellable; closing reports what never came."""

import uuid

from django.db import transaction
from django.utils import timezone

from erp import fastsql
from erp.errors import Conflict, NotFound, ValidationFailed
from erp.roles import require_permission
from inventory.models import AdjustmentReason, MovementKind, StockStatus, Transfer, TransferLine
from inventory.services.adjustments import request_adjustment
from inventory.services.ledger import Movement, post_movements
from inventory.services.locking import lock_transfer, lock_transfer_lines
from inventory.services.validation import (
    check_lot_and_serials,
    check_quantity,
    check_sku_and_location,
)


@transaction.atomic
def create_transfer(
    *, from_location, to_location, lines: list[dict], actor, reference: str = ""
) -> Transfer:
    """Ship stock to another node: sellable leaves the sender, in_transit appears at the receiver.

    `lines`: [{"sku": Sku, "quantity": int, "lot": Lot | None}].
    """
    require_permission(actor, "inventory.add_transfer", action="transfer stock")
    if from_location.pk == to_location.pk:
        raise ValidationFailed(
            "Choose a different destination node.", field="to_location", code="same_node"
        )
    if not lines:
        raise ValidationFailed("Add at least one line.", field="lines", code="required")
    for index, line in enumerate(lines):
        check_quantity(line["quantity"], field=f"lines[{index}].quantity")
        check_sku_and_location(line["sku"], from_location)
        check_sku_and_location(line["sku"], to_location)
        check_lot_and_serials(
            sku=line["sku"],
            lot=line.get("lot"),
            serials=None,
            quantity=line["quantity"],
            receiving=False,
        )
    # The number comes from the primary key, which concurrent creators never share: drawn
    # first where the database can (one write, one history row), else set after the insert.
    drawn = fastsql.next_id(Transfer)
    transfer = Transfer(
        pk=drawn,
        number=f"TRF-{drawn:06d}" if drawn else uuid.uuid4().hex[:32],
        from_location=from_location,
        to_location=to_location,
        reference=reference,
        created_by=actor,
        shipped_at=timezone.now(),
    )
    movements = []
    for line in lines:
        lot_id = line["lot"].pk if line.get("lot") else None
        movements.append(
            Movement(
                line["sku"].pk, from_location.pk, StockStatus.SELLABLE, -line["quantity"], lot_id
            )
        )
        movements.append(
            Movement(
                line["sku"].pk, to_location.pk, StockStatus.IN_TRANSIT, line["quantity"], lot_id
            )
        )
    # The transfer, its history row, its lines and the ledger's posting: sent together.
    with fastsql.pipeline():
        if drawn:
            fastsql.insert([transfer], returning=False, with_pk=True)
            fastsql.insert_history([transfer], history_type="+", actor=actor)
        else:
            transfer._history_user = actor
            transfer.save(force_insert=True)
            transfer.number = f"TRF-{transfer.pk:06d}"
            transfer.save(update_fields=["number"])
        fastsql.insert(
            [
                TransferLine(
                    transfer=transfer,
                    sku=line["sku"],
                    lot=line.get("lot"),
                    quantity_shipped=line["quantity"],
                )
                for line in lines
            ],
            returning=False,
        )
        post_movements(
            movements=movements,
            kind=MovementKind.TRANSFER_OUT,
            actor=actor,
            reference=transfer.number,
            reason=f"transfer to {to_location.code}",
        )
    return transfer


def _locked_open_transfer(transfer_id: int) -> Transfer:
    transfer = lock_transfer(transfer_id)
    if transfer is None:
        raise NotFound("No such transfer.")
    if transfer.state not in (Transfer.State.IN_TRANSIT, Transfer.State.PARTIALLY_RECEIVED):
        raise Conflict(
            f"Transfer {transfer.number} is {transfer.get_state_display().lower()}.", field="state"
        )
    return transfer


@transaction.atomic
def receive_transfer(*, transfer_id: int, received: dict[int, int], actor) -> Transfer:
    """Receive some or all outstanding units: `received` maps transfer line id → quantity."""
    require_permission(actor, "inventory.change_transfer", action="receive transfers")
    transfer = _locked_open_transfer(transfer_id)
    lines = {line.pk: line for line in lock_transfer_lines(transfer.pk)}
    movements, changed = [], {}
    for line_id, quantity in received.items():
        line = lines.get(int(line_id))
        if line is None:
            raise ValidationFailed(
                "That line is not on this transfer.", field=f"lines[{line_id}]", code="unknown"
            )
        if quantity == 0:
            continue
        check_quantity(quantity, field=f"lines[{line_id}].quantity")
        if quantity > line.outstanding:
            raise ValidationFailed(
                f"Only {line.outstanding} of {line.sku.code} are still in transit.",
                field=f"lines[{line_id}].quantity",
                code="max_value",
            )
        line.quantity_received += quantity
        changed[line.pk] = line.quantity_received
        movements.append(
            Movement(
                line.sku_id, transfer.to_location_id, StockStatus.IN_TRANSIT, -quantity, line.lot_id
            )
        )
        movements.append(
            Movement(
                line.sku_id, transfer.to_location_id, StockStatus.SELLABLE, quantity, line.lot_id
            )
        )
    if not movements:
        raise ValidationFailed(
            "Enter a quantity received for at least one line.", field="lines", code="required"
        )
    outstanding = sum(line.outstanding for line in lines.values())
    transfer.state = (
        Transfer.State.RECEIVED if outstanding == 0 else Transfer.State.PARTIALLY_RECEIVED
    )
    transfer.closed_at = timezone.now() if outstanding == 0 else None
    # Lines, ledger, balances, the transfer and its history row: sent together.
    with fastsql.pipeline():
        fastsql.set_by_pk(TransferLine, "quantity_received", changed)
        post_movements(
            movements=movements,
            kind=MovementKind.TRANSFER_IN,
            actor=actor,
            reference=transfer.number,
            reason=f"received from {transfer.from_location_code}",
        )
        fastsql.update(transfer, ["state", "closed_at"])
        fastsql.insert_history([transfer], history_type="~", actor=actor)
    return transfer


@transaction.atomic
def close_transfer_with_discrepancy(*, transfer_id: int, actor, note: str) -> Transfer:
    """Stop waiting: units still in transit are reported missing. They leave `in_transit`
    for `quarantine` at the destination (held, never sold) and are written off there as
    shrink through the write-off approvals: within the threshold the write-off posts at
    once, above it the units stay in quarantine until a manager decides."""
    require_permission(actor, "inventory.change_transfer", action="close transfers")
    if not note.strip():
        raise ValidationFailed("Describe the discrepancy.", field="note", code="required")
    transfer = _locked_open_transfer(transfer_id)
    missing_lines = []
    for line in (
        transfer.lines.select_for_update(of=("self",)).select_related("sku", "lot").order_by("pk")
    ):
        if line.outstanding:
            line.quantity_missing = line.outstanding
            line.save(update_fields=["quantity_missing"])
            missing_lines.append(line)
    if missing_lines:
        post_movements(
            movements=[
                movement
                for line in missing_lines
                for movement in (
                    Movement(
                        line.sku_id,
                        transfer.to_location_id,
                        StockStatus.IN_TRANSIT,
                        -line.quantity_missing,
                        line.lot_id,
                    ),
                    Movement(
                        line.sku_id,
                        transfer.to_location_id,
                        StockStatus.QUARANTINE,
                        line.quantity_missing,
                        line.lot_id,
                    ),
                )
            ],
            kind=MovementKind.STATUS_CHANGE,
            actor=actor,
            reference=transfer.number,
            reason=f"missing on arrival: {note}",
        )
        for line in missing_lines:
            request_adjustment(
                sku=line.sku,
                location=transfer.to_location,
                quantity=-line.quantity_missing,
                reason_code=AdjustmentReason.SHRINK,
                status=StockStatus.QUARANTINE,
                lot=line.lot,
                note=f"{transfer.number} missing on arrival: {note}"[:255],
                actor=actor,
            )
    transfer.state, transfer.closed_at = Transfer.State.CLOSED_WITH_DISCREPANCY, timezone.now()
    transfer._history_user, transfer._change_reason = actor, note
    transfer.save(update_fields=["state", "closed_at"])
    return transfer
