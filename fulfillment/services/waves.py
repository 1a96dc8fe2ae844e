"""Slots, and waves: released orders grouped for the floor, pick lists in walking order.

A wave is built per node from the orders with allocations there that nobody picks yet,
grouped by the carrier cutoff they must make. Channels whose late shipments are
penalised come first, and those due today go into a same-day wave of their own; then
channel priority (lower first) and ship-by. A wave's pick lists hold whole orders (at most
`pick_list_size` lines, unless one order alone is larger) and walk the slots in order;
SKUs without a slot come last, with an empty slot code the pick list shows.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time
from itertools import groupby

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from erp.errors import Conflict, ValidationFailed
from erp.models import Location
from erp.roles import require_permission
from fulfillment.models import CarrierService, PickList, PickTask, Slot, Wave
from fulfillment.models.carriers import slot_validator
from fulfillment.services.rates import ship_date
from orders.models import Allocation, LineState, Order, OrderState
from orders.services.in_fulfillment import advance_orders

S = OrderState
# Orders whose allocations at a node may still need picking there: released ones, and
# ones already in fulfillment elsewhere (a split, a short pick re-routed here).
WAVABLE = [S.RELEASED, S.PICKING, S.PACKED, S.PARTIALLY_SHIPPED]
DEFAULT_PRIORITY = 100
# Unslotted SKUs walk last: "~" sorts after every slot sort key.
UNSLOTTED = "~"


@transaction.atomic
def assign_slot(*, sku, location, code: str, actor, reason: str = "") -> Slot:
    """Give a SKU its slot (aisle-bay-level) at a node; one slot per SKU and node, so a
    second assignment moves it. The slot's history records who moved it when."""
    require_permission(actor, "fulfillment.change_slot", action="assign slots")
    code = (code or "").strip().upper()
    try:
        slot_validator(code)
    except ValidationError:
        raise ValidationFailed(
            "Use aisle-bay-level such as A-01-3.", field="code", code="invalid_slot"
        ) from None
    if not location.active or location.kind == Location.Kind.DROPSHIP:
        raise ValidationFailed(
            f"{location.code} is not a node we pick from.", field="location", code="not_picked"
        )
    slot = Slot.objects.select_for_update().filter(sku=sku, location=location).first()
    if slot and slot.code == code:
        return slot
    slot = slot or Slot(sku=sku, location=location)
    slot.code = code
    slot._history_user = actor
    slot._change_reason = reason or None
    try:
        with transaction.atomic():
            slot.save()
    except IntegrityError:
        raise Conflict(
            f"{sku.code} was given a slot at {location.code} at the same moment; try again.",
            field="code",
        ) from None
    return slot


@dataclass
class _Candidate:
    order: Order
    allocations: list
    cutoff_at: datetime
    same_day: bool
    strict: bool
    priority: int

    def rank(self):
        return (
            not self.same_day,
            self.cutoff_at,
            not self.strict,
            self.priority,
            self.order.ship_by or datetime.max.replace(tzinfo=timezone.get_current_timezone()),
            self.order.placed_at,
            self.order.pk,
        )


@transaction.atomic
def build_waves(
    *,
    location,
    actor,
    now: datetime | None = None,
    max_orders: int | None = None,
    pick_list_size: int = 25,
) -> list[Wave]:
    """Wave every order waiting to be picked at `location` (or the `max_orders` most
    urgent); released orders move to picking. A fixed number of queries, however many
    orders: the set is locked, read and written in bulk."""
    require_permission(actor, "fulfillment.add_wave", action="build waves")
    _check_arguments(location, max_orders, pick_list_size)
    now = now or timezone.now()
    orders = _lock_waiting_orders(location)
    if not orders:
        return []
    allocations = defaultdict(list)
    for allocation in _waiting_allocations(location, [order.pk for order in orders]):
        allocations[allocation.line.order_id].append(allocation)
    cutoffs = _next_cutoffs(now)
    end_of_day = _end_of_day(now)
    candidates = sorted(
        (
            _candidate(order, allocations[order.pk], cutoffs, end_of_day)
            for order in orders
            if allocations[order.pk]
        ),
        key=_Candidate.rank,
    )[:max_orders]
    if not candidates:
        return []
    slots = _slots(location, {a.sku_id for c in candidates for a in c.allocations})
    return _write_waves(location, candidates, slots, pick_list_size, actor)


def _check_arguments(location, max_orders, pick_list_size) -> None:
    if not location.active or location.kind == Location.Kind.DROPSHIP:
        raise ValidationFailed(
            f"{location.code} is not a node we pick from.", field="location", code="not_picked"
        )
    if max_orders is not None and (not isinstance(max_orders, int) or max_orders < 1):
        raise ValidationFailed(
            "Wave at least one order, or leave the limit empty.",
            field="max_orders",
            code="min_value",
        )
    if not isinstance(pick_list_size, int) or not 1 <= pick_list_size <= 500:
        raise ValidationFailed(
            "A pick list holds between 1 and 500 lines.", field="pick_list_size", code="range"
        )


def _waiting(location) -> Q:
    """Allocations at `location` to pick: active, ours to ship, with no live pick task."""
    live_task = PickTask.objects.filter(allocation=OuterRef("pk")).exclude(
        state=PickTask.State.CANCELLED
    )
    return Q(
        location=location,
        active=True,
        dropship=False,
        quantity__gt=0,
        line__state__in=[LineState.ALLOCATED, LineState.BACKORDERED, LineState.OPEN],
    ) & ~Q(Exists(live_task))


def _lock_waiting_orders(location) -> list[Order]:
    # Pick tasks are only created under the order lock, so once these rows are locked no
    # concurrent wave can give their allocations a task.
    waiting = Allocation.objects.filter(_waiting(location), line__order=OuterRef("pk"))
    return list(
        Order.objects.select_for_update(of=("self",))
        .select_related("channel__order_policy", "channel__fulfillment_policy")
        .filter(Exists(waiting), state__in=WAVABLE)
        .order_by("pk")
    )


def _waiting_allocations(location, order_ids: list[int]) -> list[Allocation]:
    return list(
        Allocation.objects.filter(_waiting(location), line__order_id__in=order_ids)
        .select_related("line", "sku")
        .order_by("line__order_id", "line__line_number", "pk")
    )


def _next_cutoffs(now: datetime) -> dict[str, datetime]:
    """The next hand-over per service level: the earliest next cutoff of its active
    services (the wave must make the earliest truck the label may choose)."""
    cutoffs: dict[str, datetime] = {}
    zone = timezone.get_current_timezone()
    for service in CarrierService.objects.filter(active=True, carrier__active=True):
        moment = datetime.combine(ship_date(service, now), service.cutoff_time, tzinfo=zone)
        level = service.service_level
        cutoffs[level] = min(cutoffs.get(level, moment), moment)
    return cutoffs


def _end_of_day(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return datetime.combine(local.date(), time(23, 59, 59), tzinfo=local.tzinfo)


def _candidate(order, allocations, cutoffs, end_of_day) -> _Candidate:
    channel = order.channel
    policy = getattr(channel, "fulfillment_policy", None)
    order_policy = getattr(channel, "order_policy", None)
    strict = bool(policy and policy.strict_penalties)
    due_today = order.ship_by is not None and order.ship_by <= end_of_day
    return _Candidate(
        order=order,
        allocations=allocations,
        cutoff_at=cutoffs.get(order.service_level, end_of_day),
        same_day=strict and due_today,
        strict=strict,
        priority=order_policy.priority if order_policy else DEFAULT_PRIORITY,
    )


def _slots(location, sku_ids) -> dict[int, tuple[str, str]]:
    return {
        sku_id: (code, sort_key)
        for sku_id, code, sort_key in Slot.objects.filter(
            location=location, sku_id__in=sorted(sku_ids)
        ).values_list("sku_id", "code", "sort_key")
    }


def _write_waves(location, candidates, slots, pick_list_size, actor) -> list[Wave]:
    groups = [
        (key, list(members))
        for key, members in groupby(candidates, key=lambda c: (c.same_day, c.cutoff_at))
    ]
    waves = Wave.objects.bulk_create(
        [
            Wave(
                location=location,
                cutoff_at=cutoff_at,
                same_day=same_day,
                priority=0 if same_day else min(c.priority for c in members),
                order_count=len(members),
                line_count=sum(len(c.allocations) for c in members),
                created_by=actor,
            )
            for (same_day, cutoff_at), members in groups
        ]
    )
    planned = [
        (wave, batch)
        for wave, (_, members) in zip(waves, groups, strict=True)
        for batch in _batches(members, pick_list_size)
    ]
    pick_lists = PickList.objects.bulk_create(
        [
            PickList(wave=wave, sequence=index, location=location)
            for index, (wave, _) in enumerate(planned, start=1)
        ]
    )
    PickTask.objects.bulk_create(
        [
            task
            for pick_list, (_, batch) in zip(pick_lists, planned, strict=True)
            for task in _tasks(pick_list, batch, slots, location)
        ]
    )
    for wave, (_, members) in zip(waves, groups, strict=True):
        released = [c.order for c in members if c.order.state == S.RELEASED]
        advance_orders(
            orders=released, to_state=S.PICKING, actor=actor, message=f"In wave {wave.number}"
        )
        wave.unslotted_skus = sorted(
            {a.sku.code for c in members for a in c.allocations if a.sku_id not in slots}
        )
    return waves


def _batches(members: list[_Candidate], size: int) -> list[list[_Candidate]]:
    """Whole orders per pick list, at most `size` lines unless one order alone is larger."""
    batches, current, lines = [], [], 0
    for candidate in members:
        count = len(candidate.allocations)
        if current and lines + count > size:
            batches.append(current)
            current, lines = [], 0
        current.append(candidate)
        lines += count
    if current:
        batches.append(current)
    return batches


def _tasks(pick_list, batch, slots, location) -> list[PickTask]:
    rows = [
        (slots.get(allocation.sku_id, ("", UNSLOTTED)), rank, allocation)
        for rank, candidate in enumerate(batch)
        for allocation in candidate.allocations
    ]
    rows.sort(key=lambda row: (row[0][1], row[1], row[2].line.line_number))
    return [
        PickTask(
            pick_list=pick_list,
            sequence=sequence,
            order_id=allocation.line.order_id,
            line=allocation.line,
            allocation=allocation,
            sku_id=allocation.sku_id,
            location=location,
            slot_code=code,
            slot_sort_key=sort_key if code else "",
            quantity=allocation.quantity,
        )
        for sequence, ((code, sort_key), _, allocation) in enumerate(rows, start=1)
    ]
