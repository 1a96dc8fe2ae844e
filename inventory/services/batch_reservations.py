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

from erp.errors import ValidationFailed
from erp.roles import require_permission
from inventory import selectors
from inventory.errors import InsufficientStock
from inventory.models import Reservation, SafetyStock, StockBalance, StockStatus
from inventory.services.ledger import announce_sellable_stock, mark_availability_dirty


@dataclass
class RoutingStock:
    """Under the lock: ATP per (sku, node) and what the channel may still reserve per SKU."""

    atp: dict[tuple[int, int], int] = field(default_factory=dict)
    reservable: dict[int, int] = field(default_factory=dict)
    balances: dict[tuple[int, int], StockBalance] = field(default_factory=dict)


@dataclass(frozen=True)
class ReservationRequest:
    sku_id: int
    location_id: int
    quantity: int
    line_reference: str


def lock_stock_for_routing(*, channel, sku_ids: list[int]) -> RoutingStock:
    sku_ids = sorted(set(sku_ids))
    stock = RoutingStock()
    if not sku_ids:
        return stock
    rows = list(
        StockBalance.objects.select_for_update()
        .filter(sku_id__in=sku_ids, status=StockStatus.SELLABLE)
        .order_by("pk")
    )
    safety = {
        (s, loc): q
        for s, loc, q in SafetyStock.objects.filter(sku_id__in=sku_ids).values_list(
            "sku_id", "location_id", "quantity"
        )
    }
    for row in rows:
        key = (row.sku_id, row.location_id)
        stock.balances[key] = row
        stock.atp[key] = max(0, row.on_hand - row.reserved - safety.get(key, 0))
    figures = selectors.compute_availability(channel=channel, sku_ids=sku_ids)
    stock.reservable = {sku_id: figure.reservable for sku_id, figure in figures.items()}
    return stock


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
    reservations = Reservation.objects.bulk_create(
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
    now = timezone.now()
    updates = []
    for key, quantity in per_node.items():
        balance = stock.balances[key]
        balance.reserved += quantity
        stock.atp[key] -= quantity
        updates.append((balance.reserved, now, balance.pk))
    for sku_id, quantity in per_sku.items():
        stock.reservable[sku_id] -= quantity
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {StockBalance._meta.db_table} SET reserved = %s, updated_at = %s WHERE id = %s",
            updates,
        )
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
        updates = []
        for key, quantity in per_node.items():
            balance = balances[key]
            balance.reserved -= quantity
            updates.append((balance.reserved, now, balance.pk))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {StockBalance._meta.db_table} SET reserved = %s, updated_at = %s WHERE id = %s",
                updates,
            )
        mark_availability_dirty(sku_ids)
        announce_sellable_stock(sku_ids, actor=actor)
        return len(active)
