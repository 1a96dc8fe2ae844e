"""Receiving at the dock: scanned units against a PO's lines, into sellable or inspection.

One receipt locks the PO and then its lines (pk order, `purchasing.locking`), so two
scanners racing for the last open units queue and the second sees what the first took.
Each line books the units through the inventory movement service (ledger + balances; its
`post_movements` announces sellable stock, which re-routes waiting backorders after
commit), then moves the moving-average cost (`costing.receive_at_cost`), and the receipt
publishes `purchasing.goods_received` — all in one transaction.
"""

import math
import uuid
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from erp import events
from erp.errors import Conflict, FieldError, NotFound, ValidationFailed
from erp.roles import require_permission
from erp.services import approvals
from inventory.models import StockStatus
from inventory.services import costing
from inventory.services.lots import register_lot
from inventory.services.movements import receive_stock
from purchasing.events import GOODS_RECEIVED
from purchasing.locking import lock_purchase_order, lock_purchase_order_lines
from purchasing.models import (
    OverReceipt,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderState,
    Receipt,
    ReceiptLine,
)
from purchasing.services import timeline

S = PurchaseOrderState
OVER_RECEIPT_KIND = "over_receipt"
COST_PLACES = Decimal("0.0001")
CENTS = Decimal("0.01")


@dataclass(frozen=True)
class ScannedLine:
    """What the receiver entered for one PO line."""

    quantity: int
    line_id: int | None = None  # None: the line the scanned code names
    lot_code: str = ""
    expires_on: date | None = None
    serials: list[str] = field(default_factory=list)
    status: str | None = None  # None: sellable unless a QA hold applies
    scanned_code: str = ""


def _as_scan(raw) -> ScannedLine:
    return raw if isinstance(raw, ScannedLine) else ScannedLine(**raw)


def qa_hold(purchase_order: PurchaseOrder, line: PurchaseOrderLine) -> bool:
    """Receipts wait in inspection when the supplier, or this SKU from it, is on QA hold."""
    return purchase_order.supplier.qa_hold or bool(
        line.supplier_item and line.supplier_item.qa_hold
    )


def tolerance_units(purchase_order: PurchaseOrder, line: PurchaseOrderLine) -> int:
    """Units above the ordered quantity the supplier's tolerance lets in without approval."""
    percent = purchase_order.supplier.over_receipt_tolerance_percent
    return math.floor(line.quantity_ordered * percent / 100)


def room(purchase_order: PurchaseOrder, line: PurchaseOrderLine) -> int:
    """How many more units this line may take now (ordered + tolerance + approved)."""
    allowed = line.quantity_ordered + max(
        tolerance_units(purchase_order, line), line.over_receipt_approved
    )
    return max(0, allowed - line.quantity_received)


def _status_for(purchase_order, line, scan: ScannedLine, where: str) -> str:
    held = qa_hold(purchase_order, line)
    if scan.status in (None, ""):
        return StockStatus.INSPECTION if held else StockStatus.SELLABLE
    if scan.status not in ReceiptLine.RECEIVABLE_STATUSES:
        raise ValidationFailed(
            "Receive into sellable or inspection.", field=f"{where}.status", code="invalid_choice"
        )
    if held and scan.status == StockStatus.SELLABLE:
        raise ValidationFailed(
            f"{line.sku.code} from {purchase_order.supplier.code} is on QA hold: it goes to "
            "inspection.",
            field=f"{where}.status",
            code="qa_hold",
        )
    return scan.status


def _check_tracking(line, scan: ScannedLine, where: str) -> list[FieldError]:
    sku, errors = line.sku, []
    if sku.lot_tracked and not scan.lot_code.strip():
        errors.append(
            FieldError(f"{where}.lot_code", "required", f"{sku.code} is lot-tracked: scan the lot.")
        )
    if sku.expiry_tracked and scan.expires_on is None:
        errors.append(
            FieldError(
                f"{where}.expires_on",
                "required",
                f"{sku.code} tracks expiry: give the lot's expiry date.",
            )
        )
    if not sku.lot_tracked and (scan.lot_code.strip() or scan.expires_on):
        errors.append(
            FieldError(f"{where}.lot_code", "not_tracked", f"{sku.code} is not lot-tracked.")
        )
    return errors


def _matches(line: PurchaseOrderLine, code: str) -> bool:
    code = code.strip().lower()
    supplier_sku = line.supplier_item.supplier_sku.lower() if line.supplier_item else ""
    return code in {line.sku.code.lower(), line.sku.barcode.lower()} or (
        bool(supplier_sku) and code == supplier_sku
    )


def line_for_scan(purchase_order, lines_by_id: dict, code: str) -> PurchaseOrderLine | None:
    """The PO line a scanned SKU code, barcode or supplier SKU names (the first with
    units still to come when the SKU is on several lines)."""
    named = [line for line in lines_by_id.values() if code.strip() and _matches(line, code)]
    named.sort(key=lambda line: line.line_number)
    open_lines = [line for line in named if room(purchase_order, line) > 0]
    return (open_lines or named or [None])[0]


def _resolve(purchase_order, lines_by_id, scans) -> list[ScannedLine]:
    resolved, errors = [], []
    for index, scan in enumerate(scans):
        if scan.line_id is None:
            line = line_for_scan(purchase_order, lines_by_id, scan.scanned_code)
            if line is None:
                errors.append(
                    FieldError(
                        f"lines[{index}].sku",
                        "not_on_order",
                        f"{scan.scanned_code or 'Nothing'} scanned: not on {purchase_order.number}.",
                    )
                )
                continue
            scan = replace(scan, line_id=line.pk)
        resolved.append(scan)
    if errors:
        raise ValidationFailed.from_errors(errors)
    return resolved


def _check_scans(purchase_order, lines_by_id, scans) -> None:
    errors, wanted = [], {}
    for index, scan in enumerate(scans):
        where = f"lines[{index}]"
        line = lines_by_id.get(scan.line_id)
        if line is None:
            errors.append(FieldError(f"{where}.line", "not_found", "That line is not on this PO."))
            continue
        quantity = scan.quantity
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            errors.append(
                FieldError(f"{where}.quantity", "min_value", "Quantity must be above zero.")
            )
            continue
        errors += _check_tracking(line, scan, where)
        wanted[line.pk] = wanted.get(line.pk, 0) + quantity
    if errors:
        raise ValidationFailed.from_errors(errors)
    for line_id, quantity in wanted.items():
        line = lines_by_id[line_id]
        free = room(purchase_order, line)
        if quantity > free:
            raise Conflict(
                f"{line.sku.code}: {quantity} scanned but only {free} more may be received on "
                f"line {line.line_number} ({line.quantity_received} of {line.quantity_ordered} "
                "in). Ask a manager to approve the over-receipt.",
                field="quantity",
                code="over_receipt_needs_approval",
            )


def _check_receivable(purchase_order: PurchaseOrder) -> None:
    if purchase_order.kind == PurchaseOrder.Kind.DROP_SHIP:
        raise Conflict(
            f"{purchase_order.number} is a drop-ship PO: the supplier ships to the customer, "
            "nothing arrives at our dock.",
            field="purchase_order",
            code="drop_ship",
        )
    if purchase_order.state not in timeline.RECEIVABLE:
        raise Conflict(
            f"{purchase_order.number} is {purchase_order.get_state_display().lower()}: goods "
            "cannot be received on it.",
            field="purchase_order",
            code="not_receivable",
        )


def base_unit_cost(purchase_order: PurchaseOrder, line: PurchaseOrderLine) -> Decimal:
    return (line.unit_cost * purchase_order.exchange_rate).quantize(COST_PLACES)


@transaction.atomic
def receive_goods(*, purchase_order: PurchaseOrder, lines: list, actor, note: str = "") -> Receipt:
    """Book scanned units against the PO's lines.

    Refused (nothing written): a PO not sent or already closed/cancelled, a line of
    another PO, a lot missing on a lot-tracked SKU or an expiry on an expiry-tracked one,
    wrong serials, sellable for a QA-held SKU, more than the line may still take (ordered
    + the supplier's tolerance + approved over-receipt). Under-receipt leaves the line open.
    """
    require_permission(actor, "purchasing.receive_purchaseorder", action="receive goods")
    scans = [_as_scan(raw) for raw in lines]
    if not scans:
        raise ValidationFailed("Scan at least one line.", field="lines", code="required")
    purchase_order = lock_purchase_order(purchase_order.pk)
    if purchase_order is None:
        raise NotFound("No such purchase order.")
    _check_receivable(purchase_order)
    lines_by_id = lock_purchase_order_lines(purchase_order.pk)
    scans = _resolve(purchase_order, lines_by_id, scans)
    _check_scans(purchase_order, lines_by_id, scans)
    now = timezone.now()
    receipt = Receipt(
        number=uuid.uuid4().hex[:32],
        purchase_order=purchase_order,
        location=purchase_order.destination,
        received_by=actor,
        received_at=now,
        note=note[:255],
    )
    receipt.save()
    receipt.number = f"RCV-{receipt.pk:06d}"
    receipt.save(update_fields=["number"])
    receipt_lines, event_lines = [], []
    for index, scan in enumerate(scans):
        line = lines_by_id[scan.line_id]
        receipt_line = _book(purchase_order, receipt, line, scan, f"lines[{index}]", actor)
        receipt_lines.append(receipt_line)
        amount = (receipt_line.quantity * receipt_line.unit_cost).quantize(CENTS)
        event_lines.append(
            {
                "sku_id": line.sku_id,
                "location_id": purchase_order.destination_id,
                "status": receipt_line.status,
                "quantity": receipt_line.quantity,
                "unit_cost": str(receipt_line.unit_cost),
                "amount": str(amount),
            }
        )
    ReceiptLine.objects.bulk_create(receipt_lines)
    _roll_up(purchase_order, lines_by_id, receipt, actor)
    events.publish(
        events.DomainEvent(
            GOODS_RECEIVED,
            {
                "receipt_id": receipt.pk,
                "purchase_order_id": purchase_order.pk,
                "supplier_id": purchase_order.supplier_id,
                "lines": event_lines,
                "total": str(sum((Decimal(row["amount"]) for row in event_lines), Decimal("0"))),
            },
            actor_id=actor.pk,
        )
    )
    return receipt


def _book(purchase_order, receipt, line, scan: ScannedLine, where: str, actor) -> ReceiptLine:
    status = _status_for(purchase_order, line, scan, where)
    lot = None
    if line.sku.lot_tracked:
        lot = register_lot(
            sku=line.sku, code=scan.lot_code.strip(), expires_on=scan.expires_on, actor=actor
        )
    try:
        receive_stock(
            sku=line.sku,
            location=purchase_order.destination,
            quantity=scan.quantity,
            actor=actor,
            status=status,
            lot=lot,
            serials=scan.serials,
            reference=receipt.number,
            reason=f"Receipt against {purchase_order.number}",
            valued_by=receipt.number,  # purchasing.goods_received posts it at the PO's cost
        )
    except ValidationFailed as error:
        # Name the scanned line the inventory service refused.
        raise ValidationFailed.from_errors(
            [
                FieldError(f"{where}.{problem.field or 'line'}", problem.code, problem.message)
                for problem in error.errors
            ]
        ) from error
    unit_cost = base_unit_cost(purchase_order, line)
    costing.receive_at_cost(
        sku_id=line.sku_id,
        location_id=purchase_order.destination_id,
        quantity=scan.quantity,
        unit_cost=unit_cost,
        actor=actor,
        source=f"{purchase_order.number} {receipt.number}",
    )
    over = line.quantity_received + scan.quantity - line.quantity_ordered
    if over > line.over_receipt_approved:
        # Within the supplier's tolerance (checked above): recorded as allowed, so the
        # database's "received ≤ ordered + approved" holds.
        line.over_receipt_approved = over
    line.quantity_received += scan.quantity
    PurchaseOrderLine.objects.filter(pk=line.pk).update(
        quantity_received=F("quantity_received") + scan.quantity,
        over_receipt_approved=line.over_receipt_approved,
    )
    return ReceiptLine(
        receipt=receipt,
        purchase_order_line=line,
        sku=line.sku,
        scanned_code=scan.scanned_code[:128],
        quantity=scan.quantity,
        status=status,
        lot=lot,
        serials=list(scan.serials or []),
        unit_cost=unit_cost,
    )


def _roll_up(purchase_order, lines_by_id, receipt, actor) -> None:
    complete = all(line.quantity_received >= line.quantity_ordered for line in lines_by_id.values())
    to_state = S.RECEIVED if complete else S.PARTIALLY_RECEIVED
    message = f"{receipt.number}: " + (
        "everything received." if complete else "partly received; the rest stays open."
    )
    if purchase_order.state == to_state:
        timeline.note(purchase_order, "receipt", message, actor=actor)
    else:
        timeline.advance(purchase_order, to_state, actor=actor, message=message)


@transaction.atomic
def request_over_receipt(
    *, line: PurchaseOrderLine, quantity: int, actor, note: str = ""
) -> OverReceipt:
    """Ask a manager to let `quantity` more units in on `line` than it allows now."""
    require_permission(actor, "purchasing.receive_purchaseorder", action="receive goods")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        raise ValidationFailed("Quantity must be above zero.", field="quantity", code="min_value")
    purchase_order = lock_purchase_order(line.purchase_order_id)
    _check_receivable(purchase_order)
    line = lock_purchase_order_lines(purchase_order.pk)[line.pk]
    over_receipt = OverReceipt(
        purchase_order_line=line, quantity=quantity, requested_by=actor, note=note[:255]
    )
    over_receipt._history_user = actor
    over_receipt.save()
    value = (quantity * base_unit_cost(purchase_order, line)).quantize(CENTS)
    over_receipt.approval = approvals.request_approval(
        kind=OVER_RECEIPT_KIND,
        subject=over_receipt,
        amount=value,
        requested_by=actor,
        currency=settings.BASE_CURRENCY,
        summary=(
            f"{purchase_order.number} line {line.line_number}: {quantity} × {line.sku.code} "
            f"above the {line.quantity_ordered} ordered"
        ),
        note=note,
    )
    over_receipt.save(update_fields=["approval"])
    timeline.note(
        purchase_order,
        "over_receipt",
        f"Over-receipt of {quantity} × {line.sku.code} requested.",
        actor=actor,
    )
    return over_receipt


def _decided(request, actor, state) -> OverReceipt:
    over_receipt = OverReceipt.objects.select_for_update().get(pk=request.subject_id)
    over_receipt.state = state
    over_receipt._history_user = actor
    over_receipt.save(update_fields=["state"])
    return over_receipt


def _on_over_receipt_approved(*, request, actor) -> None:
    over_receipt = _decided(request, actor, OverReceipt.State.APPROVED)
    line = over_receipt.purchase_order_line
    purchase_order = lock_purchase_order(line.purchase_order_id)
    line = lock_purchase_order_lines(purchase_order.pk)[line.pk]
    # The approval lets these units in on top of what the line allows today.
    allowed = max(line.over_receipt_approved, tolerance_units(purchase_order, line))
    headroom = line.quantity_ordered + allowed - line.quantity_received
    line.over_receipt_approved = (
        line.quantity_received + max(0, headroom) + over_receipt.quantity - line.quantity_ordered
    )
    line.save(update_fields=["over_receipt_approved"])
    timeline.note(
        purchase_order,
        "over_receipt",
        f"Over-receipt of {over_receipt.quantity} × {line.sku.code} approved by {actor}.",
        actor=actor,
    )


def _on_over_receipt_rejected(*, request, actor) -> None:
    over_receipt = _decided(request, actor, OverReceipt.State.REJECTED)
    line = over_receipt.purchase_order_line
    timeline.note(
        line.purchase_order,
        "over_receipt",
        f"Over-receipt of {over_receipt.quantity} rejected by {actor}: {request.decision_note}",
        actor=actor,
    )


approvals.register_approval_kind(
    OVER_RECEIPT_KIND,
    label="Over-receipt",
    # Every over-receipt beyond the supplier's tolerance waits for a manager.
    default_threshold=Decimal("0.00"),
    permission="purchasing.approve_purchaseorder",
    on_approved=_on_over_receipt_approved,
    on_rejected=_on_over_receipt_rejected,
)
