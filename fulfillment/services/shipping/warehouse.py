"""Our own warehouse: a labelled package is scanned onto the truck."""

from django.db import transaction
from django.db.models import F

from erp import fastsql
from erp.errors import Conflict, NotFound, ValidationFailed
from erp.roles import require_permission
from fulfillment.models import (
    PickConfirmation,
    PickTask,
    Shipment,
)
from fulfillment.services.shipping.core import Portion, check_shippable, ship
from orders.models import Allocation, Order, OrderState
from orders.services.locking import lock_order


@transaction.atomic(durable=True)
def confirm_shipment(*, shipment_id: int, actor) -> Shipment:
    """Confirm that a labelled package left: only a `label_created` shipment of a packed
    package, once. Stock leaves by the lots actually picked, with their serials."""
    require_permission(actor, "fulfillment.confirm_shipment", action="confirm shipments")
    order_id = Shipment.objects.filter(pk=shipment_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise NotFound("No such shipment.", field="shipment_id")
    order = lock_order(order_id)
    shipment = (
        Shipment.objects.select_for_update(of=("self",))
        .select_related("carrier", "service", "location", "package")
        .get(pk=shipment_id)
    )
    if order.state == OrderState.CANCELLED:
        check_shippable(order)  # says so: a cancelled order's labels were voided with it
    if shipment.state != Shipment.State.LABEL_CREATED:
        raise Conflict(
            f"Shipment {shipment.number} is already {shipment.get_state_display().lower()}.",
            field="shipment_id",
            code=f"already_{shipment.state}",
        )
    if shipment.package_id is None:
        raise ValidationFailed(
            f"Shipment {shipment.number} has no package: pack the order first.",
            field="shipment_id",
            code="not_packed",
        )
    check_shippable(order)
    lines = list(order.lines.select_related("sku"))
    portions = _portions_from_picks(order, shipment, lines)
    return ship(order, shipment, portions, lines, actor)


def _portions_from_picks(order: Order, shipment: Shipment, lines) -> list[Portion]:
    """The package's units, taken from the picks at its node not shipped yet, oldest
    first: the lots and serials the pickers scanned are the ones that leave."""
    wanted = dict(shipment.package.lines.values_list("line_id", "quantity"))
    picks = list(
        PickConfirmation.objects.select_for_update(of=("self",))
        .filter(
            task__order=order,
            task__location_id=shipment.location_id,
            task__line_id__in=list(wanted),
            consumed__lt=F("quantity"),
        )
        .exclude(task__state=PickTask.State.CANCELLED)
        .select_related("task")
        .order_by("pk")
    )
    allocations = _lock_allocations({pick.task.allocation_id for pick in picks})
    lines = {line.pk: line for line in lines}
    portions: dict[tuple, Portion] = {}
    for pick in picks:
        left = wanted.get(pick.task.line_id, 0)
        take = min(left, pick.quantity - pick.consumed)
        if take <= 0:
            continue
        wanted[pick.task.line_id] = left - take
        pick.consumed += take
        key = (pick.task.line_id, pick.task.allocation_id, pick.lot_id)
        portion = portions.setdefault(
            key,
            Portion(lines[pick.task.line_id], allocations[pick.task.allocation_id], 0, pick.lot_id),
        )
        portion.quantity += take
        portion.serials += [pick.serial] if pick.serial else []
    short = {line_id: units for line_id, units in wanted.items() if units}
    if short:
        line = lines[next(iter(short))]
        raise ValidationFailed(
            f"Line {line.line_number}: {short[line.pk]} more packed than picked and unshipped.",
            field="package",
            code="more_than_picked",
        )
    fastsql.update_rows(PickConfirmation, [pick for pick in picks if pick.consumed], ["consumed"])
    return list(portions.values())


def _lock_allocations(ids) -> dict[int, Allocation]:
    return {
        allocation.pk: allocation
        for allocation in Allocation.objects.select_for_update()
        .filter(pk__in=sorted(ids))
        .order_by("pk")
    }
