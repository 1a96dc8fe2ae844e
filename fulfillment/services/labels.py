"""Labels: buy a label for a packed package (rate choice, tracking number), void it, print it.

Tracking numbers. A carrier's `tracking_pattern` of the form `^PREFIX<digits>{N}SUFFIX$`
(digits written `[0-9]`, `\\d` or any class containing `0-9`; PREFIX and SUFFIX literal
letters and digits) gets PREFIX + the shipment's id zero-padded to N digits + SUFFIX; a
carrier without a pattern gets its code + 12 digits. The id is drawn from the shipments'
own sequence before the row is inserted (PostgreSQL `nextval`; elsewhere the next id
under SQLite's write lock), so numbers never repeat for a carrier however many packers
print at once, and the row is written once, with its number. A pattern of any other shape
cannot be generated and is refused, naming the carrier.

A package has one live label at a time. `Shipment.package` is one-to-one, so re-labelling
a package whose label was voided detaches the voided shipment from it (the shipment's
history keeps the link).
"""

import re
from datetime import datetime, time

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from erp import fastsql
from erp.errors import Conflict, NotFound, ValidationFailed
from erp.roles import require_permission
from fulfillment import locking
from fulfillment.models import Carrier, Shipment
from fulfillment.pdf import render_label_pdf, render_packing_slip_pdf
from fulfillment.services import rates
from orders.models import OrderState
from orders.services import in_fulfillment
from orders.services.locking import lock_order

__all__ = [
    "create_label",
    "render_label_pdf",
    "render_packing_slip_pdf",
    "tracking_number_for",
    "void_label",
]

DEFAULT_TRACKING_DIGITS = 12
_GENERATABLE = re.compile(
    r"^\^?(?P<prefix>[A-Z0-9]*)"
    r"(?:\\d|\[[^\]]*0-9[^\]]*\])\{(?P<digits>[1-9][0-9]?)\}"
    r"(?P<suffix>[A-Z0-9]*)\$?$"
)
_NOT_LABELLABLE = {
    OrderState.CANCELLED: ("The order was cancelled: no label.", "order_cancelled"),
    OrderState.SHIPPED: ("The order has shipped.", "order_shipped"),
    OrderState.CLOSED: ("The order is closed.", "order_closed"),
}


@transaction.atomic
def create_label(*, package_id: int, actor, service_code: str | None = None) -> Shipment:
    """Quote the package (its node, weight and dimensions) and create its label with the
    chosen service, or with `service_code` (`CARRIER:SERVICE`, or a service code only one
    quoted carrier uses) when the packer picks another of the quoted services. Refused for
    a cancelled or shipped order, an empty package, and a package with a live label."""
    require_permission(actor, "fulfillment.add_shipment", action="create shipping labels")
    order = locking.lock_order_of_package(package_id)
    if order is None:
        raise NotFound("No such package.", field="package_id")
    package, packed = locking.package_with_location(package_id)
    _check_labellable(order, package, packed)
    earlier_labels = fastsql.select(
        Shipment, "t.package_id = %s", [package.pk], order_by="t.id DESC"
    )
    _refuse_live_label(package, earlier_labels)
    quote = rates.quote(
        origin=package.location,
        order=order,
        weight_grams=package.weight_grams,
        length_mm=package.length_mm,
        width_mm=package.width_mm,
        height_mm=package.height_mm,
    )
    option = quote.option(service_code) if service_code else quote.chosen
    _detach_voided_labels(package, earlier_labels, actor=actor)
    shipment = _insert(order, package, quote, option, actor=actor, overridden=bool(service_code))
    in_fulfillment.note_warehouse_event(
        order=order,
        kind="label",
        message=f"Label {shipment.tracking_number} ({option.key}, {option.price}) for package "
        f"{package.number}" + ("" if option.meets_promise else ": misses the promise"),
        actor=actor,
    )
    return shipment


@transaction.atomic
def void_label(*, shipment_id: int, actor, reason: str) -> Shipment:
    """Void a label that has not shipped (label_created → voided), with the reason."""
    require_permission(actor, "fulfillment.change_shipment", action="void shipping labels")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the label is voided.", field="reason", code="required")
    order_id = Shipment.objects.filter(pk=shipment_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise NotFound("No such shipment.", field="shipment_id")
    order = lock_order(order_id)
    shipment = Shipment.objects.select_for_update(of=("self",)).get(pk=shipment_id)
    if shipment.state != Shipment.State.LABEL_CREATED:
        raise Conflict(
            f"Only an unshipped label can be voided; {shipment.number} is "
            f"{shipment.get_state_display().lower()}.",
            field="state",
            code="not_voidable",
        )
    shipment.state = Shipment.State.VOIDED
    shipment.voided_at = timezone.now()
    shipment._history_user = actor
    shipment._change_reason = reason[:100]
    shipment.save(update_fields=["state", "voided_at"])
    in_fulfillment.note_warehouse_event(
        order=order,
        kind="label_voided",
        message=f"Label {shipment.tracking_number} voided: {reason}",
        actor=actor,
    )
    return shipment


def void_labels_of_cancelled_order(*, order, actor) -> int:
    """The order was cancelled (its row is locked by the canceller): labels not yet shipped
    are voided with it, so no parcel leaves with a live label for a cancelled order."""
    shipments = list(
        Shipment.objects.select_for_update(of=("self",)).filter(
            order=order, state=Shipment.State.LABEL_CREATED
        )
    )
    now = timezone.now()
    for shipment in shipments:
        shipment.state, shipment.voided_at = Shipment.State.VOIDED, now
        shipment._history_user = actor
        shipment._change_reason = "order cancelled"
        shipment.save(update_fields=["state", "voided_at"])
        in_fulfillment.note_warehouse_event(
            order=order,
            kind="label_voided",
            message=f"Label {shipment.tracking_number} voided: the order was cancelled",
            actor=actor,
        )
    return len(shipments)


def tracking_number_for(carrier: Carrier, sequence: int) -> str:
    """The carrier's number for `sequence` (module docstring), or ValidationFailed."""
    pattern = carrier.tracking_pattern.strip()
    if not pattern:
        number = f"{carrier.code}{sequence:0{DEFAULT_TRACKING_DIGITS}d}"
        return _within_digits(carrier, number, sequence, DEFAULT_TRACKING_DIGITS)
    shape = _GENERATABLE.match(pattern)
    if shape is None:
        raise ValidationFailed(
            f"Cannot issue tracking numbers for {carrier.code}: its pattern {pattern} is not "
            "PREFIX + a run of digits.",
            field="carrier",
            code="tracking_pattern_unsupported",
        )
    digits = int(shape["digits"])
    number = f"{shape['prefix']}{sequence:0{digits}d}{shape['suffix']}"
    number = _within_digits(carrier, number, sequence, digits)
    if not re.fullmatch(pattern, number):
        raise ValidationFailed(
            f"Issued number {number} does not match {carrier.code}'s pattern {pattern}.",
            field="carrier",
            code="tracking_pattern_unsupported",
        )
    return number


def _within_digits(carrier, number: str, sequence: int, digits: int) -> str:
    if len(str(sequence)) > digits or len(number) > 64:
        raise ValidationFailed(
            f"{carrier.code}'s tracking numbers have run out of digits.",
            field="carrier",
            code="tracking_numbers_exhausted",
        )
    return number


def _check_labellable(order, package, packed: bool) -> None:
    if order.state in _NOT_LABELLABLE:
        message, code = _NOT_LABELLABLE[order.state]
        raise Conflict(message, field="order", code=code)
    if not packed:
        raise ValidationFailed(
            f"Package {package.number} holds nothing: pack the order first.",
            field="package_id",
            code="not_packed",
        )


def _refuse_live_label(package, labels) -> None:
    live = next((label for label in labels if label.state != Shipment.State.VOIDED), None)
    if live is not None:
        raise Conflict(
            f"Package {package.number} already has label {live.tracking_number}; void it first.",
            field="package_id",
            code="label_exists",
        )


def _detach_voided_labels(package, labels, *, actor) -> None:
    """Shipment.package is one-to-one: a voided label lets go of the package it names."""
    for voided in labels:
        voided.package = None
        voided._history_user = actor
        voided._change_reason = f"package {package.number} re-labelled"
        voided.save(update_fields=["package"])


def _insert(order, package, quote, option, *, actor, overridden: bool) -> Shipment:
    carrier = option.service.carrier
    pk = _next_shipment_id()
    tracking_number = tracking_number_for(carrier, pk)
    if locking.tracking_number_taken(carrier.pk, tracking_number):
        # Only a number a 3PL reported for this carrier can be here first.
        raise Conflict(
            f"Tracking number {tracking_number} is already used for {carrier.code}.",
            field="tracking_number",
            code="tracking_number_taken",
        )
    explanation = quote.as_json() | {
        "package": package.number,
        "selected": option.key,
        "overridden": overridden,
    }
    shipment = Shipment(
        pk=pk,
        order=order,
        location=package.location,
        package=package,
        carrier=carrier,
        service=option.service,
        tracking_number=tracking_number,
        cost=option.price,
        transit_days=option.transit_days,
        promised_by=_end_of_day(option.delivery_date),
        rate_explanation=explanation,
        created_by=actor,
    )
    fastsql.insert([shipment], with_pk=True)
    fastsql.insert_history([shipment], actor=actor, history_type="+")
    return shipment


def _next_shipment_id() -> int:
    drawn = fastsql.next_id(Shipment)
    if drawn is not None:
        return drawn
    # SQLite (development): the transaction holds the database's write lock.
    return (Shipment.objects.aggregate(last=Max("pk"))["last"] or 0) + 1


def _end_of_day(day) -> datetime:
    """The promised delivery date as the end of that day in the node's time zone."""
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))
