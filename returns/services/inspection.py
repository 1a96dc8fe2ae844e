"""Inspection and disposition of received units, and the repair queue they may go to.

Restock moves units inspection → sellable (inventory announces the new sellable stock, so
availability is republished and backorders route). Refurbish and quarantine move them to
quarantine (refurbish also opens a repair order). Dispose writes them off through
inventory's write-off path: above its threshold the write-off waits in the approvals
inbox and the units stay in inspection until a manager approves; if the manager rejects
it, the units wait for another disposition. Return to vendor moves them to quarantine
and records a supplier claim; they stay there until purchasing ships them back.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from erp import events
from erp.errors import Conflict, NotFound, ValidationFailed
from erp.roles import require_permission
from inventory.models import AdjustmentReason, InventoryAdjustment, SerialNumber, StockStatus
from inventory.services.adjustments import request_adjustment
from inventory.services.movements import change_status
from returns import selectors
from returns.models import (
    DAMAGE_GRADES,
    Discrepancy,
    Disposition,
    Grade,
    Inspection,
    ReceivedItem,
    RepairOrder,
    RmaState,
    SupplierClaim,
)
from returns.services import states
from returns.services.locking import lock_rma
from returns.services.policies import EffectivePolicy, policies_for

_SERIAL_DISCREPANCIES = {Discrepancy.SERIAL_NOT_EXPECTED, Discrepancy.SERIAL_NOT_SHIPPED}
# Where each disposition leaves the units (dispose takes them out through a write-off).
_TARGET_STATUS = {
    Disposition.RESTOCK: StockStatus.SELLABLE,
    Disposition.REFURBISH: StockStatus.QUARANTINE,
    Disposition.QUARANTINE: StockStatus.QUARANTINE,
    Disposition.RETURN_TO_VENDOR: StockStatus.QUARANTINE,
}


@dataclass
class _Plan:
    index: int
    item: ReceivedItem
    quantity: int
    grade: str
    disposition: str
    note: str
    supplier: str


@transaction.atomic
def inspect_return(*, rma_id: int, results: list[dict], actor) -> list[Inspection]:
    """Record condition and disposition for received units of an RMA, and move them.

    Each result names the units by `received_item_id`, by `serial` (one unit), or by
    `rma_line_id` (any received units of that line), with `quantity`, `grade`,
    `disposition`, `note`, and `supplier` for a return to vendor. Units that were not
    received (or are already inspected) are refused; so is restocking a never-restock
    family, a damaged or defective unit, or, for families whose serials are always
    inspected, a unit whose serial was not the one expected.
    """
    require_permission(actor, "returns.inspect_return", action="inspect returns")
    if not results:
        raise ValidationFailed("Inspect at least one unit.", field="results", code="required")
    rma = lock_rma(rma_id)
    if rma.state in (RmaState.CLOSED, RmaState.CANCELLED):
        raise Conflict(
            f"{rma.number} is {rma.get_state_display().lower()}.", field="state", code="closed"
        )
    items = list(
        rma.received_items.select_related("sku", "lot", "location", "rma_line__reason").order_by(
            "pk"
        )
    )
    inspected = selectors.inspected_by_item(rma.pk)
    waiting = {item.pk: item.quantity - inspected.get(item.pk, 0) for item in items}
    policies = policies_for(rma.channel, {item.sku.product_family for item in items})
    plans = []
    for index, result in enumerate(results):
        plans.extend(_plan(index, result, items, waiting, policies))
    done = [_carry_out(plan, rma=rma, actor=actor) for plan in plans]
    states.advance(rma, actor=actor)
    return done


def _plan(index, result: dict, items, waiting, policies) -> list[_Plan]:
    where = f"results[{index}]"
    grade, disposition = result.get("grade"), result.get("disposition")
    if grade not in Grade.values:
        raise ValidationFailed(
            "Choose a condition grade.", field=f"{where}.grade", code="invalid_choice"
        )
    if disposition not in Disposition.values:
        raise ValidationFailed(
            "Choose a disposition.", field=f"{where}.disposition", code="invalid_choice"
        )
    supplier = str(result.get("supplier", "")).strip()
    if disposition == Disposition.RETURN_TO_VENDOR and not supplier:
        raise ValidationFailed(
            "Name the supplier the units go back to.", field=f"{where}.supplier", code="required"
        )
    plans = []
    for item, quantity in _units(index, result, items, waiting, policies):
        policy = policies[item.sku.product_family or ""]
        _check_disposition(where, item, grade, disposition, policy)
        waiting[item.pk] -= quantity
        plans.append(
            _Plan(
                index=index,
                item=item,
                quantity=quantity,
                grade=grade,
                disposition=disposition,
                note=str(result.get("note", ""))[:500],
                supplier=supplier,
            )
        )
    return plans


def _units(index, result, items, waiting, policies) -> list[tuple[ReceivedItem, int]]:
    """Which received units this result grades: refused if they were not received."""
    where = f"results[{index}]"
    serial = str(result.get("serial") or "").strip()
    item_id, line_id = result.get("received_item_id"), result.get("rma_line_id")
    quantity = result.get("quantity")
    if quantity is not None and (
        not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0
    ):
        raise ValidationFailed(
            "Quantity must be a whole number above zero.",
            field=f"{where}.quantity",
            code="min_value",
        )
    if serial:
        matches = [
            item
            for item in items
            if item.serial == serial and waiting[item.pk] > 0 and item_id in (None, item.pk)
        ]
        if not matches:
            raise ValidationFailed(
                f"Serial {serial} was not received on this RMA, or is already inspected.",
                field=f"{where}.serial",
                code="not_received",
            )
        return [(matches[0], 1)]
    if item_id is not None:
        candidates = [item for item in items if item.pk == item_id]
        name = "received_item_id"
    elif line_id is not None:
        candidates = [item for item in items if item.rma_line_id == line_id]
        name = "rma_line_id"
    else:
        raise ValidationFailed(
            "Name the units: a serial, a received item or an RMA line.",
            field=f"{where}.serial",
            code="required",
        )
    for item in candidates:
        if item.serial and policies[item.sku.product_family or ""].always_inspect_serials:
            raise ValidationFailed(
                f"{item.sku.code} units are inspected one by one: scan the serial.",
                field=f"{where}.serial",
                code="scan_serial",
            )
    available = sum(waiting[item.pk] for item in candidates)
    wanted = available if quantity is None else quantity
    if not candidates or wanted == 0 or wanted > available:
        raise ValidationFailed(
            f"{available} unit(s) received and not yet inspected here; {wanted} to inspect.",
            field=f"{where}.{name}",
            code="not_received",
        )
    taken = []
    for item in candidates:
        take = min(waiting[item.pk], wanted)
        if take:
            taken.append((item, take))
            wanted -= take
    return taken


def _check_disposition(where, item: ReceivedItem, grade, disposition, policy: EffectivePolicy):
    if disposition != Disposition.RESTOCK:
        return
    field = f"{where}.disposition"
    if policy.never_restock:
        raise ValidationFailed(
            f"{item.sku.code} ({item.sku.product_family}) is never restocked once returned.",
            field=field,
            code="never_restock",
        )
    if grade in DAMAGE_GRADES:
        raise ValidationFailed(
            f"A {Grade(grade).label.lower()} unit cannot be sold again; refurbish, quarantine "
            "or dispose of it.",
            field=field,
            code="grade_not_sellable",
        )
    if policy.always_inspect_serials and item.discrepancy in _SERIAL_DISCREPANCIES:
        raise ValidationFailed(
            f"Serial {item.serial} is not the one that shipped; it cannot be restocked.",
            field=field,
            code="serial_discrepancy",
        )


def _carry_out(plan: _Plan, *, rma, actor) -> Inspection:
    item = plan.item
    inspection = Inspection(
        rma=rma,
        received_item=item,
        quantity=plan.quantity,
        grade=plan.grade,
        disposition=plan.disposition,
        note=plan.note,
        inspected_by=actor,
        inspected_at=timezone.now(),
    )
    reason = f"return {rma.number}: {Disposition(plan.disposition).label.lower()} ({plan.grade})"
    if plan.disposition == Disposition.DISPOSE:
        inspection.write_off = _write_off(
            item,
            plan.quantity,
            StockStatus.INSPECTION,
            actor=actor,
            note=f"{rma.number}: {plan.note or plan.grade}",
        )
        inspection.save()
        return inspection
    target = _TARGET_STATUS[plan.disposition]
    _move(
        item,
        plan.quantity,
        StockStatus.INSPECTION,
        target,
        actor=actor,
        reason=reason,
        reference=rma.number,
    )
    inspection.save()
    if plan.disposition == Disposition.REFURBISH:
        RepairOrder.objects.create(
            inspection=inspection,
            rma=rma,
            sku=item.sku,
            location=item.location,
            lot=item.lot,
            serial=item.serial,
            quantity=plan.quantity,
            created_at=inspection.inspected_at,
            note=plan.note,
        )
    elif plan.disposition == Disposition.RETURN_TO_VENDOR:
        unit_cost = item.sku.unit_cost
        claim = SupplierClaim.objects.create(
            inspection=inspection,
            rma=rma,
            sku=item.sku,
            location=item.location,
            supplier=plan.supplier[:128],
            quantity=plan.quantity,
            unit_cost=unit_cost,
            amount=(unit_cost * plan.quantity).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
            reason=item.rma_line.reason if item.rma_line else None,
            note=plan.note,
            created_by=actor,
            created_at=inspection.inspected_at,
        )
        _announce_claim(claim)
    return inspection


SUPPLIER_CLAIM_OPENED = "returns.supplier_claim_opened"


def _announce_claim(claim: SupplierClaim) -> None:
    """Purchasing hears of units going back to a supplier (defect rate, RTV) by name."""
    events.publish(
        events.DomainEvent(
            SUPPLIER_CLAIM_OPENED,
            {
                "claim_id": claim.pk,
                "rma_id": claim.rma_id,
                "sku_id": claim.sku_id,
                "location_id": claim.location_id,
                "supplier": claim.supplier,
                "quantity": claim.quantity,
                "unit_cost": str(claim.unit_cost),
                "amount": str(claim.amount),
                "reason": claim.reason.code if claim.reason else "",
                "occurred_at": claim.created_at.isoformat(),
            },
            actor_id=claim.created_by_id,
        )
    )


def _move(item, quantity, from_status, to_status, *, actor, reason, reference) -> None:
    change_status(
        sku=item.sku,
        location=item.location,
        quantity=quantity,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        lot=item.lot,
        reason=reason,
        reference=reference,
    )
    if item.serial:
        _set_serial(item, status=to_status)


def _write_off(item, quantity, status, *, actor, note) -> InventoryAdjustment:
    adjustment = request_adjustment(
        sku=item.sku,
        location=item.location,
        quantity=-quantity,
        reason_code=AdjustmentReason.DAMAGE,
        actor=actor,
        status=status,
        lot=item.lot,
        note=note,
    )
    if item.serial and adjustment.state == InventoryAdjustment.State.POSTED:
        _set_serial(item, state=SerialNumber.State.WRITTEN_OFF)
    return adjustment


def _set_serial(item, *, status: str | None = None, state: str | None = None) -> None:
    """inventory's status change and write-off move quantities only; the serial record
    follows its unit here so a serial lookup shows where the unit now is."""
    record = SerialNumber.objects.filter(sku=item.sku, serial=item.serial).first()
    if record is None:
        return
    if status:
        record.status = status
    if state:
        record.state = state
        record.location = None if state == SerialNumber.State.WRITTEN_OFF else record.location
    record.save()


@transaction.atomic
def complete_repair(*, repair_id: int, actor, outcome: str, note: str = "") -> RepairOrder:
    """Close a repair order: repaired units go quarantine → sellable ("restock"), units
    beyond repair are written off ("dispose", approval above the threshold)."""
    require_permission(actor, "returns.change_repairorder", action="complete repairs")
    repair = (
        RepairOrder.objects.select_for_update(of=("self",))
        .select_related("rma__channel", "sku", "location", "lot")
        .filter(pk=repair_id)
        .first()
    )
    if repair is None:
        raise NotFound("No such repair order.", field="repair")
    if repair.state != RepairOrder.State.OPEN:
        raise Conflict(
            f"This repair is already {repair.get_state_display().lower()}.", field="state"
        )
    reference = repair.rma.number
    if outcome == "restock":
        policy = policies_for(repair.rma.channel, [repair.sku.product_family])[
            repair.sku.product_family or ""
        ]
        if policy.never_restock:
            raise ValidationFailed(
                f"{repair.sku.code} is never restocked once returned.",
                field="outcome",
                code="never_restock",
            )
        _move(
            repair,
            repair.quantity,
            StockStatus.QUARANTINE,
            StockStatus.SELLABLE,
            actor=actor,
            reason=f"return {reference}: repaired",
            reference=reference,
        )
        repair.state = RepairOrder.State.RESTOCKED
    elif outcome == "dispose":
        repair.write_off = _write_off(
            repair,
            repair.quantity,
            StockStatus.QUARANTINE,
            actor=actor,
            note=f"{reference}: beyond repair",
        )
        repair.state = RepairOrder.State.DISPOSED
    else:
        raise ValidationFailed("Choose restock or dispose.", field="outcome", code="invalid_choice")
    repair.completed_at, repair.completed_by, repair.note = (
        timezone.now(),
        actor,
        note[:500] or repair.note,
    )
    repair._history_user = actor
    repair.save()
    return repair
