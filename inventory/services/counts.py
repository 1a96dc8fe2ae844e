"""Cycle counts: blind counting, variances become adjustments, accuracy per node."""

from datetime import timedelta

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from erp.errors import Conflict, NotFound, ValidationFailed
from erp.models import Sku
from erp.roles import require_permission
from inventory.models import (
    AdjustmentReason,
    CycleCount,
    CycleCountLine,
    InventoryAdjustment,
    StockBalance,
    StockLedgerEntry,
    StockStatus,
)
from inventory.services.adjustments import request_adjustment

REPEATED_ADJUSTMENTS_DAYS = 90
REPEATED_ADJUSTMENTS_MIN = 2
# Count exactly the SKUs given (a short pick asks for its SKU to be counted at the node).
SKUS_SCOPE = CycleCount.Scope.SKUS


def _skus_in_scope(location, scope: str, product_family: str, sku_ids=None):
    skus = Sku.objects.filter(active=True, lot_tracked=False)
    if scope == SKUS_SCOPE:
        if not sku_ids:
            raise ValidationFailed("Choose the SKUs to count.", field="sku_ids", code="required")
        return skus.filter(pk__in=list(sku_ids))
    if scope == CycleCount.Scope.ALL:
        stocked = StockBalance.objects.filter(
            location=location, status=StockStatus.SELLABLE
        ).values("sku_id")
        return skus.filter(pk__in=stocked)
    if scope == CycleCount.Scope.FAMILY:
        if not product_family:
            raise ValidationFailed(
                "Choose the product family to count.", field="product_family", code="required"
            )
        return skus.filter(product_family=product_family)
    since = timezone.now() - timedelta(days=REPEATED_ADJUSTMENTS_DAYS)
    repeated = (
        StockLedgerEntry.objects.filter(
            location=location, kind="adjustment", recorded_at__gte=since
        )
        .values("sku_id")
        .annotate(n=Count("id"))
        .filter(n__gte=REPEATED_ADJUSTMENTS_MIN)
        .values("sku_id")
    )
    return skus.filter(pk__in=repeated)


@transaction.atomic
def create_count(
    *,
    location,
    scope: str,
    actor,
    product_family: str = "",
    tolerance: int = 0,
    sku_ids: list[int] | None = None,
) -> CycleCount:
    """Open a count; each line snapshots the expected sellable on hand (hidden from counters).

    Scope `skus` counts exactly `sku_ids`; lot-tracked SKUs are left out, as in every
    scope, because a count line carries no lot."""
    require_permission(actor, "inventory.add_cyclecount", action="create cycle counts")
    if scope not in CycleCount.Scope.values:
        raise ValidationFailed("Choose what to count.", field="scope", code="invalid_choice")
    if not location.active:
        raise ValidationFailed(
            f"Location {location.code} is inactive.", field="location", code="inactive"
        )
    skus = list(
        _skus_in_scope(location, scope, product_family, sku_ids).values_list("pk", flat=True)
    )
    if not skus:
        raise ValidationFailed("Nothing to count in that scope.", field="scope", code="empty")
    count = CycleCount.objects.create(
        location=location,
        scope=scope,
        product_family=product_family,
        tolerance=tolerance,
        created_by=actor,
    )
    expected = dict(
        StockBalance.objects.filter(
            location=location, status=StockStatus.SELLABLE, sku_id__in=skus
        ).values_list("sku_id", "on_hand")
    )
    CycleCountLine.objects.bulk_create(
        [
            CycleCountLine(count=count, sku_id=sku_id, expected=expected.get(sku_id, 0))
            for sku_id in skus
        ]
    )
    return count


@transaction.atomic
def record_count(*, count_id: int, sku_code_or_barcode: str, counted: int, actor) -> CycleCountLine:
    """A counter scans a SKU (code or barcode) and enters the quantity on the shelf."""
    require_permission(actor, "inventory.change_cyclecount", action="enter counts")
    count = CycleCount.objects.select_for_update().filter(pk=count_id).first()
    if count is None:
        raise NotFound("No such count.")
    if count.state != CycleCount.State.OPEN:
        raise Conflict("This count is closed.", field="state")
    if not isinstance(counted, int) or isinstance(counted, bool) or counted < 0:
        raise ValidationFailed(
            "Enter the number of units counted (0 or more).", field="counted", code="invalid"
        )
    scanned = sku_code_or_barcode.strip()
    line = (
        count.lines.select_related("sku").filter(sku__code=scanned).first()
        or count.lines.select_related("sku")
        .filter(sku__barcode=scanned)
        .exclude(sku__barcode="")
        .first()
    )
    if line is None:
        raise ValidationFailed(f"{scanned} is not on this count.", field="sku", code="not_on_count")
    line.counted, line.counted_by, line.counted_at = counted, actor, timezone.now()
    line.save(update_fields=["counted", "counted_by", "counted_at"])
    return line


@transaction.atomic
def close_count(*, count_id: int, actor) -> list[InventoryAdjustment]:
    """Close a count: each variance (counted − expected) becomes an adjustment, which
    waits for approval above the threshold. Expected is the snapshot taken when the count
    opened: the shelf is frozen while it is counted."""
    require_permission(actor, "inventory.change_cyclecount", action="close counts")
    count = (
        CycleCount.objects.select_for_update()
        .filter(pk=count_id)
        .select_related("location")
        .first()
    )
    if count is None:
        raise NotFound("No such count.")
    if count.state != CycleCount.State.OPEN:
        raise Conflict("This count is already closed.", field="state")
    lines = list(count.lines.select_related("sku"))
    uncounted = [line.sku.code for line in lines if line.counted is None]
    if uncounted:
        raise ValidationFailed(
            f"{len(uncounted)} lines are not counted yet (first: {uncounted[0]}).",
            field="lines",
            code="uncounted",
        )
    adjustments = [
        request_adjustment(
            sku=line.sku,
            location=count.location,
            quantity=line.variance,
            reason_code=AdjustmentReason.COUNT_VARIANCE,
            actor=actor,
            note=f"CNT-{count.pk}",
            count_line=line,
        )
        for line in lines
        if line.variance
    ]
    count.state, count.closed_at = CycleCount.State.CLOSED, timezone.now()
    count.save(update_fields=["state", "closed_at"])
    return adjustments
