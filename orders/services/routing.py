"""Routing: choose where each line ships from, reserve it, and record why.

Plan order (DOMAIN.md): one node that can fill every line and meet the promise, cheapest
first (priority breaks ties) → when the only nodes that fill everything miss the promise, a
split over nodes that all meet it → drop-ship the lines whose SKU a supplier ships → split
across nodes only when no single node can fill → substitute where the family and channel
allow → backorder the rest. A split whose extra shipping cost is above the `order_split`
approval policy's threshold (or eats the order's whole margin) waits for a manager.
Stores never go below their shelf floor (it is part of ATP). Stock is read and reserved
under one lock, so the plan cannot be overtaken by a concurrent order.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache

from erp import events, fastsql
from erp.models import Location, Sku
from erp.services import approvals
from inventory.services.reservations import (
    ReservationRequest,
    lock_stock_for_routing,
    reserve_many,
)
from orders.models import (
    Allocation,
    DropshipSource,
    LineState,
    Order,
    OrderLine,
    RoutingDecision,
    ShippingRate,
    ShippingZone,
    SubstitutionRule,
)
from orders.services.channel_config import config_for
from orders.services.validation import policy_for

SPLIT_APPROVAL_KIND = "order_split"
# Published in the routing transaction for each line allocated to a drop-ship node
# (purchasing subscribes and orders the units from that node's supplier).
DROP_SHIP_LINE_ROUTED = "orders.drop_ship_line_routed"
MAX_TRANSIT_DAYS = {"same_day": 0, "next_day": 1, "expedited": 2, "standard": 5, "economy": 8}
FALLBACK_RATE = (Decimal("12.00"), 6)  # no rate row: priced high so modelled lanes win


@dataclass
class Candidate:
    location: Location
    cost: Decimal
    transit_days: int
    meets_promise: bool
    can_fill: dict[int, int] = field(default_factory=dict)  # line id → units
    fills_all: bool = False

    def as_json(self) -> dict:
        return {
            "node": self.location.code,
            "kind": self.location.kind,
            "cost": str(self.cost),
            "transit_days": self.transit_days,
            "meets_promise": self.meets_promise,
            "fills_all": self.fills_all,
            "units": sum(self.can_fill.values()),
            "priority": self.location.priority,
        }


@dataclass
class Plan:
    kind: str = "none"
    picks: list[tuple[OrderLine, int, int, bool]] = field(
        default_factory=list
    )  # line, node id, qty, dropship
    substitutions: dict[int, Sku] = field(default_factory=dict)  # line id → substitute
    explanation: list[str] = field(default_factory=list)
    split_extra_cost: Decimal = Decimal("0")
    needs_split_approval: bool = False


def destination_zone(order: Order, zones: list[ShippingZone]) -> str:
    """The zone of the longest postal prefix matching the ship-to ("unzoned" if none)."""
    matching = [
        zone
        for zone in zones
        if zone.country == order.ship_country
        and order.ship_postal_code.startswith(zone.postal_prefix)
    ]
    best = max(matching, key=lambda zone: len(zone.postal_prefix), default=None)
    return best.zone if best else "unzoned"


RATE_TABLE_SECONDS = 60
RATE_TABLE_KEY = "orders:rate-table"


def forget_rate_table() -> None:
    """Drop the cached zones and rates (a zone or rate was saved): the next routing reads
    them again."""
    cache.delete(RATE_TABLE_KEY)


def _rate_table():
    """Zones by country and rates by zone → origin region. Reference data, read on every
    routing: kept in the cache for a minute; saving a zone or rate clears it
    (orders.services.settings), so the next order reads the change."""
    table = cache.get(RATE_TABLE_KEY)
    if table is None:
        zones = defaultdict(list)
        for zone in ShippingZone.objects.all():
            zones[zone.country].append(zone)
        rates = defaultdict(dict)
        for rate in ShippingRate.objects.all():
            rates[rate.zone][rate.origin_region] = rate
        table = (dict(zones), dict(rates))
        cache.set(RATE_TABLE_KEY, table, RATE_TABLE_SECONDS)
    return table


def _candidates(order, lines, needs, stock, sku_remaining) -> list[Candidate]:
    nodes = config_for(order.channel).routing_nodes
    zones, rate_table = _rate_table()
    zone = destination_zone(order, zones.get(order.ship_country, []))
    rates = rate_table.get(zone, {})
    max_days = MAX_TRANSIT_DAYS.get(order.service_level, 5)
    candidates = []
    for node in nodes:
        rate = rates.get(node.region)
        cost, days = (rate.cost, rate.transit_days) if rate else FALLBACK_RATE
        candidate = Candidate(node, cost, days, days <= max_days)
        for line in lines:
            usable = stock.atp.get((line.sku_id, node.pk), 0)  # net of a store's shelf floor
            candidate.can_fill[line.pk] = min(needs[line.pk], usable, sku_remaining[line.sku_id])
        candidate.fills_all = all(candidate.can_fill[line.pk] == needs[line.pk] for line in lines)
        candidates.append(candidate)
    return sorted(
        candidates,
        key=lambda c: (not c.meets_promise, c.cost, c.location.priority, c.location.code),
    )


def _whole_order_fits(candidate, lines, needs, sku_remaining) -> bool:
    per_sku = defaultdict(int)
    for line in lines:
        per_sku[line.sku_id] += needs[line.pk]
    return candidate.fills_all and all(per_sku[s] <= sku_remaining[s] for s in per_sku)


def plan_routing(
    order: Order,
    lines: list[OrderLine],
    needs: dict[int, int],
    stock,
    *,
    allow_costly_split: bool = False,
    allow_substitution: bool = True,
) -> tuple[Plan, list[Candidate]]:
    sku_remaining = dict(stock.reservable)
    candidates = _candidates(order, lines, needs, stock, sku_remaining)
    plan = Plan()
    single = next(
        (c for c in candidates if _whole_order_fits(c, lines, needs, sku_remaining)), None
    )
    if single and not single.meets_promise:
        faster = _split_meeting_the_promise(order, lines, needs, candidates, sku_remaining)
        if faster is not None:
            faster.explanation.insert(
                0,
                f"{single.location.code} fills every line but misses the {order.service_level} "
                "promise; a split over nodes that meet it is preferred.",
            )
            _hold_costly_split(faster, order, lines, allow_costly_split)
            return faster, candidates
    if single:
        plan.kind = "single_node"
        plan.picks = [(line, single.location.pk, needs[line.pk], False) for line in lines]
        promise = "meets" if single.meets_promise else "misses (no node meets it)"
        plan.explanation.append(
            f"{single.location.code} fills every line at {single.cost} ({single.transit_days} days, {promise} "
            f"the {order.service_level} promise); cheapest of {sum(c.fills_all for c in candidates)} full-fill nodes."
        )
        return plan, candidates
    remaining = dict(needs)
    _plan_dropship(plan, lines, remaining)
    left = [line for line in lines if remaining[line.pk]]
    if plan.picks and left:
        retry = _candidates(order, left, remaining, stock, sku_remaining)
        single = next(
            (c for c in retry if _whole_order_fits(c, left, remaining, sku_remaining)), None
        )
        if single:
            plan.kind = "dropship"
            plan.picks += [(line, single.location.pk, remaining[line.pk], False) for line in left]
            plan.explanation.append(f"The rest ships from {single.location.code} at {single.cost}.")
            return plan, candidates
    if plan.picks and not left:
        plan.kind = "dropship"
        return plan, candidates
    _plan_split(plan, order, left, remaining, candidates, sku_remaining)
    _hold_costly_split(plan, order, lines, allow_costly_split)
    if plan.needs_split_approval:
        return plan, candidates
    if allow_substitution:
        _plan_substitutions(
            plan, order, [line for line in left if remaining[line.pk]], remaining, stock
        )
    backordered = {line.pk: remaining[line.pk] for line in lines if remaining[line.pk]}
    if backordered:
        plan.explanation.append(
            f"{sum(backordered.values())} units have no stock anywhere eligible: backordered."
        )
    if plan.kind == "none" and plan.picks:
        plan.kind = "split"
    if not plan.picks:
        plan.kind = "backorder"
    return plan, candidates


def _plan_dropship(plan: Plan, lines, remaining) -> None:
    sources = defaultdict(list)
    for source in DropshipSource.objects.filter(
        sku_id__in=[line.sku_id for line in lines], location__active=True
    ).select_related("location"):
        sources[source.sku_id].append(source)
    for line in lines:
        if sources.get(line.sku_id):
            source = min(sources[line.sku_id], key=lambda s: (s.cost, s.location.code))
            plan.picks.append((line, source.location_id, remaining[line.pk], True))
            plan.explanation.append(
                f"{line.sku.code} drop-ships from {source.location.code} (cost {source.cost})."
            )
            remaining[line.pk] = 0


def _split_meeting_the_promise(order, lines, needs, candidates, sku_remaining) -> Plan | None:
    """A split over nodes that all meet the promise and together fill every line, or None."""
    trial, remaining = Plan(), dict(needs)
    meeting = [c for c in candidates if c.meets_promise]
    _plan_split(trial, order, lines, remaining, meeting, sku_remaining)
    if trial.kind != "split" or any(remaining.values()):
        return None
    return trial


def _plan_split(plan, order, lines, remaining, candidates, sku_remaining) -> None:
    used: dict[int, Candidate] = {}
    budget = dict(sku_remaining)
    for line in lines:
        for candidate in candidates:
            take = min(remaining[line.pk], candidate.can_fill.get(line.pk, 0), budget[line.sku_id])
            if take <= 0:
                continue
            plan.picks.append((line, candidate.location.pk, take, False))
            remaining[line.pk] -= take
            budget[line.sku_id] -= take
            used[candidate.location.pk] = candidate
            if not remaining[line.pk]:
                break
    if len(used) <= 1:
        if used:
            node = next(iter(used.values()))
            plan.explanation.append(f"{node.location.code} fills what is in stock at {node.cost}.")
        return
    plan.kind = "split"
    split_cost = sum(c.cost for c in used.values())
    baseline = min((c.cost for c in candidates), default=split_cost)
    plan.split_extra_cost = split_cost - baseline
    plan.explanation.append(
        f"Split over {', '.join(c.location.code for c in used.values())} costs {split_cost}, "
        f"{plan.split_extra_cost} more than one parcel."
    )


def _order_margin(order, lines) -> Decimal:
    """What the lines bring in above their unit cost (the goods' margin before shipping)."""
    return sum(
        (line.unit_price - line.sku.unit_cost) * line.quantity
        for line in lines
        if line.sku_id and line.unit_price is not None
    ) or Decimal("0")


def _hold_costly_split(plan, order, lines, allow_costly_split) -> None:
    """The approvals policy decides (threshold and active flag); a split whose extra cost
    would eat the whole margin of a profitable order also waits, whatever the threshold."""
    if plan.kind != "split" or allow_costly_split or plan.split_extra_cost <= 0:
        return
    margin = _order_margin(order, lines)
    over_threshold = approvals.needs_approval(
        kind=SPLIT_APPROVAL_KIND, amount=plan.split_extra_cost
    )
    eats_margin = margin > 0 and plan.split_extra_cost >= margin
    if over_threshold or eats_margin:
        plan.needs_split_approval = True
        plan.explanation.append(
            "Held for a manager: "
            + (
                "the extra cost is above the split approval threshold."
                if over_threshold
                else f"the extra cost is more than the order's margin ({margin})."
            )
        )


def _plan_substitutions(plan, order, lines, remaining, stock) -> None:
    if not lines or not policy_for(order.channel).allow_substitution:
        return
    families = set(
        SubstitutionRule.objects.filter(allowed=True).values_list("product_family", flat=True)
    )
    nodes = {node.pk for node in config_for(order.channel).routing_nodes}
    for line in lines:
        if line.sku.product_family not in families:
            continue
        for substitute in line.sku.substitutes.filter(active=True):
            node = next(
                (
                    loc
                    for (sku_id, loc), atp in stock.atp.items()
                    if sku_id == substitute.pk and atp >= remaining[line.pk] and loc in nodes
                ),
                None,
            )
            if node and stock.reservable.get(substitute.pk, 0) >= remaining[line.pk]:
                plan.substitutions[line.pk] = substitute
                plan.picks.append((line, node, remaining[line.pk], False))
                plan.explanation.append(
                    f"{line.sku.code} is out of stock: substituted by {substitute.code}."
                )
                remaining[line.pk] = 0
                break


@dataclass
class Routed:
    """What routing did: the stored decision and the units each line now holds."""

    decision: RoutingDecision
    allocated: dict[int, int]  # line id → units allocated now, in all
    added: dict[int, int]  # line id → units this routing allocated


def _substitutes_of(sku_ids) -> dict[int, list[int]]:
    substitutes = defaultdict(list)
    for from_id, to_id in Sku.substitutes.through.objects.filter(
        from_sku_id__in=sorted(set(sku_ids))
    ).values_list("from_sku_id", "to_sku_id"):
        substitutes[from_id].append(to_id)
    return substitutes


def route_order(
    *,
    order: Order,
    actor,
    allow_costly_split: bool = False,
    lines=None,
    new: bool = False,
    substitutes: dict[int, list[int]] | None = None,
    avoid_location_ids=frozenset(),
    allow_substitution: bool = True,
) -> Routed | None:
    """Route and reserve the order's unallocated quantities (the caller holds the order lock):
    the one planner, for a new order, a released hold, a backorder and a re-route in
    fulfillment alike.

    A node whose stock of the SKU is in doubt — a count opened after a short pick, or the
    node a picker just came up short at (`avoid_location_ids`) — is not planned from.
    Fulfillment re-routes pass `allow_substitution=False` (units of the line's SKU may
    already be picked) and `allow_costly_split=True` (an order on the floor never waits).
    Returns the decision, `allocated` and `added` per line. `substitutes` (sku id →
    substitute ids) comes from ingestion's SKU mapping; otherwise it is read.
    """
    if lines is None:
        lines = list(order.lines.select_related("sku"))
    allocated = defaultdict(int)
    if not new:
        for line_id, quantity in Allocation.objects.filter(
            line__order=order, active=True
        ).values_list("line_id", "quantity"):
            allocated[line_id] += quantity
    routable = [
        line
        for line in lines
        # An allocated line that lost units (a short pick) needs them again.
        if line.sku_id
        and line.state in (LineState.OPEN, LineState.BACKORDERED, LineState.ALLOCATED)
    ]
    needs = {line.pk: line.open_quantity - allocated[line.pk] for line in routable}
    routable = [line for line in routable if needs[line.pk] > 0]
    if not routable:
        return None
    if substitutes is None:
        substitutes = (
            _substitutes_of(line.sku_id for line in routable) if allow_substitution else {}
        )
    sku_ids = {line.sku_id for line in routable} | {
        substitute for line in routable for substitute in substitutes.get(line.sku_id, ())
    }
    config = config_for(order.channel)
    stock = lock_stock_for_routing(
        channel=order.channel,
        sku_ids=list(sku_ids),
        pool_location_ids=config.pool_location_ids,
        sharing_channel_ids=config.sharing_channel_ids,
        ring_fencing_channel_ids=config.ring_fencing_channel_ids,
    )
    for key in stock.atp:
        if key in stock.recounting or key[1] in avoid_location_ids:
            stock.atp[key] = 0
    plan, candidates = plan_routing(
        order,
        routable,
        needs,
        stock,
        allow_costly_split=allow_costly_split,
        allow_substitution=allow_substitution,
    )
    added = defaultdict(int)
    if not plan.needs_split_approval:
        _apply(order, plan, stock, actor)
        for line, _node, quantity, _dropship in plan.picks:
            allocated[line.pk] += quantity
            added[line.pk] += quantity
    decision = RoutingDecision(
        order=order,
        plan="split_pending_approval" if plan.needs_split_approval else plan.kind,
        candidates=[c.as_json() for c in candidates],
        allocations=[
            {
                "line": line.line_number,
                "sku": (plan.substitutions.get(line.pk) or line.sku).code,
                "node_id": node,
                "quantity": qty,
                "dropship": dropship,
            }
            for line, node, qty, dropship in plan.picks
        ],
        explanation=" ".join(plan.explanation) or "Nothing to route.",
        actor=actor,
        extra_cost=plan.split_extra_cost,
    )
    fastsql.insert([decision], returning=False)
    return Routed(decision, dict(allocated), dict(added))


def _apply(order, plan: Plan, stock, actor) -> None:
    for line_id, substitute in plan.substitutions.items():
        line = next(line for line, *_ in plan.picks if line.pk == line_id)
        line.ordered_sku_id, line.sku = line.sku_id, substitute
        line.save(update_fields=["ordered_sku", "sku"])
    requests = [
        ReservationRequest(line.sku_id, node, qty, line.reference)
        for line, node, qty, dropship in plan.picks
        if not dropship
    ]
    reservations = iter(
        reserve_many(channel=order.channel, requests=requests, stock=stock, actor=actor)
    )
    fastsql.insert(
        returning=False,
        objs=[
            Allocation(
                line=line,
                location_id=node,
                sku_id=line.sku_id,
                quantity=qty,
                dropship=dropship,
                reservation_id=None if dropship else next(reservations).pk,
            )
            for line, node, qty, dropship in plan.picks
        ],
    )
    for line, node, qty, dropship in plan.picks:
        if dropship:
            events.publish(
                events.DomainEvent(
                    DROP_SHIP_LINE_ROUTED,
                    {
                        "order_id": order.pk,
                        "order_line_id": line.pk,
                        "sku_id": line.sku_id,
                        "location_id": node,
                        "quantity": qty,
                        "channel_id": order.channel_id,
                        "order_number": order.external_id,
                    },
                    actor_id=getattr(actor, "pk", None),
                )
            )
