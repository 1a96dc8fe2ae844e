"""Short picks: the slot holds fewer units than the task. What was found is picked, the
SKU is counted at the node, and the missing units are released there and re-routed to
another node (or backordered); the short pick waits in the short-picks queue."""

from django.db import transaction
from django.utils import timezone

from erp.errors import Conflict, NotFound, ValidationFailed
from erp.roles import require_permission
from fulfillment.models import PickConfirmation, PickTask, ShortPick
from fulfillment.services.picking.scans import check_quantity, lock_open_task, record_picks
from fulfillment.services.picking.units import confirmations_for
from inventory.models import CycleCount, CycleCountLine
from inventory.services.counts import SKUS_SCOPE, create_count
from orders.models import OrderLine
from orders.services import in_fulfillment
from orders.services.shipments import take_back_short_units


@transaction.atomic
def report_short_pick(
    *,
    task_id: int,
    quantity_found: int,
    actor,
    note: str = "",
    lot_code: str | None = None,
    serials=(),
) -> ShortPick:
    """The slot holds fewer units than are left to pick: the `quantity_found` units are
    picked, the SKU is counted at the node, and the missing units are released here and
    re-routed to another node (or backordered). Appears in the short-picks queue."""
    require_permission(actor, "fulfillment.add_shortpick", action="report short picks")
    order, task = lock_open_task(task_id)
    check_quantity(quantity_found, "quantity_found", minimum=0)
    if quantity_found >= task.remaining:
        raise ValidationFailed(
            f"{quantity_found} found covers the {task.remaining} left: confirm the pick instead.",
            field="quantity_found",
            code="not_short",
        )
    missing = task.remaining - quantity_found
    # Stock balances (release, re-route) before lot balances (the found units), the order
    # shipping takes them in.
    rerouted = _release_and_reroute(order, task, missing, actor)
    if quantity_found:
        PickConfirmation.objects.bulk_create(
            confirmations_for(task, quantity_found, lot_code, serials, actor, "")
        )
    record_picks(task, picked=quantity_found, short=missing, actor=actor)
    short = ShortPick.objects.create(
        task=task,
        quantity=missing,
        note=note.strip()[:500],
        reported_by=actor,
        count=_count(task, actor),
        rerouted=rerouted,
    )
    in_fulfillment.note_warehouse_event(
        order=order,
        kind="short_pick",
        message=f"Short pick at {task.location.code} {task.slot_code or '(no slot)'}: {missing} × "
        f"{task.sku.code} missing; {rerouted} re-routed, {missing - rerouted} backordered.",
        actor=actor,
    )
    return short


def _release_and_reroute(order, task: PickTask, missing: int, actor) -> int:
    take_back_short_units(allocation_id=task.allocation_id, missing=missing, actor=actor)
    line = OrderLine.objects.select_related("sku").get(pk=task.line_id)
    return in_fulfillment.route_line_in_fulfillment(
        order=order, line=line, actor=actor, avoid_location_id=task.location_id
    )


def _count(task: PickTask, actor) -> CycleCount | None:
    """A count of the SKU at the node: an open one that already covers it, else a new one.
    Lot-tracked SKUs are not counted here (a count line carries no lot)."""
    if task.sku.lot_tracked:
        return None
    line = (
        CycleCountLine.objects.filter(
            sku_id=task.sku_id,
            count__location_id=task.location_id,
            count__state=CycleCount.State.OPEN,
        )
        .select_related("count")
        .first()
    )
    if line:
        return line.count
    return create_count(
        location=task.location, scope=SKUS_SCOPE, sku_ids=[task.sku_id], actor=actor
    )


@transaction.atomic
def resolve_short_pick(*, short_pick_id: int, actor, resolution: str) -> ShortPick:
    """Close a short pick once it is understood (the count closed, the stock found)."""
    require_permission(actor, "fulfillment.change_shortpick", action="resolve short picks")
    if not (resolution or "").strip():
        raise ValidationFailed("Say how it was resolved.", field="resolution", code="required")
    short = ShortPick.objects.select_for_update().filter(pk=short_pick_id).first()
    if short is None:
        raise NotFound("No such short pick.", field="short_pick_id")
    if short.resolved_at:
        raise Conflict("This short pick is already resolved.", field="state")
    short.resolved_at, short.resolved_by = timezone.now(), actor
    short.resolution = resolution.strip()[:500]
    short.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    return short
