"""Picking with a scanner: the slot, the SKU's barcode, the quantity; lots and serials.

Lots come first-expiring first. The picker may scan another lot when it is unexpired and
at the node (recorded as off the suggestion); an expired lot is refused. What a lot can
still give is its sellable on-hand less what was picked from it and has not shipped yet
(stock leaves the balance at shipment). A slot that holds too little is reported as a
short pick: what was found is picked, the SKU is counted, and the missing units are
released and re-routed to another node (or backordered).

Locks: the order row, the task, its pick list, then the SKU's lot balances or serials.
"""

from datetime import date

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Sum
from django.utils import timezone

from erp.errors import Conflict, NotFound, ValidationFailed
from erp.roles import require_permission
from fulfillment.models import PickConfirmation, PickList, PickTask, ShortPick, Wave, slot_sort_key
from inventory.models import CycleCount, CycleCountLine, Lot, LotBalance, SerialNumber, StockStatus
from inventory.services.counts import SKUS_SCOPE, create_count
from inventory.services.reservations import release_reservation
from orders.models import Allocation, OrderLine, OrderState
from orders.services import timeline
from orders.services.flow import lock_order, route_line_in_fulfillment

T = PickTask.State


@transaction.atomic
def start_pick_list(*, pick_list_id: int, actor) -> PickList:
    """A picker takes a pick list; its wave counts as started."""
    require_permission(actor, "fulfillment.change_picklist", action="pick")
    pick_list = PickList.objects.select_for_update().filter(pk=pick_list_id).first()
    if pick_list is None:
        raise NotFound("No such pick list.", field="pick_list_id")
    if pick_list.state == PickList.State.DONE:
        raise Conflict(f"Pick list {pick_list.number} is already done.", field="state")
    if pick_list.state == PickList.State.IN_PROGRESS and pick_list.assigned_to_id != actor.pk:
        raise Conflict(
            f"{pick_list.assigned_to.get_username()} is picking {pick_list.number}.",
            field="assigned_to",
            code="taken",
        )
    _start(pick_list, actor)
    return pick_list


def _start(pick_list: PickList, actor) -> None:
    if pick_list.state != PickList.State.OPEN:
        return
    now = timezone.now()
    pick_list.state, pick_list.assigned_to, pick_list.started_at = (
        PickList.State.IN_PROGRESS,
        actor,
        now,
    )
    pick_list.save(update_fields=["state", "assigned_to", "started_at"])
    Wave.objects.filter(pk=pick_list.wave_id, state=Wave.State.OPEN).update(
        state=Wave.State.PICKING, started_at=now
    )


@transaction.atomic
def confirm_pick(
    *,
    task_id: int,
    slot_code: str,
    barcode: str,
    quantity: int,
    lot_code: str | None = None,
    serials=(),
    actor,
) -> PickTask:
    """Confirm `quantity` units of a task by scanning its slot and the SKU (barcode or
    code). Refused, with nothing written: the wrong slot or SKU, more than is left to pick,
    a task already picked, an expired lot or one not here, serials not in stock here."""
    require_permission(actor, "fulfillment.change_picktask", action="confirm picks")
    _order, task = _lock_open_task(task_id)
    _check_scan(task, slot_code, barcode)
    _check_quantity(quantity, "quantity")
    if quantity > task.remaining:
        raise Conflict(
            f"Only {task.remaining} of {task.sku.code} are left to pick on this task.",
            field="quantity",
            code="more_than_remaining",
        )
    confirmations = _confirmations(task, quantity, lot_code, serials, actor, barcode.strip())
    PickConfirmation.objects.bulk_create(confirmations)
    _record(task, picked=quantity, short=0, actor=actor)
    return task


def _lock_open_task(task_id: int):
    found = PickTask.objects.filter(pk=task_id).values_list("order_id", flat=True).first()
    if found is None:
        raise NotFound("No such pick task.", field="task_id")
    order = lock_order(found)
    task = (
        PickTask.objects.select_for_update(of=("self",))
        .select_related("sku", "location", "pick_list", "line")
        .get(pk=task_id)
    )
    if order.state == OrderState.CANCELLED or task.state == T.CANCELLED:
        raise Conflict(
            f"Order {order} was cancelled: put the units back in the slot.",
            field="order",
            code="cancelled",
        )
    if task.state != T.OPEN:
        raise Conflict(
            f"This pick is already {task.get_state_display().lower()}.",
            field="task_id",
            code="already_picked",
        )
    task.pick_list = PickList.objects.select_for_update().get(pk=task.pick_list_id)
    return order, task


def _check_scan(task: PickTask, slot_code: str, barcode: str) -> None:
    if task.slot_code and not _same_slot(slot_code or "", task):
        raise ValidationFailed(
            f"Wrong slot: this pick is at {task.slot_code}, you scanned {slot_code or 'nothing'}.",
            field="slot_code",
            code="wrong_slot",
        )
    scanned = (barcode or "").strip()
    if not scanned or scanned not in {task.sku.barcode, task.sku.code}:
        raise ValidationFailed(
            f"Wrong item: {scanned or 'nothing'} is not {task.sku.code}.",
            field="barcode",
            code="wrong_barcode",
        )


def _same_slot(scanned: str, task: PickTask) -> bool:
    """A-1-3 scans as A-01-03: slots are compared by sort key, not by spelling."""
    try:
        return slot_sort_key(scanned.strip().upper()) == task.slot_sort_key
    except ValueError:
        return False


def _check_quantity(quantity, field: str, minimum: int = 1) -> None:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < minimum:
        raise ValidationFailed(
            f"Enter a whole number of at least {minimum}.", field=field, code="min_value"
        )


def _confirmations(task, quantity, lot_code, serials, actor, scanned) -> list[PickConfirmation]:
    sku, serials = task.sku, [s.strip() for s in serials or () if s and s.strip()]
    if lot_code and not sku.lot_tracked:
        raise ValidationFailed(
            f"{sku.code} is not lot-tracked.", field="lot_code", code="not_tracked"
        )
    if serials and not sku.serial_tracked:
        raise ValidationFailed(
            f"{sku.code} is not serial-tracked.", field="serials", code="not_tracked"
        )
    made = {"task": task, "picked_by": actor, "scanned_barcode": scanned}
    if sku.serial_tracked:
        return [
            PickConfirmation(quantity=1, serial=serial, lot=lot, off_suggestion=off, **made)
            for serial, lot, off in _serials(task, quantity, serials, lot_code)
        ]
    if not sku.lot_tracked:
        return [PickConfirmation(quantity=quantity, **made)]
    lots = _pickable_lots(task)
    if lot_code:
        lot = _scanned_lot(task, lot_code, quantity, lots)
        off = lot.pk != lots[0][0].pk
        return [PickConfirmation(quantity=quantity, lot=lot, off_suggestion=off, **made)]
    return [PickConfirmation(quantity=take, lot=lot, **made) for lot, take in _fefo(lots, quantity)]


def _today() -> date:
    return timezone.localdate()


def _pickable_lots(task: PickTask) -> list[tuple[Lot, int]]:
    """Unexpired sellable lots at the node, first-expiring first (no expiry last), with
    what each can still give. The lot balances stay locked: two pickers cannot both take
    the last units of a lot."""
    balances = list(
        LotBalance.objects.select_for_update(of=("self",))
        .filter(sku_id=task.sku_id, location_id=task.location_id, status=StockStatus.SELLABLE)
        .select_related("lot")
        .order_by("pk")
    )
    held = dict(
        _unshipped_picks(task)
        .filter(lot__isnull=False)
        .values("lot_id")
        .annotate(held=Sum(F("quantity") - F("consumed")))
        .values_list("lot_id", "held")
    )
    today = _today()
    lots = [
        (balance.lot, balance.on_hand - held.get(balance.lot_id, 0))
        for balance in balances
        if not (balance.lot.expires_on and balance.lot.expires_on < today)
    ]
    lots = [(lot, free) for lot, free in lots if free > 0]
    return sorted(lots, key=lambda row: (row[0].expires_on or date.max, row[0].code))


def _unshipped_picks(task: PickTask):
    """Units of this SKU picked at this node and not shipped yet (cancelled picks went back)."""
    return PickConfirmation.objects.filter(
        task__sku_id=task.sku_id, task__location_id=task.location_id, consumed__lt=F("quantity")
    ).exclude(task__state=T.CANCELLED)


def _fefo(lots, quantity: int) -> list[tuple[Lot, int]]:
    plan, remaining = [], quantity
    for lot, free in lots:
        if remaining == 0:
            break
        take = min(free, remaining)
        plan.append((lot, take))
        remaining -= take
    if remaining:
        raise ValidationFailed(
            f"Only {quantity - remaining} units of unexpired lots are here: report a short pick.",
            field="quantity",
            code="insufficient_lot_stock",
        )
    return plan


def _scanned_lot(task, lot_code: str, quantity: int, lots) -> Lot:
    lot = Lot.objects.filter(sku_id=task.sku_id, code=lot_code.strip()).first()
    if lot is None:
        raise ValidationFailed(
            f"{lot_code} is not a lot of {task.sku.code}.", field="lot_code", code="unknown_lot"
        )
    if lot.expires_on and lot.expires_on < _today():
        raise ValidationFailed(
            f"Lot {lot.code} expired on {lot.expires_on}: it cannot be picked.",
            field="lot_code",
            code="lot_expired",
        )
    free = next((free for candidate, free in lots if candidate.pk == lot.pk), 0)
    if free < quantity:
        raise ValidationFailed(
            f"Only {free} of lot {lot.code} can be picked at {task.location.code}.",
            field="lot_code",
            code="lot_not_here",
        )
    return lot


def _serials(task, quantity: int, serials: list[str], lot_code):
    """(serial, lot, off the FEFO suggestion) per unit; each serial in sellable stock at the
    node and not picked for another order already."""
    sku = task.sku
    if len(serials) != quantity or len(set(serials)) != len(serials):
        raise ValidationFailed(
            f"{sku.code} is serial-tracked: scan {quantity} different serials.",
            field="serials",
            code="count",
        )
    records = {
        record.serial: record
        for record in SerialNumber.objects.select_for_update(of=("self",))
        .select_related("lot")
        .filter(sku=sku, serial__in=serials)
        .order_by("pk")
    }
    here = [
        serial
        for serial in serials
        if serial in records
        and records[serial].state == SerialNumber.State.IN_STOCK
        and records[serial].location_id == task.location_id
        and records[serial].status == StockStatus.SELLABLE
    ]
    missing = [serial for serial in serials if serial not in here]
    if missing:
        raise ValidationFailed(
            f"Serial {', '.join(missing)} is not in sellable stock at {task.location.code}.",
            field="serials",
            code="serial_not_here",
        )
    taken = list(_unshipped_picks(task).filter(serial__in=serials).values_list("serial", flat=True))
    if taken:
        raise ValidationFailed(
            f"Serial {', '.join(sorted(taken))} is already picked.",
            field="serials",
            code="serial_already_picked",
        )
    if not sku.lot_tracked:
        return [(serial, None, False) for serial in serials]
    return _serial_lots(task, serials, records, lot_code)


def _serial_lots(task, serials, records, lot_code):
    first = _pickable_lots(task)
    suggested = first[0][0].pk if first else None
    units = []
    for serial in serials:
        lot = records[serial].lot
        if lot_code and (lot is None or lot.code != lot_code.strip()):
            raise ValidationFailed(
                f"Serial {serial} is not from lot {lot_code}.", field="serials", code="wrong_lot"
            )
        if lot is not None and lot.expires_on and lot.expires_on < _today():
            raise ValidationFailed(
                f"Serial {serial} is from lot {lot.code}, expired on {lot.expires_on}.",
                field="serials",
                code="lot_expired",
            )
        units.append((serial, lot, bool(lot and lot.pk != suggested)))
    return units


def _record(task: PickTask, *, picked: int, short: int, actor) -> None:
    task.quantity_picked += picked
    task.quantity_short += short
    fields = ["quantity_picked", "quantity_short"]
    if task.remaining == 0:
        task.state = T.SHORT if task.quantity_short else T.PICKED
        task.picked_by, task.picked_at = actor, timezone.now()
        fields += ["state", "picked_by", "picked_at"]
    task.save(update_fields=fields)
    _start(task.pick_list, actor)
    if task.state != T.OPEN:
        _close_if_done(task.pick_list)


def _close_if_done(pick_list: PickList) -> None:
    """The last task of a pick list closes it; the last pick list of a wave, the wave."""
    if pick_list.tasks.filter(state=T.OPEN).exists():
        return
    now = timezone.now()
    pick_list.state, pick_list.completed_at = PickList.State.DONE, now
    pick_list.save(update_fields=["state", "completed_at"])
    # Locked, then read again: two lists of one wave finishing together both see the other.
    wave = Wave.objects.select_for_update().get(pk=pick_list.wave_id)
    if not wave.pick_lists.exclude(state=PickList.State.DONE).exists():
        wave.state, wave.completed_at = Wave.State.PICKED, now
        wave.save(update_fields=["state", "completed_at"])


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
    order, task = _lock_open_task(task_id)
    _check_quantity(quantity_found, "quantity_found", minimum=0)
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
            _confirmations(task, quantity_found, lot_code, serials, actor, "")
        )
    _record(task, picked=quantity_found, short=missing, actor=actor)
    short = ShortPick.objects.create(
        task=task,
        quantity=missing,
        note=note.strip()[:500],
        reported_by=actor,
        count=_count(task, actor),
        rerouted=rerouted,
    )
    timeline.note(
        order,
        "short_pick",
        f"Short pick at {task.location.code} {task.slot_code or '(no slot)'}: {missing} × "
        f"{task.sku.code} missing; {rerouted} re-routed, {missing - rerouted} backordered.",
        actor=actor,
    )
    return short


def _release_and_reroute(order, task: PickTask, missing: int, actor) -> int:
    allocation = Allocation.objects.select_for_update().get(pk=task.allocation_id)
    if allocation.reservation_id:
        release_reservation(reservation_id=allocation.reservation_id, actor=actor, quantity=missing)
    if missing >= allocation.quantity:
        allocation.active = False
    else:
        allocation.quantity -= missing
    allocation.save(update_fields=["active", "quantity"])
    line = OrderLine.objects.select_related("sku").get(pk=task.line_id)
    return route_line_in_fulfillment(
        order=order, line=line, quantity=missing, actor=actor, avoid_location_id=task.location_id
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


def cancel_pick_tasks(*, order_id: int) -> int:
    """The order was cancelled (in the caller's transaction): its tasks are cancelled and
    picked units go back to their slots; finished pick lists and waves close."""
    tasks = PickTask.objects.filter(order_id=order_id).exclude(state=T.CANCELLED)
    pick_list_ids = sorted(set(tasks.values_list("pick_list_id", flat=True)))
    cancelled = tasks.update(state=T.CANCELLED)
    open_tasks = PickTask.objects.filter(pick_list=OuterRef("pk"), state=T.OPEN)
    for pick_list in (
        PickList.objects.select_for_update()
        .filter(pk__in=pick_list_ids)
        .exclude(state=PickList.State.DONE)
        .exclude(Exists(open_tasks))
        .order_by("pk")
    ):
        _close_if_done(pick_list)
    return cancelled
