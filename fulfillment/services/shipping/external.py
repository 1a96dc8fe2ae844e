"""A 3PL or WMS shipped from its own node and reports it, with its own carrier and
tracking number."""

import re
from collections import defaultdict

from django.db import IntegrityError, transaction

from erp.errors import Conflict, ValidationFailed
from erp.models import Location
from erp.roles import require_permission
from fulfillment.models import (
    Carrier,
    PickTask,
    Shipment,
)
from fulfillment.services.shipping.core import Portion, check_shippable, ship
from inventory.models import Lot, SerialNumber
from inventory.services.lots import suggest_lots
from orders.models import Allocation, Order, OrderLine
from orders.services.locking import lock_order


@transaction.atomic(durable=True)
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
    check_shippable(order)
    allocations = _allocations_here(order, location)
    lines = list(order.lines.select_related("sku"))
    portions = _portions_from_report(lines, location, allocations, entries)
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
    return ship(order, shipment, portions, lines, actor)


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


def _portions_from_report(lines, location, allocations, entries) -> list[Portion]:
    lines = {line.pk: line for line in lines}
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
        return [Portion(line, allocation, quantity)]
    if not sku.lot_tracked:
        return [Portion(line, allocation, quantity, None, serials)]
    if lot_code:
        lot = Lot.objects.filter(sku=sku, code=str(lot_code).strip()).first()
        if lot is None:
            raise ValidationFailed(
                f"{lot_code} is not a lot of {sku.code}.", field=f"{where}.lot", code="unknown_lot"
            )
        return [Portion(line, allocation, quantity, lot.pk, serials)]
    if serials:
        lots = dict(
            SerialNumber.objects.filter(sku=sku, serial__in=serials).values_list("serial", "lot_id")
        )
        by_lot = defaultdict(list)
        for serial in serials:
            by_lot[lots.get(serial)].append(serial)
        return [
            Portion(line, allocation, len(group), lot_id, group) for lot_id, group in by_lot.items()
        ]
    plan = suggest_lots(sku=sku, location=location, quantity=quantity)
    if sum(units for _, units in plan) < quantity:
        raise ValidationFailed(
            f"{sku.code} is lot-tracked: say which lot shipped.",
            field=f"{where}.lot",
            code="required",
        )
    return [Portion(line, allocation, units, lot.pk) for lot, units in plan]
