"""Adjustments and write-offs: small ones post at once, larger ones wait for a manager.

Value = |quantity| × the SKU's valuation unit cost (`selectors.valuation_unit_cost`: never
below the cost its stock arrived at, so editing the cost field cannot dodge approval). Above the kind's threshold (write-offs have their own
policy) the adjustment waits in the approvals inbox; approving posts it, rejecting closes
it. Whoever requested it cannot decide it.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from erp import events
from erp.errors import Conflict, ValidationFailed
from erp.input_bounds import decimal_fits
from erp.roles import require_permission
from erp.services import approvals
from inventory import selectors
from inventory.models import AdjustmentReason, InventoryAdjustment, Lot, MovementKind, StockStatus
from inventory.services.ledger import Movement, post_movements
from inventory.services.validation import check_lot_and_serials, check_sku_and_location

ADJUSTMENT_KIND = "inventory_adjustment"
WRITE_OFF_KIND = "inventory_write_off"
# Published when an adjustment's ledger entries post (finance values it: shrink or gain).
ADJUSTMENT_POSTED = "inventory.adjustment_posted"


def _kind_for(adjustment: InventoryAdjustment) -> str:
    return WRITE_OFF_KIND if adjustment.is_write_off else ADJUSTMENT_KIND


@transaction.atomic
def request_adjustment(
    *,
    sku,
    location,
    quantity: int,
    reason_code: str,
    actor,
    status: str = StockStatus.SELLABLE,
    lot: Lot | None = None,
    note: str = "",
    count_line=None,
) -> InventoryAdjustment:
    """Record an adjustment; post it now if its value is within the threshold."""
    require_permission(actor, "inventory.add_inventoryadjustment", action="adjust stock")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity == 0:
        raise ValidationFailed(
            "Quantity must be a non-zero whole number.", field="quantity", code="invalid"
        )
    if reason_code not in AdjustmentReason.values:
        raise ValidationFailed("Choose a reason code.", field="reason_code", code="invalid_choice")
    if status == StockStatus.IN_TRANSIT:
        raise ValidationFailed(
            "Stock in transit is adjusted by receiving its transfer.", field="status"
        )
    check_sku_and_location(sku, location)
    check_lot_and_serials(sku=sku, lot=lot, serials=None, quantity=abs(quantity), receiving=False)
    unit_cost = selectors.valuation_unit_cost(sku=sku)
    value = (abs(quantity) * unit_cost).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if not decimal_fits(InventoryAdjustment._meta.get_field("value"), value):
        raise ValidationFailed(
            f"{abs(quantity)} units at {unit_cost} are worth more than an adjustment can "
            "record; split it.",
            field="quantity",
            code="max_value",
        )
    adjustment = InventoryAdjustment(
        sku=sku,
        location=location,
        status=status,
        lot=lot,
        quantity=quantity,
        reason_code=reason_code,
        note=note,
        unit_cost=unit_cost,
        value=value,
        requested_by=actor,
        count_line=count_line,
        state=InventoryAdjustment.State.PENDING_APPROVAL,
    )
    adjustment._history_user = actor
    adjustment.save()
    kind = _kind_for(adjustment)
    if approvals.needs_approval(kind=kind, amount=value):
        _check_postable(adjustment)  # refuse now what could never post
        approvals.request_approval(
            kind=kind,
            subject=adjustment,
            amount=value,
            requested_by=actor,
            note=note,
            summary=f"{quantity:+d} × {sku.code} at {location.code} ({adjustment.get_reason_code_display()})",
        )
        return adjustment
    _post(adjustment, actor=actor)
    return adjustment


def _check_postable(adjustment: InventoryAdjustment) -> None:
    """A removal larger than what is on hand now fails before anyone is asked to approve it."""
    if adjustment.quantity > 0:
        return
    from inventory.models import StockBalance

    on_hand = (
        StockBalance.objects.filter(
            sku=adjustment.sku, location=adjustment.location, status=adjustment.status
        )
        .values_list("on_hand", flat=True)
        .first()
        or 0
    )
    if -adjustment.quantity > on_hand:
        from inventory.errors import InsufficientStock

        raise InsufficientStock(
            f"Only {on_hand} on hand in {adjustment.status}; cannot remove {-adjustment.quantity}.",
            field="quantity",
        )


def _post(adjustment: InventoryAdjustment, *, actor) -> None:
    post_movements(
        movements=[
            Movement(
                adjustment.sku_id,
                adjustment.location_id,
                adjustment.status,
                adjustment.quantity,
                adjustment.lot_id,
            )
        ],
        kind=MovementKind.DISPOSAL if adjustment.is_write_off else MovementKind.ADJUSTMENT,
        actor=actor,
        reference=f"ADJ-{adjustment.pk}",
        reason=adjustment.get_reason_code_display(),
    )
    adjustment.state, adjustment.posted_at = InventoryAdjustment.State.POSTED, timezone.now()
    adjustment._history_user = actor
    adjustment.save(update_fields=["state", "posted_at"])
    events.publish(
        events.DomainEvent(
            ADJUSTMENT_POSTED,
            {
                "adjustment_id": adjustment.pk,
                "reference": f"ADJ-{adjustment.pk}",
                "sku_id": adjustment.sku_id,
                "location_id": adjustment.location_id,
                "status": adjustment.status,
                "quantity": adjustment.quantity,
                "unit_value": str(adjustment.unit_cost),
                "reason_code": adjustment.reason_code,
                "write_off": adjustment.is_write_off,
            },
            actor_id=getattr(actor, "pk", None),
        )
    )


def _locked_pending(request) -> InventoryAdjustment:
    adjustment = InventoryAdjustment.objects.select_for_update().get(pk=request.subject_id)
    if adjustment.state != InventoryAdjustment.State.PENDING_APPROVAL:
        raise Conflict(f"This adjustment is already {adjustment.state}.", field="state")
    return adjustment


def _on_approved(*, request, actor) -> None:
    _post(_locked_pending(request), actor=actor)


def _on_rejected(*, request, actor) -> None:
    adjustment = _locked_pending(request)
    adjustment.state = InventoryAdjustment.State.REJECTED
    adjustment._history_user = actor
    adjustment._change_reason = request.decision_note
    adjustment.save(update_fields=["state"])


def decide_adjustment(*, adjustment: InventoryAdjustment, actor, approve: bool, note: str = ""):
    """Approve (posts the stock change) or reject a waiting adjustment."""
    from erp.models import ApprovalRequest

    request = ApprovalRequest.objects.filter(
        subject_id=adjustment.pk,
        kind__in=[ADJUSTMENT_KIND, WRITE_OFF_KIND],
        state=ApprovalRequest.State.PENDING,
    ).first()
    if request is None:
        raise Conflict(
            "This adjustment is not waiting for approval.", field="state", code="not_pending"
        )
    approvals.decide_approval(request_id=request.pk, actor=actor, approve=approve, note=note)
    adjustment.refresh_from_db()
    return adjustment


approvals.register_approval_kind(
    ADJUSTMENT_KIND,
    label="Inventory adjustment",
    default_threshold=Decimal("500.00"),
    permission="inventory.approve_inventoryadjustment",
    on_approved=_on_approved,
    on_rejected=_on_rejected,
)
approvals.register_approval_kind(
    WRITE_OFF_KIND,
    label="Write-off",
    default_threshold=Decimal("250.00"),
    permission="inventory.approve_write_off",
    on_approved=_on_approved,
    on_rejected=_on_rejected,
)
