"""Inventory reads shared by the API, the back office and the services.

Availability (DOMAIN.md): ATP(s,l) = sellable on_hand − reserved − safety stock, floored
at 0. A channel's pool P is Σ ATP over its eligible nodes. With channel rules (a SKU rule
overrides the channel-wide one): E = P − Σ_{d≠c} R_d − B_c, and
ATS = 0 if E < T_c else max(0, min(E, floor(K_c·P), M_c)). An order from c may reserve up
to P − Σ_{d≠c} R_d. R_d counts only the part of d's protection that d's own active
reservations have not already used, so a channel's own orders draw its ring-fence down,
and only channels that sell from at least one of c's nodes count: a ring-fence is on
shared stock, not on stock the other channel could never ship.
"""

import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest

from erp import fastsql
from erp.models import Channel, ChannelListing, Location, Sku
from erp.selectors import sku_list
from inventory.models import (
    AllocationRule,
    ChannelAvailability,
    LotBalance,
    Reservation,
    SafetyStock,
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


def _pool_sql(sku_filter: str) -> str:
    # Portable SQL (PostgreSQL and SQLite): CASE instead of GREATEST.
    return f"""
        SELECT b.sku_id,
               SUM(CASE WHEN b.on_hand - b.reserved - COALESCE(ss.quantity, 0) > 0
                        THEN b.on_hand - b.reserved - COALESCE(ss.quantity, 0) ELSE 0 END)
          FROM inventory_stockbalance b
          JOIN erp_channel_eligible_locations el
            ON el.location_id = b.location_id AND el.channel_id = %s
          JOIN erp_location loc ON loc.id = b.location_id AND loc.active
          LEFT JOIN inventory_safetystock ss
            ON ss.sku_id = b.sku_id AND ss.location_id = b.location_id
         WHERE b.status = 'sellable' {sku_filter}
         GROUP BY b.sku_id
    """


def channel_pools(*, channel_id: int, sku_ids: list[int] | None = None) -> dict[int, int]:
    """P(s, c) for the given SKUs (or every SKU with sellable stock) in one query."""
    params: list = [channel_id]
    sku_filter = ""
    if sku_ids is not None:
        if not sku_ids:
            return {}
        sku_filter = f"AND b.sku_id IN ({', '.join(['%s'] * len(sku_ids))})"
        params += list(sku_ids)
    with connection.cursor() as cursor:
        cursor.execute(_pool_sql(sku_filter), params)
        return {sku_id: int(pool or 0) for sku_id, pool in cursor.fetchall()}


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
    """Other channels whose protection binds this one: they have a protected quantity and
    sell from at least one of this channel's nodes (a ring-fence is on shared stock)."""
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
    from django.db.models import Sum

    rows = Reservation.objects.filter(state=Reservation.State.ACTIVE, channel_id__in=channel_ids)
    if sku_ids is not None:
        rows = rows.filter(sku_id__in=sku_ids)
    return {
        (row["channel_id"], row["sku_id"]): row["total"]
        for row in rows.values("channel_id", "sku_id").annotate(total=Sum("quantity")).order_by()
    }


def compute_availability(
    *,
    channel: Channel,
    sku_ids: list[int] | None = None,
    pools: dict[int, int] | None = None,
    sharing_channel_ids: list[int] | None = None,
) -> dict[int, Availability]:
    """Availability of `sku_ids` (default: every SKU the channel lists) on `channel`.

    Set-based: one pool query, one rules query, one reservations query, then arithmetic.
    Routing passes the `pools` it summed from the balances it locked, and the channels
    sharing a node with this one from its cached channel configuration.
    """
    if sku_ids is None:
        sku_ids_for_rules = None
        listed = list(
            channel.listings.filter(active=True).values_list("sku_id", flat=True).distinct()
        )
        targets = listed
        pools = channel_pools(channel_id=channel.pk)
    else:
        sku_ids_for_rules = targets = list(sku_ids)
        if pools is None:
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
    active_channels = sharing_channel_ids
    others = _protected_channels(rules, channel.pk, active_channels)
    used = _reserved_by_channel(others, sku_ids_for_rules)
    result = {}
    for sku_id in targets:
        pool = pools.get(sku_id, 0)
        protected = sum(
            max(0, rules.get(other, sku_id).protected - used.get((other, sku_id), 0))
            for other in others
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
    """ATP at one node: sellable on hand − reserved − safety stock, floored at 0."""
    from inventory.models import SafetyStock

    balance = StockBalance.objects.filter(
        sku_id=sku_id, location_id=location_id, status=StockStatus.SELLABLE
    ).first()
    if balance is None:
        return 0
    safety = (
        SafetyStock.objects.filter(sku_id=sku_id, location_id=location_id)
        .values_list("quantity", flat=True)
        .first()
        or 0
    )
    return max(0, balance.on_hand - balance.reserved - safety)


def balances(*, sku_id=None, location_id=None, status=None) -> QuerySet[StockBalance]:
    queryset = StockBalance.objects.select_related("sku", "location")
    if sku_id:
        queryset = queryset.filter(sku_id=sku_id)
    if location_id:
        queryset = queryset.filter(location_id=location_id)
    if status:
        queryset = queryset.filter(status=status)
    return queryset


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


def _available_to_promise():
    # ATP = sellable − reserved − safety stock, floored at 0 (what channels draw on).
    return Greatest(Value(0), F("sellable") - F("reserved") - F("safety"))


def stock_overview(*, search: str = "") -> QuerySet[Sku]:
    """SKUs (searched like the SKU list: code, name or exact barcode) with their stock
    summed over every node: one query per page."""
    return (
        sku_list(search=search)
        .annotate(
            **_by_status(),
            nodes=Count("balances__location", filter=Q(balances__on_hand__gt=0), distinct=True),
        )
        .annotate(free=F("sellable") - F("reserved"))
        .order_by("code")
    )


def stock_at_node(*, location: Location, search: str = "") -> QuerySet[Sku]:
    """Every SKU with units at `location`, per status, with safety stock and ATP there.

    Filtering on the balances before annotating makes the sums run over this node's rows
    only; rows at zero add nothing (reserved never exceeds on hand), so they are skipped.
    """
    return (
        sku_list(search=search)
        .filter(balances__location=location, balances__on_hand__gt=0)
        .annotate(**_by_status(), safety=_safety_stock(location=location))
        .annotate(available=_available_to_promise())
        .order_by("code")
    )


def sku_stock_by_node(*, sku: Sku) -> list[Location]:
    """One row per node holding (or having held) `sku`: on hand per status, reserved,
    safety stock and ATP. One query."""
    return list(
        Location.objects.filter(balances__sku=sku)
        .annotate(**_by_status(), safety=_safety_stock(sku=sku))
        .annotate(available=_available_to_promise())
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
