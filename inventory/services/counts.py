"""Cycle counts: blind counting, variances become adjustments, accuracy per node.

The shelf is not frozen while it is counted: picks, receipts and shipments go on. So a
line's expected figure is taken when the counter scans it — the sellable units on hand at
that instant less the units already picked off the shelf and not yet shipped (apps that
take units off the shelf register where to find them: `register_off_shelf_source`) — and
the variance posts against the balance as it is at close, movements since the scan kept.
"""

from collections.abc import Callable
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

OffShelfSource = Callable[[int, list[int]], dict[int, int]]
_off_shelf_sources: list[OffShelfSource] = []


def register_off_shelf_source(source: OffShelfSource) -> None:
    """`source(location_id, sku_ids)` → units per SKU counted in sellable on hand but no
    longer on the shelf (picked into a tote, packed, waiting for the carrier)."""
    if source not in _off_shelf_sources:
        _off_shelf_sources.append(source)


def expected_on_shelf(*, location_id: int, sku_ids: list[int]) -> dict[int, int]:
    """Sellable units that should be on the shelf now, per SKU: one balance query plus
    one per registered source."""
    on_hand = dict(
        StockBalance.objects.filter(
            location_id=location_id, status=StockStatus.SELLABLE, sku_id__in=sku_ids
        ).values_list("sku_id", "on_hand")
    )
    expected = {sku_id: on_hand.get(sku_id, 0) for sku_id in sku_ids}
    for source in _off_shelf_sources:
        for sku_id, units in source(location_id, list(sku_ids)).items():
            if sku_id in expected:
                expected[sku_id] = max(0, expected[sku_id] - units)
    return expected


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
    """Open a count; each line snapshots the expected units on the shelf (hidden from
    counters; taken again when the line is counted).

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
    expected = expected_on_shelf(location_id=location.pk, sku_ids=skus)
    CycleCountLine.objects.bulk_create(
        [CycleCountLine(count=count, sku_id=sku_id, expected=expected[sku_id]) for sku_id in skus]
    )
    return count


@transaction.atomic(durable=True)
def record_count(*, count_id: int, sku_code_or_barcode: str, counted: int, actor) -> CycleCountLine:
    """A counter scans a SKU (code or barcode) and enters the quantity on the shelf; the
    line's expected figure is what should be on the shelf at this instant."""
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
    line.expected = expected_on_shelf(location_id=count.location_id, sku_ids=[line.sku_id])[
        line.sku_id
    ]
    line.counted, line.counted_by, line.counted_at = counted, actor, timezone.now()
    line.save(update_fields=["expected", "counted", "counted_by", "counted_at"])
    return line


@transaction.atomic
def close_count(*, count_id: int, actor) -> list[InventoryAdjustment]:
    """Close a count: each variance (counted − expected when it was counted) becomes an
    adjustment, which waits for approval above the threshold. Movements made since a line
    was counted stay: the adjustment corrects the balance by the variance only."""
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
