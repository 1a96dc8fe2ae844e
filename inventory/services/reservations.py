"""Reservations: sellable units held for an order line at one node — the one home of
reserve, release and consume (DOMAIN.md, "One home per rule").

Each operation is set-based; a single-row caller (the reserve API, a test) passes one row.
Reserving locks every sellable balance of the SKUs (one query, pk order, so concurrent
reservations queue instead of deadlocking) and reads each node's ATP under that lock
(`lock_stock_for_routing`); the caller plans, then `reserve_many` re-checks the plan against
the same locked rows — the node's ATP, the channel's eligibility and what the channel may
reserve (the pool minus other channels' ring-fenced units) — and writes every reservation
with a fixed number of queries. No interleaving of concurrent requests can oversell or take
another channel's protected units. Balances change only through the ledger service.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from erp import fastsql
from erp.errors import Conflict, NotFound, ValidationFailed
from erp.roles import require_permission
from inventory import selectors
from inventory.errors import InsufficientStock
from inventory.models import (
    Lot,
    MovementKind,
    Reservation,
    SerialNumber,
    StockStatus,
)
from inventory.services.ledger import (
    Movement,
    announce_sellable_stock,
    mark_availability_dirty,
    post_movements,
    set_reserved,
)
from inventory.services.locking import lock_sellable_stock
from inventory.services.validation import check_quantity


@dataclass
class LockedBalance:
    """A sellable balance row read under the lock (what reserve_many updates)."""

    pk: int
    reserved: int


@dataclass
class RoutingStock:
    """Under the lock: ATP per (sku, node), what the channel may still reserve per SKU, and
    the nodes the channel may reserve at."""

    atp: dict[tuple[int, int], int] = field(default_factory=dict)
    reservable: dict[int, int] = field(default_factory=dict)
    balances: dict[tuple[int, int], LockedBalance] = field(default_factory=dict)
    pool_location_ids: frozenset[int] = frozenset()
    recounting: set[tuple[int, int]] = field(default_factory=set)  # (sku, node) in doubt


@dataclass(frozen=True)
class ReservationRequest:
    sku_id: int
    location_id: int
    quantity: int
    line_reference: str


def _pool_location_ids(channel) -> frozenset[int]:
    return frozenset(channel.eligible_locations.filter(active=True).values_list("pk", flat=True))


def lock_stock_for_routing(
    *,
    channel,
    sku_ids: list[int],
    pool_location_ids=None,
    sharing_channel_ids=None,
    ring_fencing_channel_ids=None,
) -> RoutingStock:
    """Lock the sellable balances of `sku_ids` and read what may be promised and reserved.

    `pool_location_ids` (the channel's eligible active nodes), `sharing_channel_ids`
    (active channels with a node in common) and `ring_fencing_channel_ids` (those of
    them protecting stock with an allocation rule) come from the caller's cached channel
    configuration; without them they are read. With no ring-fencing channel the channel
    may reserve its whole pool and no rule is read.
    """
    sku_ids = sorted(set(sku_ids))
    if pool_location_ids is None:
        pool_location_ids = _pool_location_ids(channel)
    stock = RoutingStock(pool_location_ids=frozenset(pool_location_ids))
    if not sku_ids:
        return stock
    for row in lock_sellable_stock(sku_ids):
        key = (row.sku_id, row.location_id)
        stock.balances[key] = LockedBalance(row.pk, row.reserved)
        stock.atp[key] = row.atp
        if row.recounting:
            stock.recounting.add(key)
    if ring_fencing_channel_ids is not None and not ring_fencing_channel_ids:
        pools = dict.fromkeys(sku_ids, 0)
        for (sku_id, location_id), atp in stock.atp.items():
            if location_id in stock.pool_location_ids:
                pools[sku_id] += atp
        stock.reservable = pools
        return stock
    figures = selectors.compute_availability(
        channel=channel,
        sku_ids=sku_ids,
        atp=stock.atp,
        pool_location_ids=stock.pool_location_ids,
        sharing_channel_ids=sharing_channel_ids,
    )
    stock.reservable = {sku_id: figure.reservable for sku_id, figure in figures.items()}
    return stock


def _check_plan(channel, requests, stock) -> tuple[dict, dict]:
    per_node, per_sku = defaultdict(int), defaultdict(int)
    for index, request in enumerate(requests):
        if request.quantity <= 0:
            raise ValidationFailed(
                "Quantity must be above zero.", field=f"requests[{index}].quantity"
            )
        if request.location_id not in stock.pool_location_ids:
            raise ValidationFailed(
                f"{channel.code} does not sell from that node.",
                field="location",
                code="not_eligible",
            )
        per_node[(request.sku_id, request.location_id)] += request.quantity
        per_sku[request.sku_id] += request.quantity
    for key, quantity in per_node.items():
        if quantity > stock.atp.get(key, 0):
            raise InsufficientStock(
                f"Only {stock.atp.get(key, 0)} can be promised at that node; {quantity} requested.",
                field="quantity",
            )
    for sku_id, quantity in per_sku.items():
        if quantity > stock.reservable.get(sku_id, 0):
            raise InsufficientStock(
                f"{channel.code} may reserve {stock.reservable.get(sku_id, 0)} (the rest is "
                f"protected for other channels); {quantity} requested.",
                field="quantity",
                code="protected_stock",
            )
    return per_node, per_sku


def reserve_many(
    *, channel, requests: list[ReservationRequest], stock: RoutingStock, actor
) -> list[Reservation]:
    """Write reservations planned from `stock` (which this transaction has locked).

    All or nothing: a request at a node the channel does not sell from, beyond a node's
    ATP or beyond the channel's reservable figure refuses the whole batch. A request for a
    line already holding units at that node adds to its active reservation.
    """
    require_permission(actor, "inventory.add_reservation", action="reserve stock")
    if not requests:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise ValidationFailed(
            "reserve_many runs inside the routing transaction.", code="no_transaction"
        )
    per_node, per_sku = _check_plan(channel, requests, stock)
    held = {
        (r.line_reference, r.location_id, r.sku_id): r
        for r in Reservation.objects.filter(
            state=Reservation.State.ACTIVE,
            line_reference__in={request.line_reference for request in requests},
        )
    }
    added, new = [], []
    for request in requests:
        existing = held.get((request.line_reference, request.location_id, request.sku_id))
        if existing is not None:
            existing.quantity += request.quantity
            added.append(existing)
        else:
            new.append(request)
    if added:
        Reservation.objects.bulk_update(added, ["quantity"])
    created = (
        fastsql.insert(
            [
                Reservation(
                    sku_id=r.sku_id,
                    location_id=r.location_id,
                    channel=channel,
                    quantity=r.quantity,
                    line_reference=r.line_reference,
                    created_by=actor,
                )
                for r in new
            ]
        )
        if new
        else []
    )
    reserved = {}
    for key, quantity in per_node.items():
        balance = stock.balances[key]
        balance.reserved += quantity
        stock.atp[key] -= quantity
        reserved[balance.pk] = balance.reserved
    for sku_id, quantity in per_sku.items():
        stock.reservable[sku_id] -= quantity
    set_reserved(reserved)
    mark_availability_dirty(per_sku)
    by_key = {(r.line_reference, r.location_id, r.sku_id): r for r in [*added, *created]}
    return [by_key[(r.line_reference, r.location_id, r.sku_id)] for r in requests]


@transaction.atomic
def reserve_stock(
    *, sku, location, channel, quantity: int, line_reference: str, actor
) -> Reservation:
    """Hold `quantity` sellable units of `sku` at `location` for an order line of `channel`
    (one row through `reserve_many`, under the same lock and checks routing uses)."""
    require_permission(actor, "inventory.add_reservation", action="reserve stock")
    check_quantity(quantity)
    stock = lock_stock_for_routing(channel=channel, sku_ids=[sku.pk])
    try:
        [reservation] = reserve_many(
            channel=channel,
            requests=[ReservationRequest(sku.pk, location.pk, quantity, line_reference)],
            stock=stock,
            actor=actor,
        )
    except ValidationFailed as refused:
        if refused.errors[0].code == "not_eligible":
            raise ValidationFailed(
                f"{channel.code} does not sell from {location.code}.",
                field="location",
                code="not_eligible",
            ) from refused
        raise
    return reservation


@dataclass(frozen=True)
class Release:
    """Give back `quantity` units of a reservation (all of it when None)."""

    reservation_id: int
    quantity: int | None = None


def release_reservations(*, releases: list[Release], actor) -> list[Reservation]:
    """Give back reserved units (an order or line cancelled, a line re-routed): the SKUs'
    sellable balances are locked in pk order, then the reservations. A reservation released
    in full closes (it keeps the quantity it held); a partial release shrinks it."""
    require_permission(actor, "inventory.change_reservation", action="release reservations")
    wanted = sorted({release.reservation_id for release in releases})
    if not wanted:
        return []
    with transaction.atomic(savepoint=False):
        sku_ids = sorted(
            set(Reservation.objects.filter(pk__in=wanted).values_list("sku_id", flat=True))
        )
        locked = {(row.sku_id, row.location_id): row for row in lock_sellable_stock(sku_ids)}
        reservations = {
            r.pk: r
            for r in Reservation.objects.select_for_update().filter(pk__in=wanted).order_by("pk")
        }
        now, per_node, changed = timezone.now(), defaultdict(int), {}
        for release in releases:
            reservation = reservations.get(release.reservation_id)
            if reservation is None:
                raise NotFound("No such reservation.", field="reservation")
            if reservation.state != Reservation.State.ACTIVE:
                if release.quantity is None:
                    continue  # already closed: releasing everything left is a no-op
                raise Conflict(f"This reservation is already {reservation.state}.", field="state")
            quantity = reservation.quantity if release.quantity is None else release.quantity
            check_quantity(quantity)
            if quantity > reservation.quantity:
                raise ValidationFailed(
                    f"Only {reservation.quantity} are reserved.", field="quantity", code="max_value"
                )
            per_node[(reservation.sku_id, reservation.location_id)] += quantity
            if quantity == reservation.quantity:
                reservation.state, reservation.closed_at = Reservation.State.RELEASED, now
            else:
                reservation.quantity -= quantity
            changed[reservation.pk] = reservation
        if not changed:
            return []
        Reservation.objects.bulk_update(list(changed.values()), ["quantity", "state", "closed_at"])
        set_reserved(
            {locked[key].pk: locked[key].reserved - quantity for key, quantity in per_node.items()}
        )
        released_skus = sorted({sku_id for sku_id, _ in per_node})
        mark_availability_dirty(released_skus)
        announce_sellable_stock(released_skus, actor=actor)
        return [changed[pk] for pk in sorted(changed)]


def release_many(*, reservation_ids: list[int], actor) -> int:
    """Release every active reservation in the list in full; returns how many were."""
    return len(
        release_reservations(
            releases=[Release(pk) for pk in sorted(set(reservation_ids))], actor=actor
        )
    )


@transaction.atomic
def release_reservation(*, reservation_id: int, actor, quantity: int | None = None) -> Reservation:
    """Give back all (or `quantity` of) one reservation, e.g. when a line is cancelled."""
    state = Reservation.objects.filter(pk=reservation_id).values_list("state", flat=True).first()
    if state is None:
        raise NotFound("No such reservation.")
    if state != Reservation.State.ACTIVE:
        raise Conflict(f"This reservation is already {state}.", field="state")
    if quantity is not None:
        check_quantity(quantity)
    release_reservations(releases=[Release(reservation_id, quantity)], actor=actor)
    return Reservation.objects.get(pk=reservation_id)


@transaction.atomic
def consume_reservation(
    *, reservation_id: int, actor, quantity: int, reference: str = ""
) -> Reservation:
    """Ship `quantity` reserved units of one reservation (one row through
    `consume_reservations`)."""
    reservation = Reservation.objects.filter(pk=reservation_id).first()
    if reservation is None:
        raise NotFound("No such reservation.")
    check_quantity(quantity)
    [consumed] = consume_reservations(
        consumptions=[Consumption(reservation_id, quantity)],
        actor=actor,
        reference=reference or reservation.line_reference,
    )
    return consumed


@dataclass(frozen=True)
class Consumption:
    """Units of one reservation leaving the building: from one lot (lot-tracked SKUs),
    with one serial per unit (serial-tracked SKUs)."""

    reservation_id: int
    quantity: int
    lot_id: int | None = None
    serials: tuple[str, ...] = ()
    reference: str = ""  # the shipment, when several post together


@transaction.atomic(savepoint=False)
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
    lock_sellable_stock(sku_ids)
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
                c.reference,
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
    fastsql.update_rows(
        Reservation, [reservations[pk] for pk in taken], ["quantity", "state", "closed_at"]
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
