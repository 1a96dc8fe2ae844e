"""Moving-average cost: the one home for what a unit of stock is worth.

Receipts move the average (`receive_at_cost`), landed cost raises it (`add_landed_cost`);
shipments, write-offs and transfers leave it alone and are valued at it (`unit_costs`).
Costs are kept company-wide or per node (`settings.INVENTORY_COST_SCOPE`). A SKU that never
had a costed receipt is valued at its master-data `unit_cost`.

Every writer locks the cost row (`SELECT … FOR UPDATE`, created on first use) so two
receipts of one SKU average one after the other, never from the same stale figure. Callers
run inside their own transaction (the receipt that posted the ledger movement).

The average is rounded to 4 places; the value of stock on hand (`valuation`) therefore
differs from the sum of what was posted by at most half a ten-thousandth per unit per receipt.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum

from erp.models import Sku
from inventory.models import SkuCost, StockBalance
from inventory.services import locking

COST_PLACES = Decimal("0.0001")
CENTS = Decimal("0.01")


@dataclass(frozen=True)
class LandedCostResult:
    capitalized: Decimal
    expensed: Decimal


@dataclass(frozen=True)
class ValuationRow:
    sku_id: int
    location_id: int
    on_hand: int
    unit_cost: Decimal
    value: Decimal


def per_node() -> bool:
    return settings.INVENTORY_COST_SCOPE == "node"


def _scope_location(location_id: int | None) -> int | None:
    return location_id if per_node() else None


def _on_hand(sku_id: int, location_id: int | None) -> int:
    """Units on the books for the cost row's scope: every status (sellable, quarantine,
    in transit…) is stock the business owns and values."""
    balances = StockBalance.objects.filter(sku_id=sku_id)
    if location_id is not None:
        balances = balances.filter(location_id=location_id)
    return balances.aggregate(total=Sum("on_hand"))["total"] or 0


def _lock_cost(sku_id: int, location_id: int | None, actor) -> SkuCost:
    """The cost row of the scope, locked; created at the SKU's master-data cost first time."""
    rows = SkuCost.objects.select_for_update().filter(sku_id=sku_id, location_id=location_id)
    cost = rows.first()
    if cost is not None:
        return cost
    standard = Sku.objects.values_list("unit_cost", flat=True).get(pk=sku_id)
    try:
        with transaction.atomic():
            first = SkuCost(sku_id=sku_id, location_id=location_id, average_cost=standard)
            first._history_user = actor if getattr(actor, "pk", None) else None
            first.save()
    except IntegrityError:
        pass  # a concurrent receipt created it first: lock theirs
    return rows.get()


def _save(cost: SkuCost, average: Decimal, *, actor, source: str) -> None:
    cost.average_cost = average
    cost.source = source[:100]
    cost._history_user = actor if getattr(actor, "pk", None) else None
    cost.save(update_fields=["average_cost", "source", "updated_at"])


def receive_at_cost(
    *, sku_id: int, location_id: int, quantity: int, unit_cost, actor, source: str = ""
) -> Decimal:
    """Average `quantity` units received at `unit_cost` into the SKU's cost; returns the new
    average. Call after the receipt's ledger movement is posted, in the same transaction:
    the units on hand then include the ones received."""
    if quantity <= 0:
        raise ValueError("A costed receipt needs a positive quantity.")
    unit_cost = Decimal(unit_cost)
    if unit_cost < 0:
        raise ValueError("A unit cost cannot be negative.")
    scope = _scope_location(location_id)
    cost = _lock_cost(sku_id, scope, actor)
    on_hand_now = _on_hand(sku_id, scope)
    before = max(on_hand_now - quantity, 0)
    total = before + quantity
    average = ((before * cost.average_cost + quantity * unit_cost) / total).quantize(
        COST_PLACES, rounding=ROUND_HALF_UP
    )
    _save(cost, average, actor=actor, source=source or "receipt")
    return average


def add_landed_cost(
    *, sku_id: int, location_id: int, amount, actor, source: str = ""
) -> LandedCostResult:
    """Spread a landed charge (freight, duty…) over the units on hand. What the average
    absorbs is capitalized (to 0.01, exactly the rise in the stock's value); the rest
    (nothing left on hand, rounding) is expensed."""
    amount = Decimal(amount).quantize(CENTS, rounding=ROUND_HALF_UP)
    if amount < 0:
        raise ValueError("A landed charge cannot be negative.")
    scope = _scope_location(location_id)
    cost = _lock_cost(sku_id, scope, actor)
    on_hand = _on_hand(sku_id, scope)
    if on_hand <= 0 or amount == 0:
        return LandedCostResult(capitalized=Decimal("0.00"), expensed=amount)
    old = cost.average_cost
    average = (old + amount / on_hand).quantize(COST_PLACES, rounding=ROUND_HALF_UP)
    capitalized = ((average - old) * on_hand).quantize(CENTS, rounding=ROUND_HALF_UP)
    if capitalized > amount:  # rounding up past the charge: keep the books exact
        average -= COST_PLACES
        capitalized = ((average - old) * on_hand).quantize(CENTS, rounding=ROUND_HALF_UP)
    _save(cost, average, actor=actor, source=source or "landed cost")
    return LandedCostResult(capitalized=capitalized, expensed=amount - capitalized)


def unit_costs(sku_ids, *, location_id: int | None = None) -> dict[int, Decimal]:
    """Current valuation cost per SKU (the moving average, else the master-data cost).
    One query whatever the number of SKUs."""
    return locking.read_unit_costs(sku_ids, scope_location_id=_scope_location(location_id))


def valuation(*, location_id: int | None = None) -> list[ValuationRow]:
    """Stock on hand (every status) by SKU and node, at its valuation cost."""
    balances = StockBalance.objects.filter(on_hand__gt=0)
    if location_id is not None:
        balances = balances.filter(location_id=location_id)
    held = list(
        balances.values("sku_id", "location_id")
        .annotate(units=Sum("on_hand"))
        .order_by("sku_id", "location_id")
    )
    sku_ids = {row["sku_id"] for row in held}
    company = dict(Sku.objects.filter(pk__in=sku_ids).values_list("pk", "unit_cost"))
    records = SkuCost.objects.filter(sku_id__in=sku_ids)
    node_costs = {}
    for sku_id, loc_id, average in records.values_list("sku_id", "location_id", "average_cost"):
        if loc_id is None:
            company[sku_id] = average
        else:
            node_costs[(sku_id, loc_id)] = average
    rows = []
    for row in held:
        key = (row["sku_id"], row["location_id"])
        cost = node_costs.get(key, company[row["sku_id"]]) if per_node() else company[key[0]]
        rows.append(
            ValuationRow(
                sku_id=key[0],
                location_id=key[1],
                on_hand=row["units"],
                unit_cost=cost,
                value=(cost * row["units"]).quantize(CENTS, rounding=ROUND_HALF_UP),
            )
        )
    return rows
