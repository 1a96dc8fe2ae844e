"""Shipment confirmation: the parcel left the building.

In one transaction: the reservations of what shipped are consumed through the inventory
services (ledger entries of kind shipment naming the shipment, balances, lot balances,
serials marked shipped), the allocations shrink, the order lines count what shipped, the
order becomes shipped or partially shipped (the rest stays allocated or backordered), the
channel's tracking upload and the customer's notification go to the outbox, and
`fulfillment.shipment_confirmed` is published for finance.

Two sources: a label of a packed package (`confirm_shipment`, the warehouse scanned it
onto the truck), and a 3PL or WMS that shipped from its own node and reports back
(`confirm_external_shipment`), with its own carrier and tracking number.
"""

import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from erp import events
from erp.errors import Conflict, NotFound, ValidationFailed
from erp.models import Location
from erp.roles import require_permission
from erp.services.outbox import enqueue_message
from fulfillment.channel_formats import (
    ShipmentNotice,
    ShipmentNoticeLine,
    build_tracking_upload,
    lookup_before_formatting,
)
from fulfillment.channel_formats.base import checked
from fulfillment.models import (
    Carrier,
    ChannelFulfillmentPolicy,
    PickConfirmation,
    PickTask,
    Shipment,
    ShipmentLine,
)
from inventory.models import Lot, SerialNumber
from inventory.services.lots import suggest_lots
from inventory.services.reservations import Consumption, consume_reservations
from orders.models import Allocation, LineState, Order, OrderLine, OrderState
from orders.services import timeline
from orders.services.flow import lock_order

S = OrderState
SHIPMENT_CONFIRMED = "fulfillment.shipment_confirmed"
NOTIFICATION_TOPIC = "customer.shipment_notification"
SHIPPABLE = {S.RELEASED, S.PICKING, S.PACKED, S.PARTIALLY_SHIPPED}
# Our service levels as Walmart ship methods (the reverse of the Walmart order adapter's).
WALMART_METHODS = {
    "economy": "Value",
    "expedited": "Express",
    "next_day": "OneDay",
    "priority": "OneDay",
    "same_day": "OneDay",
}


@dataclass
class _Portion:
    """Units of one order line from one allocation (and lot) in this parcel."""

    line: OrderLine
    allocation: Allocation
    quantity: int = 0
    lot_id: int | None = None
    serials: list[str] = field(default_factory=list)


@transaction.atomic
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
    _check_shippable(order)
    portions = _portions_from_picks(order, shipment)
    return _ship(order, shipment, portions, actor)


def _check_shippable(order: Order) -> None:
    if order.state == S.CANCELLED:
        raise Conflict(
            f"Order {order} was cancelled: it cannot ship.", field="order", code="cancelled"
        )
    if order.state not in SHIPPABLE:
        raise Conflict(
            f"Order {order} is {order.get_state_display().lower()}: it cannot ship.",
            field="order",
            code="not_shippable",
        )


def _portions_from_picks(order: Order, shipment: Shipment) -> list[_Portion]:
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
    lines = {line.pk: line for line in order.lines.select_related("sku")}
    portions: dict[tuple, _Portion] = {}
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
            _Portion(
                lines[pick.task.line_id], allocations[pick.task.allocation_id], 0, pick.lot_id
            ),
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
    PickConfirmation.objects.bulk_update(
        [pick for pick in picks if pick.consumed], ["consumed"], batch_size=500
    )
    return list(portions.values())


def _lock_allocations(ids) -> dict[int, Allocation]:
    return {
        allocation.pk: allocation
        for allocation in Allocation.objects.select_for_update()
        .filter(pk__in=sorted(ids))
        .order_by("pk")
    }


def _ship(order: Order, shipment: Shipment, portions: list[_Portion], actor) -> Shipment:
    now = timezone.now()
    lines = list(order.lines.all())
    shipped_per_line = defaultdict(int)
    for portion in portions:
        shipped_per_line[portion.line.pk] += portion.quantity
    completes = all(
        line.open_quantity - shipped_per_line[line.pk] <= 0
        for line in lines
        if line.state != LineState.CANCELLED
    )
    policy = (
        ChannelFulfillmentPolicy.objects.filter(channel_id=order.channel_id)
        .select_related("tracking_endpoint", "notification_endpoint")
        .first()
    )
    notify_ourselves = bool(
        policy and policy.notify_customer and policy.notification_endpoint and order.customer_email
    )
    notice = _notice(order, shipment, portions, now, completes, policy, notify_ourselves)
    tracking = (
        _tracking_message(order, notice, shipment) if policy and policy.tracking_endpoint else None
    )
    consumptions = [
        Consumption(p.allocation.reservation_id, p.quantity, p.lot_id, tuple(p.serials))
        for p in portions
        if p.allocation.reservation_id  # drop-ship units were never our stock
    ]
    if consumptions:
        consume_reservations(consumptions=consumptions, actor=actor, reference=shipment.number)
    _shrink_allocations(portions)
    ShipmentLine.objects.bulk_create(
        [
            ShipmentLine(
                shipment=shipment,
                line=p.line,
                allocation=p.allocation,
                sku_id=p.allocation.sku_id,
                quantity=p.quantity,
                lot_id=p.lot_id,
                serials=p.serials,
            )
            for p in portions
        ]
    )
    _count_shipped(lines, shipped_per_line)
    shipment.state, shipment.shipped_by, shipment.shipped_at = Shipment.State.SHIPPED, actor, now
    shipment._history_user = actor
    shipment.save(update_fields=["state", "shipped_by", "shipped_at"])
    _advance_order(order, completes, shipment, actor, now)
    if tracking:
        enqueue_message(endpoint=policy.tracking_endpoint, **tracking)
    if notify_ourselves:
        enqueue_message(
            topic=NOTIFICATION_TOPIC,
            endpoint=policy.notification_endpoint,
            payload=_notification(order, notice),
            dedupe_key=f"{NOTIFICATION_TOPIC}:{shipment.number}",
        )
    events.publish(
        events.DomainEvent(SHIPMENT_CONFIRMED, _event_payload(order, shipment, portions), actor.pk)
    )
    return shipment


def _notice(order, shipment, portions, now, completes, policy, notify_ourselves) -> ShipmentNotice:
    units = defaultdict(int)
    for portion in portions:
        units[portion.line.pk] += portion.quantity
    by_pk = {portion.line.pk: portion.line for portion in portions}
    service = shipment.service
    return ShipmentNotice(
        channel_kind=order.channel.kind,
        order_external_id=order.external_id,
        shipment_id=shipment.pk,
        carrier_code=shipment.carrier.code,
        tracking_number=shipment.tracking_number,
        shipped_at=now,
        lines=[
            ShipmentNoticeLine(
                line_number=by_pk[pk].line_number,
                external_line_id=by_pk[pk].external_line_id,
                quantity=quantity,
                external_item_id=by_pk[pk].external_item_id,
                channel_sku=by_pk[pk].channel_sku,
            )
            for pk, quantity in sorted(units.items(), key=lambda row: by_pk[row[0]].line_number)
        ],
        order_number=order.order_number,
        seller_order_reference=f"ORD-{order.pk}",
        extra=order.extra,
        shipment_reference=shipment.number,
        carrier_name=shipment.carrier.name,
        service_code=_service_code(order, service),
        service_name=service.name if service else "",
        tracking_url=shipment.carrier.tracking_url(shipment.tracking_number),
        ship_from_location_code=shipment.location.code,
        # When we e-mail the customer ourselves, the channel must not e-mail them too.
        notify_customer=bool(policy and policy.notify_customer and not notify_ourselves),
        completes_order=completes,
        channel_timezone=settings.TIME_ZONE,
    )


def _service_code(order: Order, service) -> str:
    # Walmart is told the ship method the buyer chose (its methodCode), not our carrier
    # service; the order keeps it as its service level.
    if order.channel.kind == "walmart":
        return WALMART_METHODS.get(order.service_level, "Standard")
    return service.code if service else ""


def _tracking_message(order, notice: ShipmentNotice, shipment) -> dict:
    """The outbox message in the channel's format, built before anything is written: an
    upload the channel would refuse fails the confirmation, not N deliveries later.
    Shopify names its own line items, which only a lookup at delivery can give: the
    message then carries the notice and the lookup to run first."""
    kind = order.channel.kind
    lookup = lookup_before_formatting(kind, notice)
    if lookup is None:
        request = build_tracking_upload(kind, notice)
        return {
            "topic": request.topic,
            "payload": {"format": kind, "request": request.as_dict()},
            "dedupe_key": request.dedupe_key,
        }
    checked(notice, kind)
    return {
        "topic": f"tracking.{kind}",
        "payload": {"format": kind, "lookup": asdict(lookup), "notice": notice.as_dict()},
        "dedupe_key": f"tracking.{kind}:{order.external_id}:{shipment.number}",
    }


def _shrink_allocations(portions: list[_Portion]) -> None:
    """An allocation holds what is still to ship of its line at its node."""
    shipped = defaultdict(int)
    allocations = {}
    for portion in portions:
        shipped[portion.allocation.pk] += portion.quantity
        allocations[portion.allocation.pk] = portion.allocation
    for pk, units in shipped.items():
        allocation = allocations[pk]
        if units >= allocation.quantity:
            allocation.active = False
        else:
            allocation.quantity -= units
    Allocation.objects.bulk_update(list(allocations.values()), ["quantity", "active"])


def _count_shipped(lines: list[OrderLine], shipped_per_line) -> None:
    changed = []
    for line in lines:
        if not shipped_per_line.get(line.pk):
            continue
        line.quantity_shipped += shipped_per_line[line.pk]
        if line.open_quantity <= 0:
            line.state = LineState.SHIPPED
        changed.append(line)
    OrderLine.objects.bulk_update(changed, ["quantity_shipped", "state"])


def _advance_order(order: Order, completes: bool, shipment, actor, now) -> None:
    to_state = S.SHIPPED if completes else S.PARTIALLY_SHIPPED
    timeline.note(
        order,
        "shipped",
        f"Shipment {shipment.number} left {shipment.location.code} with "
        f"{shipment.carrier.code} {shipment.tracking_number}.",
        actor=actor,
    )
    # Set before the state change so its history row carries it; saved just below.
    order.shipped_at = now
    timeline.set_state(
        order,
        to_state,
        actor=actor,
        message="everything shipped" if completes else "the rest is still to ship",
    )
    Order.objects.filter(pk=order.pk).update(shipped_at=now)


def _notification(order: Order, notice: ShipmentNotice) -> dict:
    titles = dict(order.lines.values_list("external_line_id", "title"))
    return {
        "to": order.customer_email,
        "name": order.ship_name,
        "channel": order.channel.code,
        "order": order.order_number or order.external_id,
        "shipment": notice.shipment_reference,
        "carrier": notice.carrier_name,
        "service": notice.service_name,
        "tracking_number": notice.tracking_number,
        "tracking_url": notice.tracking_url,
        "shipped_at": notice.shipped_at.isoformat(),
        "completes_order": notice.completes_order,
        "ship_to": order.ship_to_lines,
        "lines": [
            {
                "title": titles.get(line.external_line_id, ""),
                "sku": line.channel_sku,
                "quantity": line.quantity,
            }
            for line in notice.lines
        ],
    }


def _event_payload(order: Order, shipment: Shipment, portions: list[_Portion]) -> dict:
    return {
        "shipment_id": shipment.pk,
        "shipment": shipment.number,
        "source": shipment.source,
        "order_id": order.pk,
        "channel_id": order.channel_id,
        "location_id": shipment.location_id,
        "carrier": shipment.carrier.code,
        "cost": str(shipment.cost) if shipment.cost is not None else None,
        "currency": order.currency,
        "lines": [
            {
                "line_id": p.line.pk,
                "sku_id": p.allocation.sku_id,
                "quantity": p.quantity,
                "lot_id": p.lot_id,
                "unit_price": str(p.line.unit_price),
                "dropship": p.allocation.dropship,
            }
            for p in portions
        ],
    }


@transaction.atomic
def confirm_external_shipment(
    *,
    order_id: int,
    location_code: str,
    carrier_code: str,
    service_code: str,
    tracking_number: str,
    lines,
    actor,
    external_reference: str = "",
) -> Shipment:
    """A 3PL or WMS shipped (part of) an order from its node and reports it. `lines` is a
    list of {"line_id" (our order line) or "sku", "quantity", "lot" (lot-tracked SKUs; FEFO
    when left out), "serials" (serial-tracked SKUs)}. Refused, with nothing written: an
    order routed to another node, a tracking number the carrier already used, more than is
    allocated there, a cancelled order."""
    require_permission(
        actor, "fulfillment.confirm_external_shipment", action="report external shipments"
    )
    entries = _parse_external_lines(lines)
    carrier, service = _carrier_and_service(carrier_code, service_code)
    tracking_number = _checked_tracking_number(carrier, tracking_number)
    location = Location.objects.filter(code=(location_code or "").strip()).first()
    if location is None:
        raise ValidationFailed(
            f"There is no node {location_code}.", field="location_code", code="unknown_location"
        )
    order = lock_order(order_id)
    _check_shippable(order)
    allocations = _allocations_here(order, location)
    portions = _portions_from_report(order, location, allocations, entries)
    shipment = Shipment(
        order=order,
        location=location,
        carrier=carrier,
        service=service,
        tracking_number=tracking_number,
        source=Shipment.Source.EXTERNAL,
        external_reference=(external_reference or "").strip()[:128],
        created_by=actor,
    )
    shipment._history_user = actor
    try:
        with transaction.atomic():
            shipment.save()
    except IntegrityError:
        raise _tracking_taken(carrier, tracking_number) from None
    return _ship(order, shipment, portions, actor)


def _parse_external_lines(lines) -> list[dict]:
    if isinstance(lines, dict):
        lines = [{"line_id": key, "quantity": value} for key, value in lines.items()]
    if not isinstance(lines, (list, tuple)) or not lines:
        raise ValidationFailed("Report at least one shipped line.", field="lines", code="required")
    entries = []
    for index, entry in enumerate(lines):
        where = f"lines[{index}]"
        if not isinstance(entry, dict) or not (entry.get("line_id") or entry.get("sku")):
            raise ValidationFailed(
                "Name the order line (line_id) or the SKU.", field=where, code="required"
            )
        quantity = entry.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            raise ValidationFailed(
                "Shipped quantity: a whole number of at least 1.",
                field=f"{where}.quantity",
                code="min_value",
            )
        serials = entry.get("serials") or []
        if not isinstance(serials, (list, tuple)) or not all(isinstance(s, str) for s in serials):
            raise ValidationFailed("Serials are a list of texts.", field=f"{where}.serials")
        entries.append({**entry, "serials": [s.strip() for s in serials if s.strip()]})
    return entries


def _carrier_and_service(carrier_code: str, service_code: str):
    carrier = Carrier.objects.filter(code=(carrier_code or "").strip()).first()
    if carrier is None:
        raise ValidationFailed(
            f"There is no carrier {carrier_code}.", field="carrier_code", code="unknown_carrier"
        )
    if not (service_code or "").strip():
        return carrier, None
    service = carrier.services.filter(code=service_code.strip()).first()
    if service is None:
        raise ValidationFailed(
            f"{carrier.code} has no service {service_code}.",
            field="service_code",
            code="unknown_service",
        )
    return carrier, service


def _checked_tracking_number(carrier: Carrier, tracking_number: str) -> str:
    number = (tracking_number or "").strip()
    if not number:
        raise ValidationFailed(
            "The tracking number is required.", field="tracking_number", code="required"
        )
    if carrier.tracking_pattern and not re.fullmatch(carrier.tracking_pattern, number):
        raise ValidationFailed(
            f"{number} is not a {carrier.name} tracking number.",
            field="tracking_number",
            code="invalid",
        )
    if Shipment.objects.filter(carrier=carrier, tracking_number=number).exists():
        raise _tracking_taken(carrier, number)
    return number


def _tracking_taken(carrier, number) -> ValidationFailed:
    return ValidationFailed(
        f"Tracking number {number} is already used for {carrier.code}.",
        field="tracking_number",
        code="tracking_number_taken",
    )


def _allocations_here(order: Order, location: Location) -> list[Allocation]:
    """The order's allocations at the reporting node that we are not picking ourselves."""
    allocations = list(
        Allocation.objects.select_for_update(of=("self",))
        .filter(line__order=order, active=True, quantity__gt=0)
        .select_related("location", "sku")
        .order_by("pk")
    )
    here = [a for a in allocations if a.location_id == location.pk]
    if not here:
        elsewhere = sorted({a.location.code for a in allocations})
        raise Conflict(
            f"Order {order} is routed to {', '.join(elsewhere)}, not {location.code}."
            if elsewhere
            else f"Nothing of order {order} is allocated to ship.",
            field="location_code",
            code="routed_elsewhere",
        )
    picking = set(
        PickTask.objects.filter(allocation__in=here)
        .exclude(state=PickTask.State.CANCELLED)
        .values_list("allocation_id", flat=True)
    )
    return [a for a in here if a.pk not in picking]


def _portions_from_report(order, location, allocations, entries) -> list[_Portion]:
    lines = {line.pk: line for line in order.lines.select_related("sku")}
    by_line = defaultdict(list)
    for allocation in allocations:
        by_line[allocation.line_id].append(allocation)
    left = {a.pk: a.quantity for a in allocations}
    portions = []
    for index, entry in enumerate(entries):
        where = f"lines[{index}]"
        line = _reported_line(entry, lines, where)
        quantity, serials = entry["quantity"], entry["serials"]
        available = sum(left[a.pk] for a in by_line[line.pk])
        if quantity > available:
            raise ValidationFailed(
                f"Line {line.line_number}: {available} of {line.sku.code} allocated at "
                f"{location.code} to ship; {quantity} reported.",
                field=f"{where}.quantity",
                code="more_than_allocated",
            )
        if line.sku.serial_tracked and len(serials) != quantity:
            raise ValidationFailed(
                f"{line.sku.code} is serial-tracked: report {quantity} serials.",
                field=f"{where}.serials",
                code="count",
            )
        for allocation in by_line[line.pk]:
            take = min(quantity, left[allocation.pk])
            if take <= 0:
                continue
            left[allocation.pk] -= take
            quantity -= take
            these, serials = serials[:take], serials[take:]
            portions += _split_by_lot(
                line, allocation, take, entry.get("lot"), these, location, where
            )
    return portions


def _reported_line(entry, lines, where) -> OrderLine:
    if entry.get("line_id"):
        line = lines.get(_as_int(entry["line_id"]))
    else:
        matches = [line for line in lines.values() if line.sku and line.sku.code == entry["sku"]]
        line = matches[0] if len(matches) == 1 else None
    if line is None:
        raise ValidationFailed(
            f"{entry.get('line_id') or entry.get('sku')} is not a line of this order"
            + ("" if entry.get("line_id") else " (or names several: give line_id)."),
            field=f"{where}.line_id" if entry.get("line_id") else f"{where}.sku",
            code="not_on_order",
        )
    return line


def _as_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _split_by_lot(line, allocation, quantity, lot_code, serials, location, where) -> list:
    """Portions per lot: the lot reported, the lots of the serials reported, or FEFO."""
    sku = line.sku
    if allocation.dropship:
        if lot_code or serials:
            raise ValidationFailed(
                "A drop-ship supplier's lots and serials are not tracked here.",
                field=f"{where}.lot",
                code="not_tracked",
            )
        return [_Portion(line, allocation, quantity)]
    if not sku.lot_tracked:
        return [_Portion(line, allocation, quantity, None, serials)]
    if lot_code:
        lot = Lot.objects.filter(sku=sku, code=str(lot_code).strip()).first()
        if lot is None:
            raise ValidationFailed(
                f"{lot_code} is not a lot of {sku.code}.", field=f"{where}.lot", code="unknown_lot"
            )
        return [_Portion(line, allocation, quantity, lot.pk, serials)]
    if serials:
        lots = dict(
            SerialNumber.objects.filter(sku=sku, serial__in=serials).values_list("serial", "lot_id")
        )
        by_lot = defaultdict(list)
        for serial in serials:
            by_lot[lots.get(serial)].append(serial)
        return [
            _Portion(line, allocation, len(group), lot_id, group)
            for lot_id, group in by_lot.items()
        ]
    plan = suggest_lots(sku=sku, location=location, quantity=quantity)
    if sum(units for _, units in plan) < quantity:
        raise ValidationFailed(
            f"{sku.code} is lot-tracked: say which lot shipped.",
            field=f"{where}.lot",
            code="required",
        )
    return [_Portion(line, allocation, units, lot.pk) for lot, units in plan]
