"""Reservations: sellable units held for an order line at one node.

Reserving locks every sellable balance row of the SKU (pk order), then re-reads the
pool under the lock and checks both the node's available-to-promise and what the
channel may reserve (the pool minus other channels' ring-fenced units). No interleaving
of concurrent reservations can oversell or take another channel's protected units.
"""

from django.db import transaction
from django.utils import timezone

from erp.errors import Conflict, NotFound, ValidationFailed
from erp.roles import require_permission
from inventory import selectors
from inventory.errors import InsufficientStock
from inventory.models import MovementKind, Reservation, StockBalance, StockStatus
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
