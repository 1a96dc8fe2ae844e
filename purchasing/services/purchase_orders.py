"""Purchase orders: drafts, submission, approval, sending, cancelling and closing.

Validation of a PO's lines lives here once: an active SKU the supplier sells, a quantity
at least the MOQ and a multiple of the supplier's pack, a positive cost. Submission asks
the shared approvals for POs above the `purchase_order` threshold (base-currency value);
an approved PO goes to the supplier through the outbox.
"""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from erp.errors import Conflict, FieldError, NotFound, NotPermitted, ValidationFailed
from erp.models import Location
from erp.roles import require_permission
from erp.services import approvals
from purchasing.locking import lock_purchase_order
from purchasing.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderState, SupplierItem
from purchasing.services import timeline
from purchasing.services.sending import send_to_supplier

S = PurchaseOrderState
APPROVAL_KIND = "purchase_order"
CENTS = Decimal("0.01")


@dataclass(frozen=True)
class LineInput:
    sku: object  # erp.models.Sku
    quantity: int
    unit_cost: Decimal | None = None
    expected_date: date | None = None
    reference: str = ""


def _as_line(raw) -> LineInput:
    return raw if isinstance(raw, LineInput) else LineInput(**raw)


def _check_header(*, supplier, destination, kind) -> None:
    if not supplier.active:
        raise ValidationFailed(
            f"Supplier {supplier.code} is inactive.", field="supplier", code="inactive"
        )
    if not destination.active:
        raise ValidationFailed(
            f"Location {destination.code} is inactive.", field="destination", code="inactive"
        )
    if kind == PurchaseOrder.Kind.STANDARD and destination.kind == Location.Kind.DROPSHIP:
        raise ValidationFailed(
            "Goods are received at a warehouse, store or 3PL, not at a drop-ship node.",
            field="destination",
            code="dropship_destination",
        )
    if kind == PurchaseOrder.Kind.DROP_SHIP and destination.pk != supplier.dropship_location_id:
        raise ValidationFailed(
            "A drop-ship PO goes to the supplier's own drop-ship node.",
            field="destination",
            code="not_supplier_node",
        )


def _exchange_rate(supplier, exchange_rate) -> Decimal:
    if supplier.currency == settings.BASE_CURRENCY:
        return Decimal("1")
    try:
        rate = Decimal(str(exchange_rate)) if exchange_rate is not None else None
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite() or rate <= 0:
        raise ValidationFailed(
            f"{supplier.code} invoices in {supplier.currency}: give the exchange rate to "
            f"{settings.BASE_CURRENCY} (above zero).",
            field="exchange_rate",
            code="required",
        )
    return rate


def check_lines(*, supplier, lines: list[LineInput]) -> dict[int, SupplierItem]:
    """Every line's errors at once (field `lines[i].…`); returns the supplier items by SKU."""
    if not lines:
        raise ValidationFailed("Add at least one line.", field="lines", code="required")
    items = {
        item.sku_id: item
        for item in SupplierItem.objects.filter(
            supplier=supplier, sku_id__in=[line.sku.pk for line in lines]
        )
    }
    errors, seen = [], set()
    for index, line in enumerate(lines):
        where, sku, item = f"lines[{index}]", line.sku, items.get(line.sku.pk)
        if sku.pk in seen:
            errors.append(FieldError(f"{where}.sku", "duplicate", f"{sku.code} is on two lines."))
        seen.add(sku.pk)
        if not sku.active:
            errors.append(FieldError(f"{where}.sku", "inactive", f"SKU {sku.code} is inactive."))
            continue
        if item is None or not item.active:
            errors.append(
                FieldError(
                    f"{where}.sku",
                    "not_supplied",
                    f"{supplier.code} has no active price for {sku.code}.",
                )
            )
            continue
        quantity = line.quantity
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            errors.append(
                FieldError(f"{where}.quantity", "min_value", "Quantity must be above zero.")
            )
        elif quantity < item.moq:
            errors.append(
                FieldError(
                    f"{where}.quantity",
                    "below_moq",
                    f"{sku.code}: {supplier.code} sells at least {item.moq}.",
                )
            )
        elif quantity % item.pack_multiple:
            errors.append(
                FieldError(
                    f"{where}.quantity",
                    "not_pack_multiple",
                    f"{sku.code} comes in packs of {item.pack_multiple}: order a multiple "
                    f"(e.g. {quantity - quantity % item.pack_multiple or item.pack_multiple}"
                    f" or {quantity - quantity % item.pack_multiple + item.pack_multiple}).",
                )
            )
        cost = line.unit_cost if line.unit_cost is not None else item.unit_cost
        if not isinstance(cost, Decimal) or not cost.is_finite() or cost <= 0:
            errors.append(
                FieldError(f"{where}.unit_cost", "min_value", "Unit cost must be above zero.")
            )
    if errors:
        raise ValidationFailed.from_errors(errors)
    return items


def _build_lines(purchase_order, lines, items) -> list[PurchaseOrderLine]:
    today = timezone.localdate()
    return [
        PurchaseOrderLine(
            purchase_order=purchase_order,
            line_number=number,
            sku=line.sku,
            supplier_item=items[line.sku.pk],
            quantity_ordered=line.quantity,
            unit_cost=(
                line.unit_cost if line.unit_cost is not None else items[line.sku.pk].unit_cost
            ),
            expected_date=line.expected_date
            or today + timedelta(days=items[line.sku.pk].lead_time_days),
            reference=line.reference[:128],
        )
        for number, line in enumerate(lines, start=1)
    ]


def _set_expected_date(purchase_order, lines) -> None:
    dates = [line.expected_date for line in lines if line.expected_date]
    purchase_order.expected_date = max(dates) if dates else None


@transaction.atomic
def create_purchase_order(
    *,
    supplier,
    destination,
    lines: list,
    actor,
    kind: str = PurchaseOrder.Kind.STANDARD,
    exchange_rate=None,
    note: str = "",
    reference: str = "",
) -> PurchaseOrder:
    """A draft PO in the supplier's currency; each line expected after its lead time."""
    require_permission(actor, "purchasing.add_purchaseorder", action="create purchase orders")
    lines = [_as_line(line) for line in lines]
    _check_header(supplier=supplier, destination=destination, kind=kind)
    rate = _exchange_rate(supplier, exchange_rate)
    items = check_lines(supplier=supplier, lines=lines)
    # The number comes from the primary key, which concurrent creators never share.
    purchase_order = PurchaseOrder(
        number=uuid.uuid4().hex[:32],
        supplier=supplier,
        destination=destination,
        kind=kind,
        currency=supplier.currency,
        exchange_rate=rate,
        requested_by=actor,
        note=note,
        reference=reference[:128],
        state_changed_at=timezone.now(),
    )
    purchase_order._history_user = actor
    purchase_order.save()
    built = PurchaseOrderLine.objects.bulk_create(_build_lines(purchase_order, lines, items))
    _set_expected_date(purchase_order, built)
    purchase_order.number = f"PO-{purchase_order.pk:06d}"
    purchase_order.skip_history_when_saving = True
    purchase_order.save(update_fields=["number", "expected_date"])
    del purchase_order.skip_history_when_saving
    timeline.note(purchase_order, "created", f"Draft with {len(built)} lines.", actor=actor)
    return purchase_order


def _locked(purchase_order_id: int) -> PurchaseOrder:
    purchase_order = lock_purchase_order(purchase_order_id)
    if purchase_order is None:
        raise NotFound("No such purchase order.")
    return purchase_order


@transaction.atomic
def update_draft(
    *,
    purchase_order: PurchaseOrder,
    actor,
    lines: list | None = None,
    destination=None,
    exchange_rate=None,
    note: str | None = None,
) -> PurchaseOrder:
    """Change a draft: its lines (replaced whole), destination, rate or note."""
    require_permission(actor, "purchasing.change_purchaseorder", action="edit purchase orders")
    purchase_order = _locked(purchase_order.pk)
    if purchase_order.state not in timeline.EDITABLE:
        raise Conflict(
            f"{purchase_order.number} is {purchase_order.get_state_display().lower()}: "
            "only drafts can be changed.",
            field="state",
            code="not_draft",
        )
    supplier = purchase_order.supplier
    if destination is not None:
        _check_header(supplier=supplier, destination=destination, kind=purchase_order.kind)
        purchase_order.destination = destination
    if exchange_rate is not None:
        purchase_order.exchange_rate = _exchange_rate(supplier, exchange_rate)
    if note is not None:
        purchase_order.note = note
    if lines is not None:
        lines = [_as_line(line) for line in lines]
        items = check_lines(supplier=supplier, lines=lines)
        purchase_order.lines.all().delete()
        built = PurchaseOrderLine.objects.bulk_create(_build_lines(purchase_order, lines, items))
        _set_expected_date(purchase_order, built)
    purchase_order._history_user = actor
    purchase_order._change_reason = "Draft edited"
    purchase_order.save()
    timeline.note(purchase_order, "edited", "Draft changed.", actor=actor)
    return purchase_order


def base_value(purchase_order: PurchaseOrder) -> Decimal:
    """The PO's value in the base currency (what the approval threshold compares)."""
    total = sum(
        (line.quantity_ordered * line.unit_cost for line in purchase_order.lines.all()),
        Decimal("0"),
    )
    return (total * purchase_order.exchange_rate).quantize(CENTS)


@transaction.atomic
def submit_purchase_order(*, purchase_order: PurchaseOrder, actor) -> PurchaseOrder:
    """Draft → submitted. Above the threshold it waits for a manager (never the buyer
    who asked); otherwise it is approved at once and sent to the supplier."""
    require_permission(actor, "purchasing.change_purchaseorder", action="submit purchase orders")
    purchase_order = _locked(purchase_order.pk)
    timeline.check_transition(purchase_order, S.SUBMITTED)
    lines = list(purchase_order.lines.select_related("sku"))
    check_lines(
        supplier=purchase_order.supplier,
        lines=[LineInput(line.sku, line.quantity_ordered, line.unit_cost) for line in lines],
    )
    _check_header(
        supplier=purchase_order.supplier,
        destination=purchase_order.destination,
        kind=purchase_order.kind,
    )
    value = base_value(purchase_order)
    timeline.advance(purchase_order, S.SUBMITTED, actor=actor, message=f"Submitted ({value}).")
    if approvals.needs_approval(kind=APPROVAL_KIND, amount=value):
        request = approvals.request_approval(
            kind=APPROVAL_KIND,
            subject=purchase_order,
            amount=value,
            requested_by=actor,
            currency=settings.BASE_CURRENCY,
            summary=(
                f"{purchase_order.number} to {purchase_order.supplier.name}: {len(lines)} lines, "
                f"{value} {settings.BASE_CURRENCY}"
            ),
        )
        purchase_order.approval = request
        purchase_order.save(update_fields=["approval"])
        return purchase_order
    _approve(purchase_order, actor=actor, message="Approved: under the approval threshold.")
    return purchase_order


def _approve(purchase_order: PurchaseOrder, *, actor, message: str) -> None:
    purchase_order.approved_by = actor if getattr(actor, "pk", None) else None
    timeline.advance(
        purchase_order, S.APPROVED, actor=actor, message=message, extra=("approved_by",)
    )
    send_to_supplier(purchase_order=purchase_order, actor=actor)


def _on_approved(*, request, actor) -> None:
    purchase_order = _locked(request.subject_id)
    if actor.pk == purchase_order.requested_by_id:
        raise NotPermitted("You cannot approve your own purchase order.", code="own_request")
    note = f": {request.decision_note}" if request.decision_note else ""
    _approve(purchase_order, actor=actor, message=f"Approved by {actor}{note}")


def _on_rejected(*, request, actor) -> None:
    purchase_order = _locked(request.subject_id)
    timeline.advance(
        purchase_order,
        S.DRAFT,
        actor=actor,
        message=f"Rejected by {actor}: {request.decision_note}",
    )


def decide_purchase_order(
    *, purchase_order: PurchaseOrder, actor, approve: bool, note: str = ""
) -> PurchaseOrder:
    """Approve or reject a submitted PO through its pending approval request: the shared
    decision (its own transaction, the request locked first, then the PO by the callback,
    as the approvals inbox does)."""
    purchase_order.refresh_from_db()
    request = purchase_order.approval
    if purchase_order.state != S.SUBMITTED or request is None:
        raise Conflict(
            f"{purchase_order.number} is {purchase_order.get_state_display().lower()}: "
            "nothing waits for approval.",
            field="state",
            code="not_submitted",
        )
    approvals.decide_approval(request_id=request.pk, actor=actor, approve=approve, note=note)
    purchase_order.refresh_from_db()
    return purchase_order


@transaction.atomic
def cancel_purchase_order(*, purchase_order: PurchaseOrder, actor, reason: str) -> PurchaseOrder:
    """Cancel a PO nothing has been received on yet; the reason is kept (and sent to the
    supplier when the PO had gone out)."""
    require_permission(actor, "purchasing.change_purchaseorder", action="cancel purchase orders")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the PO is cancelled.", field="reason", code="required")
    purchase_order = _locked(purchase_order.pk)
    timeline.check_transition(purchase_order, S.CANCELLED)
    was_sent = purchase_order.state == S.SENT
    request = purchase_order.approval
    if request is not None and request.state == request.State.PENDING:
        approvals.cancel_approval(request=request, actor=actor, note=reason)
    purchase_order.cancel_reason = reason
    timeline.advance(
        purchase_order,
        S.CANCELLED,
        actor=actor,
        message=f"Cancelled: {reason}",
        extra=("cancel_reason",),
    )
    if was_sent:
        send_to_supplier(purchase_order=purchase_order, actor=actor, cancellation=True)
    return purchase_order


@transaction.atomic
def close_purchase_order(
    *, purchase_order: PurchaseOrder, actor, reason: str = ""
) -> PurchaseOrder:
    """Close a received PO, or short-close a partly received one (the rest will not come:
    a reason is required)."""
    require_permission(actor, "purchasing.change_purchaseorder", action="close purchase orders")
    purchase_order = _locked(purchase_order.pk)
    timeline.check_transition(purchase_order, S.CLOSED)
    reason = (reason or "").strip()
    if purchase_order.state != S.RECEIVED and not reason:
        raise ValidationFailed(
            "Say why the PO is closed before everything arrived.", field="reason", code="required"
        )
    timeline.advance(purchase_order, S.CLOSED, actor=actor, message=reason or "Closed.")
    return purchase_order


@transaction.atomic
def resend_purchase_order(*, purchase_order: PurchaseOrder, actor) -> PurchaseOrder:
    """Send an approved PO that could not go out (no endpoint or e-mail then)."""
    require_permission(actor, "purchasing.change_purchaseorder", action="send purchase orders")
    purchase_order = _locked(purchase_order.pk)
    if purchase_order.state != S.APPROVED:
        raise Conflict(
            f"{purchase_order.number} is {purchase_order.get_state_display().lower()}: only "
            "approved POs wait to be sent.",
            field="state",
            code="not_approved",
        )
    send_to_supplier(purchase_order=purchase_order, actor=actor, required=True)
    return purchase_order


@transaction.atomic
def mark_sent_by_file(*, purchase_order: PurchaseOrder, actor) -> PurchaseOrder:
    """The buyer sent the PO's PDF or CSV by hand (suppliers who take files)."""
    require_permission(actor, "purchasing.change_purchaseorder", action="send purchase orders")
    purchase_order = _locked(purchase_order.pk)
    if purchase_order.state != S.APPROVED:
        raise Conflict(
            f"{purchase_order.number} is {purchase_order.get_state_display().lower()}: only "
            "approved POs wait to be sent.",
            field="state",
            code="not_approved",
        )
    send_to_supplier(purchase_order=purchase_order, actor=actor, by_file=True)
    return purchase_order


approvals.register_approval_kind(
    APPROVAL_KIND,
    label="Purchase order",
    default_threshold=Decimal("5000.00"),
    permission="purchasing.approve_purchaseorder",
    on_approved=_on_approved,
    on_rejected=_on_rejected,
)
