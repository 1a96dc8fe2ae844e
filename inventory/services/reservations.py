"""Reservations: sellable units held for an order line at one node.

Reserving locks every sellable balance row of the SKU (pk order), then re-reads the
pool under the lock and checks both the node's available-to-promise and what the
channel may reserve (the pool minus other channels' ring-fenced units). No interleaving
of concurrent reservations can oversell or take another channel's protected units.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from erp.errors import Conflict, NotFound, ValidationFailed
from erp.roles import require_permission
from inventory import selectors
from inventory.errors import InsufficientStock
from inventory.models import (
    Lot,
    MovementKind,
    Reservation,
    SerialNumber,
    StockBalance,
    StockStatus,
)
from inventory.services.ledger import (
    Movement,
    announce_sellable_stock,
    mark_availability_dirty,
    post_movements,
)
from inventory.services.locking import lock_sellable_balances_of_sku
from inventory.services.validation import check_quantity


@transaction.atomic
def reserve_stock(
    *, sku, location, channel, quantity: int, line_reference: str, actor
) -> Reservation:
    """Hold `quantity` sellable units of `sku` at `location` for an order line of `channel`."""
    require_permission(actor, "inventory.add_reservation", action="reserve stock")
    check_quantity(quantity)
    if not channel.eligible_locations.filter(pk=location.pk).exists():
        raise ValidationFailed(
            f"{channel.code} does not sell from {location.code}.",
            field="location",
            code="not_eligible",
        )
    balances = {row.location_id: row for row in lock_sellable_balances_of_sku(sku.pk)}
    balance = balances.get(location.pk)
    atp = selectors.available_to_promise(sku_id=sku.pk, location_id=location.pk) if balance else 0
    if quantity > atp:
        raise InsufficientStock(
            f"Only {atp} of {sku.code} can be promised at {location.code}; {quantity} requested.",
            field="quantity",
        )
    availability = selectors.compute_availability(channel=channel, sku_ids=[sku.pk])[sku.pk]
    if quantity > availability.reservable:
        raise InsufficientStock(
            f"{channel.code} may reserve {availability.reservable} of {sku.code} "
            f"({availability.protected_for_others} are protected for other channels); {quantity} requested.",
            field="quantity",
            code="protected_stock",
        )
    reservation = Reservation.objects.filter(
        line_reference=line_reference, location=location, sku=sku, state=Reservation.State.ACTIVE
    ).first()
    if reservation:
        reservation.quantity += quantity
        reservation.save(update_fields=["quantity"])
    else:
        reservation = Reservation.objects.create(
            sku=sku,
            location=location,
            channel=channel,
            line_reference=line_reference,
            quantity=quantity,
            created_by=actor,
        )
    balance.reserved += quantity
    balance.save(update_fields=["reserved", "updated_at"])
    mark_availability_dirty([sku.pk])
    return reservation


def _locked_active_reservation(reservation_id: int) -> Reservation:
    reservation = Reservation.objects.filter(pk=reservation_id).select_related("sku").first()
    if reservation is None:
        raise NotFound("No such reservation.")
    lock_sellable_balances_of_sku(reservation.sku_id)
    reservation = Reservation.objects.select_for_update().get(pk=reservation_id)
    if reservation.state != Reservation.State.ACTIVE:
        raise Conflict(f"This reservation is already {reservation.state}.", field="state")
    return reservation


@transaction.atomic
def release_reservation(*, reservation_id: int, actor, quantity: int | None = None) -> Reservation:
    """Give back all (or `quantity` of) a reservation, e.g. when a line is cancelled."""
    require_permission(actor, "inventory.change_reservation", action="release reservations")
    reservation = _locked_active_reservation(reservation_id)
    quantity = reservation.quantity if quantity is None else quantity
    check_quantity(quantity)
    if quantity > reservation.quantity:
        raise ValidationFailed(
            f"Only {reservation.quantity} are reserved.", field="quantity", code="max_value"
        )
    _change_reserved(reservation, -quantity)
    reservation.quantity -= quantity
    if reservation.quantity == 0:
        reservation.quantity = quantity  # keep what was held on the closed record
        reservation.state, reservation.closed_at = Reservation.State.RELEASED, timezone.now()
    reservation.save(update_fields=["quantity", "state", "closed_at"])
    mark_availability_dirty([reservation.sku_id])
    announce_sellable_stock([reservation.sku_id], actor=actor)
    return reservation


def _change_reserved(reservation: Reservation, change: int) -> None:
    balance = StockBalance.objects.get(
        sku_id=reservation.sku_id, location_id=reservation.location_id, status=StockStatus.SELLABLE
    )
    balance.reserved += change
    balance.save(update_fields=["reserved", "updated_at"])


@transaction.atomic
def consume_reservation(
    *, reservation_id: int, actor, quantity: int, reference: str = ""
) -> Reservation:
    """Ship `quantity` reserved units: stock leaves sellable and the hold shrinks together."""
    require_permission(actor, "inventory.change_reservation", action="ship reserved stock")
    reservation = _locked_active_reservation(reservation_id)
    check_quantity(quantity)
    if quantity > reservation.quantity:
        raise ValidationFailed(
            f"Only {reservation.quantity} are reserved; {quantity} cannot ship.",
            field="quantity",
            code="max_value",
        )
    post_movements(
        movements=[
            Movement(reservation.sku_id, reservation.location_id, StockStatus.SELLABLE, -quantity)
        ],
        kind=MovementKind.SHIPMENT,
        actor=actor,
        reference=reference or reservation.line_reference,
        reason="shipped",
        reserved_changes={(reservation.sku_id, reservation.location_id): -quantity},
    )
    if quantity == reservation.quantity:
        reservation.state, reservation.closed_at = Reservation.State.CONSUMED, timezone.now()
    else:
        reservation.quantity -= quantity
    reservation.save(update_fields=["quantity", "state", "closed_at"])
    return reservation


@dataclass(frozen=True)
class Consumption:
    """Units of one reservation leaving the building: from one lot (lot-tracked SKUs),
    with one serial per unit (serial-tracked SKUs)."""

    reservation_id: int
    quantity: int
    lot_id: int | None = None
    serials: tuple[str, ...] = ()


@transaction.atomic
def consume_reservations(
    *, consumptions: list[Consumption], actor, reference: str, reason: str = "shipped"
) -> list[Reservation]:
    """Ship several reserved portions at once (one parcel): stock leaves sellable by lot,
    the holds shrink, and the serials are marked shipped, under one lock and one posting.

    Locks the SKUs' sellable balances (pk order, as reserving does), then the
    reservations; refuses the whole parcel when one portion does not fit its hold, names
    a lot of another SKU, lacks the lot of a lot-tracked SKU or the serials of a
    serial-tracked one.
    """
    require_permission(actor, "inventory.change_reservation", action="ship reserved stock")
    if not consumptions:
        raise ValidationFailed("Nothing to ship.", field="lines", code="required")
    for consumption in consumptions:
        check_quantity(consumption.quantity)
    wanted = sorted({c.reservation_id for c in consumptions})
    sku_ids = sorted(
        set(Reservation.objects.filter(pk__in=wanted).values_list("sku_id", flat=True))
    )
    list(
        StockBalance.objects.select_for_update()
        .filter(sku_id__in=sku_ids, status=StockStatus.SELLABLE)
        .order_by("pk")
    )
    reservations = {
        r.pk: r
        for r in Reservation.objects.select_for_update(of=("self",))
        .select_related("sku")
        .filter(pk__in=wanted)
        .order_by("pk")
    }
    _check_consumptions(consumptions, reservations)
    taken = defaultdict(int)
    for consumption in consumptions:
        taken[consumption.reservation_id] += consumption.quantity
    reserved_changes = defaultdict(int)
    for reservation_id, quantity in taken.items():
        reservation = reservations[reservation_id]
        reserved_changes[(reservation.sku_id, reservation.location_id)] -= quantity
    post_movements(
        movements=[
            Movement(
                reservations[c.reservation_id].sku_id,
                reservations[c.reservation_id].location_id,
                StockStatus.SELLABLE,
                -c.quantity,
                c.lot_id,
            )
            for c in consumptions
        ],
        kind=MovementKind.SHIPMENT,
        actor=actor,
        reference=reference,
        reason=reason,
        reserved_changes=dict(reserved_changes),
    )
    now = timezone.now()
    for reservation_id, quantity in taken.items():
        reservation = reservations[reservation_id]
        if quantity == reservation.quantity:
            reservation.state, reservation.closed_at = Reservation.State.CONSUMED, now
        else:
            reservation.quantity -= quantity
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {Reservation._meta.db_table} SET quantity = %s, state = %s, closed_at = %s "
            "WHERE id = %s",
            [
                (reservations[pk].quantity, reservations[pk].state, reservations[pk].closed_at, pk)
                for pk in taken
            ],
        )
    _mark_serials_shipped(consumptions, reservations, actor)
    return [reservations[pk] for pk in sorted(taken)]


def _check_consumptions(consumptions, reservations) -> None:
    taken = defaultdict(int)
    lots = {
        lot.pk: lot
        for lot in Lot.objects.filter(pk__in={c.lot_id for c in consumptions if c.lot_id})
    }
    for index, consumption in enumerate(consumptions):
        field = f"lines[{index}]"
        reservation = reservations.get(consumption.reservation_id)
        if reservation is None:
            raise NotFound("No such reservation.", field=f"{field}.reservation")
        if reservation.state != Reservation.State.ACTIVE:
            raise Conflict(
                f"The reservation for {reservation.sku.code} is already {reservation.state}.",
                field=f"{field}.reservation",
            )
        taken[reservation.pk] += consumption.quantity
        if taken[reservation.pk] > reservation.quantity:
            raise ValidationFailed(
                f"Only {reservation.quantity} of {reservation.sku.code} are reserved; "
                f"{taken[reservation.pk]} cannot ship.",
                field=f"{field}.quantity",
                code="max_value",
            )
        sku, lot = reservation.sku, lots.get(consumption.lot_id)
        if consumption.lot_id and lot is None:
            raise NotFound("No such lot.", field=f"{field}.lot")
        if sku.lot_tracked != (lot is not None) or (lot and lot.sku_id != sku.pk):
            raise ValidationFailed(
                f"{sku.code} {'ships from a lot of its own' if sku.lot_tracked else 'is not lot-tracked'}.",
                field=f"{field}.lot",
                code="lot_mismatch",
            )
        _check_serials(consumption, reservation, field)


def _check_serials(consumption, reservation, field: str) -> None:
    sku, serials = reservation.sku, list(consumption.serials)
    if not sku.serial_tracked:
        if serials:
            raise ValidationFailed(
                f"{sku.code} is not serial-tracked.", field=f"{field}.serials", code="not_tracked"
            )
        return
    if len(serials) != consumption.quantity or len(set(serials)) != len(serials):
        raise ValidationFailed(
            f"{sku.code} is serial-tracked: give {consumption.quantity} distinct serials.",
            field=f"{field}.serials",
            code="count",
        )
    in_stock = SerialNumber.objects.filter(
        sku=sku,
        serial__in=serials,
        state=SerialNumber.State.IN_STOCK,
        location_id=reservation.location_id,
        status=StockStatus.SELLABLE,
    )
    if consumption.lot_id:
        in_stock = in_stock.filter(lot_id=consumption.lot_id)
    missing = sorted(set(serials) - set(in_stock.values_list("serial", flat=True)))
    if missing:
        raise ValidationFailed(
            f"Serial {', '.join(missing)} is not in sellable stock here.",
            field=f"{field}.serials",
            code="serial_not_in_stock",
        )


def _mark_serials_shipped(consumptions, reservations, actor) -> None:
    by_sku = defaultdict(set)
    for consumption in consumptions:
        by_sku[reservations[consumption.reservation_id].sku_id] |= set(consumption.serials)
    shipped, now = [], timezone.now()
    for sku_id, serials in by_sku.items():
        if not serials:
            continue
        for record in SerialNumber.objects.filter(sku_id=sku_id, serial__in=sorted(serials)):
            record.state, record.status, record.updated_at = SerialNumber.State.SHIPPED, "", now
            shipped.append(record)
    if shipped:
        bulk_update_with_history(
            shipped, SerialNumber, ["state", "status", "updated_at"], default_user=actor
        )
