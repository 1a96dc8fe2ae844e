"""Scan-confirmed picks: the slot, the SKU's barcode, the quantity; pick lists and waves
close when their last task is done.

Locks: the order row, the task and its pick list, then (units.py) lot balances or serials.
"""

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from erp import fastsql
from erp.errors import Conflict, NotFound, ValidationFailed
from erp.roles import require_permission
from fulfillment import locking
from fulfillment.models import PickList, PickTask, Wave, slot_sort_key
from fulfillment.services.picking.units import confirmations_for
from orders.models import OrderState

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
    fastsql.update(pick_list, ["state", "assigned_to", "started_at"])
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
    _order, task = lock_open_task(task_id)
    _check_scan(task, slot_code, barcode)
    check_quantity(quantity, "quantity")
    if quantity > task.remaining:
        raise Conflict(
            f"Only {task.remaining} of {task.sku.code} are left to pick on this task.",
            field="quantity",
            code="more_than_remaining",
        )
    confirmations = confirmations_for(task, quantity, lot_code, serials, actor, barcode.strip())
    fastsql.insert(confirmations, returning=False)
    record_picks(task, picked=quantity, short=0, actor=actor)
    return task


def lock_open_task(task_id: int):
    """Lock the task's order, then the task and its pick list (the fixed order)."""
    order = locking.lock_order_of_task(task_id)
    task = locking.lock_task(task_id) if order is not None else None
    if task is None:
        raise NotFound("No such pick task.", field="task_id")
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


def check_quantity(quantity, field: str, minimum: int = 1) -> None:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < minimum:
        raise ValidationFailed(
            f"Enter a whole number of at least {minimum}.", field=field, code="min_value"
        )


def record_picks(task: PickTask, *, picked: int, short: int, actor) -> None:
    task.quantity_picked += picked
    task.quantity_short += short
    fields = ["quantity_picked", "quantity_short"]
    if task.remaining == 0:
        task.state = T.SHORT if task.quantity_short else T.PICKED
        task.picked_by, task.picked_at = actor, timezone.now()
        fields += ["state", "picked_by", "picked_at"]
    fastsql.update(task, fields)
    _start(task.pick_list, actor)
    if task.state != T.OPEN:
        close_if_done(task.pick_list)


def close_if_done(pick_list: PickList) -> None:
    """The last task of a pick list closes it; the last pick list of a wave, the wave."""
    if locking.has_open_tasks(pick_list.pk):
        return
    now = timezone.now()
    pick_list.state, pick_list.completed_at = PickList.State.DONE, now
    fastsql.update(pick_list, ["state", "completed_at"])
    # Locked, then read again: two lists of one wave finishing together both see the other.
    wave = Wave.objects.select_for_update().get(pk=pick_list.wave_id)
    if not wave.pick_lists.exclude(state=PickList.State.DONE).exists():
        wave.state, wave.completed_at = Wave.State.PICKED, now
        wave.save(update_fields=["state", "completed_at"])


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
        close_if_done(pick_list)
    return cancelled
