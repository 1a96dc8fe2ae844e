"""Inventory reads shared by the API, the back office and the services.

Availability (DOMAIN.md): ATP(s,l) = sellable on_hand − reserved − safety stock − a
store's shelf floor, floored at 0, and 0 at nodes that do not ship (`ATP_SQL`). A channel's pool P is Σ ATP over its eligible nodes. With channel rules (a SKU rule
overrides the channel-wide one): E = P − Σ_{d≠c} R_d − B_c, and
ATS = 0 if E < T_c else max(0, min(E, floor(K_c·P), M_c)). An order from c may reserve up
to P − Σ_{d≠c} R_d. R_d counts only the part of d's protection that d's own active
reservations have not already used (a channel's own orders draw its ring-fence down), and
at most the ATP of the nodes d and c both sell from: a ring-fence is on shared stock,
never on units at nodes d could not ship from.
"""

import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from erp import fastsql
from erp.models import Channel, ChannelListing, Location, Sku
from erp.selectors import sku_list
from inventory.models import (
    AllocationRule,
    ChannelAvailability,
    LotBalance,
    MovementKind,
    Reservation,
    SafetyStock,
    SkuCost,
    StockBalance,
    StockLedgerEntry,
    StockStatus,
)


@dataclass(frozen=True)
class RuleValues:
    protected: int = 0
    buffer: int = 0
    cap: Decimal = Decimal("1")
    max_units: int | None = None
    threshold: int = 0
    source: str = "default"


DEFAULT_RULE = RuleValues()


@dataclass(frozen=True)
class Availability:
    sku_id: int
    pool: int
    protected_for_others: int
    usable: int  # E
    reservable: int
    available: int  # ATS
    rule: RuleValues


# The one definition of available-to-promise at a node (DOMAIN.md): sellable on hand −
# reserved − safety stock − a store's shelf floor, floored at 0; an inactive node, or one
# that does not ship, promises nothing. Every reader — the channel feed, routing under its
# lock, the reserve API, the screens — takes ATP from this expression over `ATP_FROM`
# (balance `b`, node `loc`, safety stock `ss`). Portable SQL: CASE instead of GREATEST.
_FREE_SQL = "b.on_hand - b.reserved - COALESCE(ss.quantity, 0) - loc.shelf_floor"
ATP_SQL = f"CASE WHEN loc.active AND loc.can_ship AND {_FREE_SQL} > 0 THEN {_FREE_SQL} ELSE 0 END"
ATP_FROM = f"""
      FROM {StockBalance._meta.db_table} b
      JOIN {Location._meta.db_table} loc ON loc.id = b.location_id
      LEFT JOIN {SafetyStock._meta.db_table} ss
        ON ss.sku_id = b.sku_id AND ss.location_id = b.location_id
"""


def node_atp(*, sku_ids: list[int], location_ids=None) -> dict[tuple[int, int], int]:
    """ATP per (sku, node) for `sku_ids` (at `location_ids`, default every node): one query.
    Nodes without a sellable balance are absent (they promise 0)."""
    sku_ids = sorted(set(sku_ids))
    if not sku_ids:
        return {}
    sql = (
        f"SELECT b.sku_id, b.location_id, {ATP_SQL} {ATP_FROM}"
        f" WHERE b.status = %s AND b.sku_id IN ({fastsql.in_list(sku_ids)})"
    )
    params: list = [StockStatus.SELLABLE, *sku_ids]
    if location_ids is not None:
        location_ids = sorted(set(location_ids))
        if not location_ids:
            return {}
        sql += f" AND b.location_id IN ({fastsql.in_list(location_ids)})"
        params += location_ids
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(sku_id, location_id): int(atp) for sku_id, location_id, atp in cursor.fetchall()}


def pools_over(
    *, location_ids=None, channel_id: int | None = None, sku_ids: list[int] | None = None
) -> dict[int, int]:
    """Σ ATP per SKU over the nodes `location_ids` — or the nodes `channel_id` may sell
    from — for `sku_ids` (or every SKU): one aggregate query. A channel's pool P is this
    over its eligible nodes."""
    if sku_ids is not None and not sku_ids:
        return {}
    if channel_id is not None:
        through = Channel.eligible_locations.through._meta.db_table
        nodes_sql, params = f"SELECT location_id FROM {through} WHERE channel_id = %s", [channel_id]
    else:
        location_ids = sorted(set(location_ids))
        if not location_ids:
            return {}
        nodes_sql, params = fastsql.in_list(location_ids), location_ids
    sql = (
        f"SELECT b.sku_id, SUM({ATP_SQL}) {ATP_FROM}"
        f" WHERE b.status = %s AND b.location_id IN ({nodes_sql})"
    )
    params = [StockStatus.SELLABLE, *params]
    if sku_ids is not None:
        sku_ids = sorted(set(sku_ids))
        sql += f" AND b.sku_id IN ({fastsql.in_list(sku_ids)})"
        params += sku_ids
    with connection.cursor() as cursor:
        cursor.execute(sql + " GROUP BY b.sku_id", params)
        return {sku_id: int(pool or 0) for sku_id, pool in cursor.fetchall()}


def eligible_location_ids(channel_ids) -> dict[int, frozenset[int]]:
    """The nodes each channel may sell from: one query."""
    through = Channel.eligible_locations.through
    nodes = defaultdict(set)
    for channel_id, location_id in through.objects.filter(
        channel_id__in=list(channel_ids)
    ).values_list("channel_id", "location_id"):
        nodes[channel_id].add(location_id)
    return {channel_id: frozenset(nodes.get(channel_id, ())) for channel_id in channel_ids}


def channel_pools(*, channel_id: int, sku_ids: list[int] | None = None) -> dict[int, int]:
    """P(s, c) for the given SKUs (or every SKU with sellable stock) in one query."""
    return pools_over(channel_id=channel_id, sku_ids=sku_ids)


class _Rules:
    """Every allocation rule that applies to `sku_ids` (or all), loaded in one query."""

    def __init__(self, sku_ids: list[int] | None):
        self.channel_wide: dict[int, RuleValues] = {}
        self.per_sku: dict[tuple[int, int], RuleValues] = {}
        sql = (
            "SELECT channel_id, sku_id, protected, buffer, cap, max_units, threshold "
            f"FROM {AllocationRule._meta.db_table}"
        )
        params = list(sku_ids or [])
        if sku_ids is not None:
            sql += " WHERE sku_id IS NULL" + (
                f" OR sku_id IN ({', '.join(['%s'] * len(params))})" if params else ""
            )
        with fastsql.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        for channel_id, sku_id, protected, buffer, cap, max_units, threshold in rows:
            values = RuleValues(
                protected,
                buffer,
                Decimal(str(cap)),
                max_units,
                threshold,
                "channel" if sku_id is None else "sku",
            )
            if sku_id is None:
                self.channel_wide[channel_id] = values
            else:
                self.per_sku[(channel_id, sku_id)] = values
        self.protected_skus_by_channel = defaultdict(set)
        for channel_id, sku_id in self.per_sku:
            self.protected_skus_by_channel[channel_id].add(sku_id)

    def get(self, channel_id: int, sku_id: int) -> RuleValues:
        return self.per_sku.get((channel_id, sku_id)) or self.channel_wide.get(
            channel_id, DEFAULT_RULE
        )


def _protected_channels(rules: _Rules, channel_id: int, active_channels: list[int]) -> list[int]:
    """Other channels whose protection may bind this one: they sell from at least one of
    this channel's nodes and protect units with an allocation rule."""
    return [
        other
        for other in active_channels
        if other != channel_id
        and (
            rules.channel_wide.get(other, DEFAULT_RULE).protected
            or rules.protected_skus_by_channel[other]
        )
    ]


def _reserved_by_channel(
    channel_ids: list[int], sku_ids: list[int] | None
) -> dict[tuple[int, int], int]:
    if not channel_ids:
        return {}
    rows = Reservation.objects.filter(state=Reservation.State.ACTIVE, channel_id__in=channel_ids)
    if sku_ids is not None:
        rows = rows.filter(sku_id__in=sku_ids)
    return {
        (row["channel_id"], row["sku_id"]): row["total"]
        for row in rows.values("channel_id", "sku_id").annotate(total=Sum("quantity")).order_by()
    }


def _sum_by_sku(atp: dict[tuple[int, int], int], location_ids) -> dict[int, int]:
    pools = defaultdict(int)
    for (sku_id, location_id), units in atp.items():
        if location_id in location_ids:
            pools[sku_id] += units
    return pools


def _shared_pools(*, channel, others, sku_ids, atp, pool_location_ids) -> dict[int, dict]:
    """Per protecting channel d: Σ ATP per SKU over the nodes both d and this channel sell
    from. d's ring-fence can only hold back units d could itself ship."""
    nodes = eligible_location_ids([channel.pk, *others])
    mine = pool_location_ids if pool_location_ids is not None else nodes[channel.pk]
    shared = {}
    for other in others:
        common = nodes[other] & mine
        if atp is not None:
            shared[other] = _sum_by_sku(atp, common)
        else:
            shared[other] = pools_over(location_ids=common, sku_ids=sku_ids) if common else {}
    return shared


def compute_availability(
    *,
    channel: Channel,
    sku_ids: list[int] | None = None,
    atp: dict[tuple[int, int], int] | None = None,
    pool_location_ids=None,
    sharing_channel_ids: list[int] | None = None,
) -> dict[int, Availability]:
    """Availability of `sku_ids` (default: every SKU the channel lists) on `channel`: the
    one home of the channel ATS and *reservable* figures (module docstring).

    Set-based: one pool query, one rules query, one reservations query (and, when other
    channels ring-fence stock, one query for their nodes), then arithmetic. Routing passes
    the per-node `atp` it read under its lock with the channel's `pool_location_ids` and
    `sharing_channel_ids` from its cached configuration, so nothing is read twice.
    """
    if sku_ids is None:
        sku_ids_for_rules = None
        targets = list(
            channel.listings.filter(active=True).values_list("sku_id", flat=True).distinct()
        )
        pools = channel_pools(channel_id=channel.pk)
    else:
        sku_ids_for_rules = targets = list(sku_ids)
        if atp is not None and pool_location_ids is not None:
            pools = _sum_by_sku(atp, pool_location_ids)
        else:
            pools = channel_pools(channel_id=channel.pk, sku_ids=targets)
    rules = _Rules(sku_ids_for_rules)
    if sharing_channel_ids is None:
        # Channels sharing at least one node with this one (one query).
        shared = Channel.eligible_locations.through.objects.filter(
            location_id__in=Channel.eligible_locations.through.objects.filter(
                channel_id=channel.pk
            ).values("location_id")
        ).values("channel_id")
        sharing_channel_ids = list(
            Channel.objects.filter(active=True, pk__in=shared)
            .values_list("pk", flat=True)
            .distinct()
        )
    others = _protected_channels(rules, channel.pk, sharing_channel_ids)
    shared_pools = (
        _shared_pools(
            channel=channel,
            others=others,
            sku_ids=sku_ids_for_rules,
            atp=atp,
            pool_location_ids=pool_location_ids,
        )
        if others
        else {}
    )
    used = _reserved_by_channel(others, sku_ids_for_rules)
    result = {}
    for sku_id in targets:
        pool = pools.get(sku_id, 0)
        protected = min(
            pool,
            sum(
                min(
                    max(0, rules.get(other, sku_id).protected - used.get((other, sku_id), 0)),
                    shared_pools[other].get(sku_id, 0),
                )
                for other in others
            ),
        )
        rule = rules.get(channel.pk, sku_id)
        reservable = max(0, pool - protected)
        usable = pool - protected - rule.buffer
        if usable < rule.threshold:
            available = 0
        else:
            available = min(usable, math.floor(rule.cap * pool))
            if rule.max_units is not None:
                available = min(available, rule.max_units)
            available = max(0, available)
        result[sku_id] = Availability(sku_id, pool, protected, usable, reservable, available, rule)
    return result


def available_to_promise(*, sku_id: int, location_id: int) -> int:
    """ATP at one node (the single-row form of `node_atp`)."""
    return node_atp(sku_ids=[sku_id], location_ids=[location_id]).get((sku_id, location_id), 0)


def balances(*, sku_id=None, location_id=None, status=None) -> QuerySet[StockBalance]:
    """Balances with `available`: the row's ATP (`ATP_SQL`) for sellable rows, 0 otherwise."""
    table = StockBalance._meta.db_table
    queryset = StockBalance.objects.select_related("sku", "location").annotate(
        available=Coalesce(
            RawSQL(
                f"SELECT {ATP_SQL} {ATP_FROM} WHERE b.id = {table}.id AND b.status = 'sellable'",
                [],
                output_field=IntegerField(),
            ),
            0,
        )
    )
    if sku_id:
        queryset = queryset.filter(sku_id=sku_id)
    if location_id:
        queryset = queryset.filter(location_id=location_id)
    if status:
        queryset = queryset.filter(status=status)
    return queryset


# What brought units in at their cost: a write-off is valued at what the stock cost then.
_COSTED_ARRIVALS = (MovementKind.RECEIPT,)


def valuation_unit_cost(*, sku: Sku) -> Decimal:
    """What one unit of `sku` is worth when deciding whether a write-off or adjustment needs
    a manager: the higher of the SKU's unit cost now and the unit cost in effect when its
    stock last arrived by receipt (read from the SKU's history), and never below its
    moving-average cost (`services.costing`), which only receipts and landed cost move.
    Lowering the cost field just before a write-off therefore never shrinks the value the
    approval rule sees. Three queries."""
    averages = SkuCost.objects.filter(sku=sku).aggregate(top=Max("average_cost"))["top"]
    standard = max(sku.unit_cost, averages) if averages is not None else sku.unit_cost
    last_receipt = (
        StockLedgerEntry.objects.filter(sku=sku, kind__in=_COSTED_ARRIVALS)
        .order_by("-id")
        .values_list("recorded_at", flat=True)
        .first()
    )
    if last_receipt is None:
        return standard
    cost_then = (
        Sku.history.filter(id=sku.pk, history_date__lte=last_receipt)
        .order_by("-history_date", "-history_id")
        .values_list("unit_cost", flat=True)
        .first()
    )
    return max(standard, cost_then if cost_then is not None else standard)


def ledger_entries() -> QuerySet[StockLedgerEntry]:
    return StockLedgerEntry.objects.select_related("sku", "location", "lot", "actor")


def inventory_accuracy(*, location) -> float | None:
    """Share of counted lines (closed counts at the node) whose variance is within tolerance."""
    from inventory.models import CycleCountLine

    lines = CycleCountLine.objects.filter(
        count__location=location, count__state="closed", counted__isnull=False
    ).values_list("counted", "expected", "count__tolerance")
    total = accurate = 0
    for counted, expected, tolerance in lines:
        total += 1
        accurate += abs(counted - expected) <= tolerance
    return accurate / total if total else None


# --- stock views for the back office ---------------------------------------------------------

HELD_STATUSES = (StockStatus.INSPECTION, StockStatus.QUARANTINE, StockStatus.DAMAGED)


def _on_hand_in(status, prefix: str = "balances__"):
    return Coalesce(Sum(f"{prefix}on_hand", filter=Q(**{f"{prefix}status": status})), 0)


def _by_status(prefix: str = "balances__") -> dict:
    """On hand per status, reserved, and units held out of sale, summed over the join."""
    return {
        "sellable": _on_hand_in(StockStatus.SELLABLE, prefix),
        "reserved": Coalesce(Sum(f"{prefix}reserved"), 0),
        "inspection": _on_hand_in(StockStatus.INSPECTION, prefix),
        "quarantine": _on_hand_in(StockStatus.QUARANTINE, prefix),
        "damaged": _on_hand_in(StockStatus.DAMAGED, prefix),
        "in_transit": _on_hand_in(StockStatus.IN_TRANSIT, prefix),
        "held": Coalesce(
            Sum(f"{prefix}on_hand", filter=Q(**{f"{prefix}status__in": HELD_STATUSES})), 0
        ),
    }


def _safety_stock(*, sku=None, location=None) -> Subquery:
    rows = SafetyStock.objects.filter(
        sku=sku if sku is not None else OuterRef("pk"),
        location=location if location is not None else OuterRef("pk"),
    )
    return Coalesce(Subquery(rows.values("quantity")[:1]), 0, output_field=IntegerField())


def _atp_of_row(*, sku_sql: str, location_sql: str, params: list) -> RawSQL:
    """ATP (`ATP_SQL`, the one definition) of one balance, as a column of a screen's
    query: `sku_sql` and `location_sql` name the SKU and the node of the outer row."""
    return RawSQL(
        f"SELECT {ATP_SQL} {ATP_FROM} WHERE b.status = 'sellable'"
        f" AND b.sku_id = {sku_sql} AND b.location_id = {location_sql}",
        params,
        output_field=IntegerField(),
    )


def _at_zero(location=None) -> Exists:
    """The SKU has a sellable balance standing at zero at `location` (or at any active node
    that ships): the stockouts the insight KPIs count, as they stand now."""
    rows = StockBalance.objects.filter(sku=OuterRef("pk"), status=StockStatus.SELLABLE, on_hand=0)
    if location is not None:
        rows = rows.filter(location=location)
    else:
        rows = rows.filter(location__active=True, location__can_ship=True)
    return Exists(rows.filter(sku__active=True))


def _stock_skus(search: str, family: str) -> QuerySet[Sku]:
    skus = sku_list(search=search)
    return skus.filter(product_family=family) if family else skus


def stock_overview(*, search: str = "", family: str = "", out: bool = False) -> QuerySet[Sku]:
    """SKUs (searched like the SKU list: code, name or exact barcode; of one family; only
    those out of stock at some node when `out`) with their stock summed over every node:
    one query per page."""
    skus = _stock_skus(search, family)
    if out:
        skus = skus.filter(_at_zero())
    return (
        skus.annotate(
            **_by_status(),
            nodes=Count("balances__location", filter=Q(balances__on_hand__gt=0), distinct=True),
        )
        .annotate(free=F("sellable") - F("reserved"))
        .order_by("code")
    )


def stock_at_node(
    *, location: Location, search: str = "", family: str = "", out: bool = False
) -> QuerySet[Sku]:
    """Every SKU with units at `location` (of one family; or, when `out`, every SKU whose
    sellable stock there stands at zero), per status, with safety stock and ATP there.

    Filtering on the balances before annotating makes the sums run over this node's rows
    only; rows at zero add nothing (reserved never exceeds on hand), so they are skipped.
    """
    skus = _stock_skus(search, family)
    if out:
        skus = skus.filter(_at_zero(location), balances__location=location)
    else:
        skus = skus.filter(balances__location=location, balances__on_hand__gt=0)
    return skus.annotate(
        **_by_status(),
        safety=_safety_stock(location=location),
        available=Coalesce(
            _atp_of_row(
                sku_sql=f"{Sku._meta.db_table}.id", location_sql="%s", params=[location.pk]
            ),
            0,
        ),
    ).order_by("code")


def sku_stock_by_node(*, sku: Sku) -> list[Location]:
    """One row per node holding (or having held) `sku`: on hand per status, reserved,
    safety stock and ATP. One query."""
    return list(
        Location.objects.filter(balances__sku=sku)
        .annotate(
            **_by_status(),
            safety=_safety_stock(sku=sku),
            available=Coalesce(
                _atp_of_row(
                    sku_sql="%s", location_sql=f"{Location._meta.db_table}.id", params=[sku.pk]
                ),
                0,
            ),
        )
        .order_by("priority", "code")
    )


def node_overview() -> QuerySet[Location]:
    """Active nodes with how many SKUs they hold and their units per status: one query."""
    return (
        Location.objects.filter(active=True)
        .annotate(
            **_by_status(),
            skus=Count("balances__sku", filter=Q(balances__on_hand__gt=0), distinct=True),
        )
        .order_by("priority", "code")
    )


def lot_balances(*, sku: Sku) -> QuerySet[LotBalance]:
    """Units per lot, node and status, first-expiring first (the FEFO order pickers follow)."""
    return (
        LotBalance.objects.filter(sku=sku, on_hand__gt=0)
        .select_related("lot", "location")
        .order_by("lot__expires_on", "lot__code", "location__priority", "location__code", "status")
    )


@dataclass(frozen=True)
class ChannelFigure:
    """A SKU's availability on one channel that lists it, beside the figure last published."""

    listing: ChannelListing
    availability: Availability
    published: ChannelAvailability | None


def sku_availability_by_channel(*, sku: Sku) -> list[ChannelFigure]:
    """Availability of `sku` on every active channel with an active listing of it,
    computed now (compute_availability per channel), and what each channel was last sent."""
    listings = list(
        ChannelListing.objects.filter(sku=sku, active=True, channel__active=True)
        .select_related("channel")
        .order_by("channel__code", "channel_sku")
    )
    published = {row.channel_id: row for row in ChannelAvailability.objects.filter(sku=sku)}
    figures: dict[int, Availability] = {}
    for listing in listings:
        if listing.channel_id not in figures:
            computed = compute_availability(channel=listing.channel, sku_ids=[sku.pk])
            figures[listing.channel_id] = computed[sku.pk]
    return [
        ChannelFigure(listing, figures[listing.channel_id], published.get(listing.channel_id))
        for listing in listings
    ]


def published_against_now(*, channel: Channel, sku_ids: list[int]) -> dict[int, tuple]:
    """(figure last published to `channel` or None, ATS computed now) per SKU of `sku_ids`:
    compute_availability's bounded set of queries and one for what was published. The
    figure is accurate when both agree (available-to-sell accuracy, the mismatch filter)."""
    if not sku_ids:
        return {}
    figures = compute_availability(channel=channel, sku_ids=sku_ids)
    published = dict(
        ChannelAvailability.objects.filter(channel=channel, sku_id__in=sku_ids).values_list(
            "sku_id", "available"
        )
    )
    return {sku_id: (published.get(sku_id), figures[sku_id].available) for sku_id in sku_ids}
