"""Reserving many lines at once: what order routing uses.

`lock_stock_for_routing` locks every sellable balance of the given SKUs (one query, pk
order, so concurrent routings queue instead of deadlocking) and returns what each node
can promise and what the channel may reserve, read under that lock. The caller plans,
then `reserve_many` re-checks the plan against the same locked rows and writes every
reservation with a fixed number of queries, however many lines the order has.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from erp import fastsql
from erp.errors import ValidationFailed
from erp.roles import require_permission
from inventory import selectors
from inventory.errors import InsufficientStock
from inventory.models import Reservation, SafetyStock, StockBalance, StockStatus
from inventory.services.ledger import announce_sellable_stock, mark_availability_dirty


@dataclass
class LockedBalance:
    """A sellable balance row read under the routing lock (what reserve_many updates)."""

    pk: int
    reserved: int


@dataclass
class RoutingStock:
    """Under the lock: ATP per (sku, node) and what the channel may still reserve per SKU."""

    atp: dict[tuple[int, int], int] = field(default_factory=dict)
    reservable: dict[int, int] = field(default_factory=dict)
    balances: dict[tuple[int, int], LockedBalance] = field(default_factory=dict)


@dataclass(frozen=True)
class ReservationRequest:
    sku_id: int
    location_id: int
    quantity: int
    line_reference: str


def _lock_sql(count: int) -> str:
    lock = " FOR UPDATE OF b" if connection.features.has_select_for_update_of else ""
    return f"""
        SELECT b.id, b.sku_id, b.location_id, b.on_hand, b.reserved, COALESCE(ss.quantity, 0)
          FROM {StockBalance._meta.db_table} b
          LEFT JOIN {SafetyStock._meta.db_table} ss
            ON ss.sku_id = b.sku_id AND ss.location_id = b.location_id
         WHERE b.status = %s AND b.sku_id IN ({fastsql.in_list(range(count))})
         ORDER BY b.id{lock}
    """


def lock_stock_for_routing(
    *,
    channel,
    sku_ids: list[int],
    pool_location_ids=None,
    sharing_channel_ids=None,
    ring_fencing_channel_ids=None,
) -> RoutingStock:
    """Lock the sellable balances of `sku_ids` and read what routing may promise.

    `pool_location_ids` (the channel's eligible active nodes), `sharing_channel_ids`
    (active channels with a node in common) and `ring_fencing_channel_ids` (those of
    them protecting stock with an allocation rule) come from the caller's cached channel
    configuration; without them the pool and the rules are read with more queries. With
    no ring-fencing channel the channel may reserve its whole pool and no rule is read.
    """
    sku_ids = sorted(set(sku_ids))
    stock = RoutingStock()
    if not sku_ids:
        return stock
    with fastsql.cursor() as cursor:
        cursor.execute(_lock_sql(len(sku_ids)), [StockStatus.SELLABLE, *sku_ids])
        rows = cursor.fetchall()
    pools = None if pool_location_ids is None else dict.fromkeys(sku_ids, 0)
    for pk, sku_id, location_id, on_hand, reserved, safety in rows:
        key = (sku_id, location_id)
        stock.balances[key] = LockedBalance(pk, reserved)
        atp = max(0, on_hand - reserved - safety)
        stock.atp[key] = atp
        if pools is not None and location_id in pool_location_ids:
            pools[sku_id] += atp
    if pools is not None and ring_fencing_channel_ids is not None and not ring_fencing_channel_ids:
        stock.reservable = pools
        return stock
    figures = selectors.compute_availability(
        channel=channel, sku_ids=sku_ids, pools=pools, sharing_channel_ids=sharing_channel_ids
    )
    stock.reservable = {sku_id: figure.reservable for sku_id, figure in figures.items()}
    return stock


def write_reserved(reserved: dict[int, int]) -> None:
    """Set `reserved` on balance rows the caller has locked: one UPDATE for all of them."""
    if not reserved:
        return
    ids = sorted(reserved)
    with fastsql.cursor() as cursor:
        cursor.execute(
            f"UPDATE {StockBalance._meta.db_table} SET reserved = CASE id "
            + " ".join(["WHEN %s THEN %s"] * len(ids))
            + f" END, updated_at = %s WHERE id IN ({fastsql.in_list(ids)})",
            [
                *(value for pk in ids for value in (pk, reserved[pk])),
                connection.ops.adapt_datetimefield_value(timezone.now()),
                *ids,
            ],
        )


def reserve_many(
    *, channel, requests: list[ReservationRequest], stock: RoutingStock, actor
) -> list[Reservation]:
    """Write reservations planned from `stock` (which this transaction has locked).

    All or nothing: a request beyond a node's ATP or the channel's reservable figure
    refuses the whole batch.
    """
    require_permission(actor, "inventory.add_reservation", action="reserve stock")
    if not requests:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise ValidationFailed(
            "reserve_many runs inside the routing transaction.", code="no_transaction"
        )
    per_node, per_sku = defaultdict(int), defaultdict(int)
    for index, request in enumerate(requests):
        if request.quantity <= 0:
            raise ValidationFailed(
                "Quantity must be above zero.", field=f"requests[{index}].quantity"
            )
        per_node[(request.sku_id, request.location_id)] += request.quantity
        per_sku[request.sku_id] += request.quantity
    for key, quantity in per_node.items():
        if quantity > stock.atp.get(key, 0):
            raise InsufficientStock(
                f"Only {stock.atp.get(key, 0)} can be promised at that node; {quantity} planned.",
                field="quantity",
            )
    for sku_id, quantity in per_sku.items():
        if quantity > stock.reservable.get(sku_id, 0):
            raise InsufficientStock(
                f"{channel.code} may reserve {stock.reservable.get(sku_id, 0)}; {quantity} planned.",
                field="quantity",
                code="protected_stock",
            )
    reservations = fastsql.insert(
        [
            Reservation(
                sku_id=r.sku_id,
                location_id=r.location_id,
                channel=channel,
                quantity=r.quantity,
                line_reference=r.line_reference,
                created_by=actor,
            )
            for r in requests
        ]
    )
    reserved = {}
    for key, quantity in per_node.items():
        balance = stock.balances[key]
        balance.reserved += quantity
        stock.atp[key] -= quantity
        reserved[balance.pk] = balance.reserved
    for sku_id, quantity in per_sku.items():
        stock.reservable[sku_id] -= quantity
    write_reserved(reserved)
    mark_availability_dirty(per_sku)
    return reservations


def release_many(*, reservation_ids: list[int], actor) -> int:
    """Release every active reservation in the list (an order cancelled, a line re-routed)."""
    require_permission(actor, "inventory.change_reservation", action="release reservations")
    reservation_ids = sorted(set(reservation_ids))
    if not reservation_ids:
        return 0
    with transaction.atomic(savepoint=False):
        sku_ids = list(
            Reservation.objects.filter(pk__in=reservation_ids)
            .values_list("sku_id", flat=True)
            .distinct()
        )
        balances = {
            (row.sku_id, row.location_id): row
            for row in StockBalance.objects.select_for_update()
            .filter(sku_id__in=sku_ids, status=StockStatus.SELLABLE)
            .order_by("pk")
        }
        active = list(
            Reservation.objects.select_for_update().filter(
                pk__in=reservation_ids, state=Reservation.State.ACTIVE
            )
        )
        if not active:
            return 0
        now, per_node = timezone.now(), defaultdict(int)
        for reservation in active:
            per_node[(reservation.sku_id, reservation.location_id)] += reservation.quantity
        Reservation.objects.filter(pk__in=[r.pk for r in active]).update(
            state=Reservation.State.RELEASED, closed_at=now
        )
        reserved = {}
        for key, quantity in per_node.items():
            balance = balances[key]
            balance.reserved -= quantity
            reserved[balance.pk] = balance.reserved
        write_reserved(reserved)
        mark_availability_dirty(sku_ids)
        announce_sellable_stock(sku_ids, actor=actor)
        return len(active)
