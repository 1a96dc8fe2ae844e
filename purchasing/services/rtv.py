"""Returns to vendor: units returns quarantined for a supplier (its claims, kept here as
`SupplierDefect`) go back. Open an RTV for the supplier's unclaimed defects → record the
supplier's authorization → ship them (they leave quarantine through the ledger; event
`purchasing.rtv_shipped`) → record the credit note (event
`purchasing.supplier_credit_recorded`)."""

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from erp import events
from erp.errors import Conflict, ValidationFailed
from erp.roles import require_permission
from inventory.models import MovementKind, StockStatus
from inventory.services.ledger import Movement, post_movements
from purchasing import events as names
from purchasing.models import ReturnToVendor, ReturnToVendorLine, SupplierDefect

R = ReturnToVendor.State
CENTS = Decimal("0.01")


def awaiting_rtv(supplier=None):
    """Defects matched to a supplier that no RTV carries yet (oldest first)."""
    rows = SupplierDefect.objects.filter(supplier__isnull=False, rtv_line__isnull=True)
    if supplier is not None:
        rows = rows.filter(supplier=supplier)
    return rows.select_related("supplier", "sku", "location").order_by("reported_at", "pk")


@transaction.atomic
def open_rtv(*, supplier, actor, defect_ids=None) -> ReturnToVendor:
    """An RTV for the supplier's defects awaiting one (or the ones named)."""
    require_permission(actor, "purchasing.add_returntovendor", action="open returns to vendor")
    defects = awaiting_rtv(supplier).select_for_update(of=("self",))
    if defect_ids is not None:
        defects = defects.filter(pk__in=list(defect_ids))
    defects = list(defects)
    if not defects:
        raise ValidationFailed(
            f"Nothing waits to go back to {supplier.code}.", field="defects", code="required"
        )
    rtv = ReturnToVendor(number=f"tmp-{timezone.now().timestamp()}", supplier=supplier)
    rtv.created_by = actor
    rtv._history_user = actor
    rtv.save()
    rtv.number = f"RTV-{rtv.pk:06d}"
    rtv.save(update_fields=["number"])
    ReturnToVendorLine.objects.bulk_create(
        [
            ReturnToVendorLine(
                rtv=rtv,
                defect=defect,
                sku_id=defect.sku_id,
                location_id=defect.location_id,
                quantity=defect.quantity,
                unit_cost=defect.unit_cost,
            )
            for defect in defects
        ]
    )
    return rtv


def _locked(rtv: ReturnToVendor, expected: str) -> ReturnToVendor:
    rtv = ReturnToVendor.objects.select_for_update().select_related("supplier").get(pk=rtv.pk)
    if rtv.state != expected:
        raise Conflict(
            f"{rtv.number} is {rtv.get_state_display().lower()}.", field="state", code="wrong_state"
        )
    return rtv


def _save(rtv, actor, reason, fields):
    rtv._history_user = actor
    rtv._change_reason = reason
    rtv.save(update_fields=fields)


@transaction.atomic
def authorize(*, rtv: ReturnToVendor, authorization_ref: str, actor) -> ReturnToVendor:
    require_permission(actor, "purchasing.change_returntovendor", action="record authorizations")
    authorization_ref = (authorization_ref or "").strip()
    if not authorization_ref:
        raise ValidationFailed(
            "Give the supplier's authorization number.", field="authorization_ref", code="required"
        )
    rtv = _locked(rtv, R.REQUESTED)
    rtv.state, rtv.authorization_ref, rtv.authorized_at = (
        R.AUTHORIZED,
        authorization_ref[:64],
        timezone.now(),
    )
    _save(
        rtv,
        actor,
        f"Authorized {authorization_ref}",
        ["state", "authorization_ref", "authorized_at"],
    )
    return rtv


@transaction.atomic
def ship(*, rtv: ReturnToVendor, actor) -> ReturnToVendor:
    """The units leave quarantine through the ledger (refused, with nothing written, when
    quarantine no longer holds them)."""
    require_permission(actor, "purchasing.change_returntovendor", action="ship returns to vendor")
    rtv = _locked(rtv, R.AUTHORIZED)
    lines = list(rtv.lines.all())
    post_movements(
        movements=[
            Movement(line.sku_id, line.location_id, StockStatus.QUARANTINE, -line.quantity)
            for line in lines
        ],
        kind=MovementKind.DISPOSAL,
        actor=actor,
        reference=rtv.number,
        reason=f"Returned to {rtv.supplier.code} ({rtv.authorization_ref})",
    )
    rtv.state, rtv.shipped_at = R.SHIPPED, timezone.now()
    _save(rtv, actor, "Shipped back", ["state", "shipped_at"])
    amounts = [(line.quantity * line.unit_cost).quantize(CENTS) for line in lines]
    events.publish(
        events.DomainEvent(
            names.RTV_SHIPPED,
            {
                "rtv_id": rtv.pk,
                "supplier_id": rtv.supplier_id,
                "lines": [
                    {
                        "sku_id": line.sku_id,
                        "location_id": line.location_id,
                        "quantity": line.quantity,
                        "unit_cost": str(line.unit_cost),
                        "amount": str(amount),
                    }
                    for line, amount in zip(lines, amounts, strict=True)
                ],
                "total": str(sum(amounts, Decimal("0"))),
            },
            actor_id=actor.pk,
        )
    )
    return rtv


@transaction.atomic
def record_credit(*, rtv: ReturnToVendor, credit_note_ref: str, amount, actor) -> ReturnToVendor:
    require_permission(actor, "purchasing.change_returntovendor", action="record credit notes")
    credit_note_ref = (credit_note_ref or "").strip()
    if not credit_note_ref:
        raise ValidationFailed(
            "Give the credit note's number.", field="credit_note_ref", code="required"
        )
    try:
        value = Decimal(str(amount)).quantize(CENTS)
    except (InvalidOperation, ValueError):
        value = None
    if value is None or not value.is_finite() or value < 0 or value >= Decimal("1e12"):
        raise ValidationFailed("The amount must be zero or more.", field="amount", code="invalid")
    rtv = _locked(rtv, R.SHIPPED)
    rtv.state, rtv.credit_note_ref, rtv.credit_amount = R.CREDITED, credit_note_ref[:64], value
    rtv.credited_at = timezone.now()
    _save(
        rtv,
        actor,
        f"Credit {credit_note_ref}",
        ["state", "credit_note_ref", "credit_amount", "credited_at"],
    )
    events.publish(
        events.DomainEvent(
            names.SUPPLIER_CREDIT_RECORDED,
            {
                "rtv_id": rtv.pk,
                "supplier_id": rtv.supplier_id,
                "amount": str(value),
                "credit_note_ref": rtv.credit_note_ref,
            },
            actor_id=actor.pk,
        )
    )
    return rtv
