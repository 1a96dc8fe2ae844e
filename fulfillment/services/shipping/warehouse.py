"""Our own warehouse: a labelled package is scanned onto the truck."""

from collections import defaultdict

from django.db import transaction
from django.db.models import F

from erp import fastsql
from erp.errors import Conflict, NotFound, ValidationFailed
from erp.roles import require_permission
from fulfillment.models import (
    PackageLine,
    PickConfirmation,
    PickTask,
    Shipment,
)
from fulfillment.services.shipping.core import Parcel, Portion, check_shippable, ship_many
from orders.models import Allocation, Order, OrderLine, OrderState
from orders.services.locking import lock_orders


@transaction.atomic(durable=True)
def confirm_shipment(*, shipment_id: int, actor) -> Shipment:
    """Confirm that a labelled package left: only a `label_created` shipment of a packed
    package, once. Stock leaves by the lots actually picked, with their serials."""
    [shipment] = _confirm(shipment_ids=[shipment_id], actor=actor)
    return shipment


@transaction.atomic(durable=True)
def confirm_shipments(*, shipment_ids: list[int], actor) -> list[Shipment]:
    """Confirm several labelled packages at once — the truck is loaded, the carrier's
    manifest closes — in a fixed number of statements however many parcels. All or
    nothing: a parcel that cannot ship (cancelled order, already shipped, not packed,
    packed beyond its picks) refuses the whole manifest, naming it. Returns the shipments
    in the order asked."""
    return _confirm(shipment_ids=shipment_ids, actor=actor)


def _confirm(*, shipment_ids: list[int], actor) -> list[Shipment]:
    require_permission(actor, "fulfillment.confirm_shipment", action="confirm shipments")
    wanted = list(dict.fromkeys(int(pk) for pk in shipment_ids))
    if not wanted:
        raise ValidationFailed("Choose at least one shipment.", field="shipment_ids")
    order_of = dict(Shipment.objects.filter(pk__in=wanted).values_list("pk", "order_id"))
    missing = [pk for pk in wanted if pk not in order_of]
    if missing:
        raise NotFound(f"No such shipment: {missing[0]}.", field="shipment_id")
    orders = lock_orders(set(order_of.values()))
    shipments = {
        shipment.pk: shipment
        for shipment in Shipment.objects.select_for_update(of=("self",))
        .select_related("carrier", "service", "location", "package")
        .filter(pk__in=wanted)
        .order_by("pk")
    }
    for pk in wanted:
        _check_confirmable(orders[order_of[pk]], shipments[pk])
    lines_of = defaultdict(list)
    for line in OrderLine.objects.filter(order_id__in=list(orders)).select_related("sku"):
        lines_of[line.order_id].append(line)
    portions = _portions_from_picks([shipments[pk] for pk in wanted], lines_of)
    parcels = [
        Parcel(orders[order_of[pk]], shipments[pk], portions[pk], lines_of[order_of[pk]])
        for pk in wanted
    ]
    ship_many(parcels, actor=actor)
    return [shipments[pk] for pk in wanted]


def _check_confirmable(order: Order, shipment: Shipment) -> None:
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


def _portions_from_picks(shipments: list[Shipment], lines_of) -> dict[int, list[Portion]]:
    """Each package's units, taken from the picks at its node not shipped yet, oldest
    first: the lots and serials the pickers scanned are the ones that leave. Four
    statements for every package of the manifest."""
    wanted = defaultdict(dict)  # shipment pk → {line id: units packed}
    package_shipment = {shipment.package_id: shipment for shipment in shipments}
    for package_id, line_id, quantity in PackageLine.objects.filter(
        package_id__in=list(package_shipment)
    ).values_list("package_id", "line_id", "quantity"):
        wanted[package_shipment[package_id].pk][line_id] = quantity
    picks = list(
        PickConfirmation.objects.select_for_update(of=("self",))
        .filter(
            task__order_id__in={shipment.order_id for shipment in shipments},
            task__location_id__in={shipment.location_id for shipment in shipments},
            task__line_id__in={line for units in wanted.values() for line in units},
            consumed__lt=F("quantity"),
        )
        .exclude(task__state=PickTask.State.CANCELLED)
        .select_related("task")
        .order_by("pk")
    )
    allocations = _lock_allocations({pick.task.allocation_id for pick in picks})
    picks_at = defaultdict(list)  # (order, node) → picks, oldest first
    for pick in picks:
        picks_at[(pick.task.order_id, pick.task.location_id)].append(pick)
    result = {}
    for shipment in shipments:
        lines = {line.pk: line for line in lines_of[shipment.order_id]}
        result[shipment.pk] = _take(
            wanted[shipment.pk],
            picks_at[(shipment.order_id, shipment.location_id)],
            lines,
            allocations,
        )
    fastsql.update_rows(PickConfirmation, [pick for pick in picks if pick.consumed], ["consumed"])
    return result


def _take(wanted: dict, picks, lines, allocations) -> list[Portion]:
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
    return list(portions.values())


def _lock_allocations(ids) -> dict[int, Allocation]:
    return {
        allocation.pk: allocation
        for allocation in Allocation.objects.select_for_update()
        .filter(pk__in=sorted(ids))
        .order_by("pk")
    }
