"""Inventory reads shared by the API, the back office and the services.

Availability (DOMAIN.md): ATP(s,l) = sellable on_hand − reserved − safety stock, floored
at 0. A channel's pool P is Σ ATP over its eligible nodes. With channel rules (a SKU rule
overrides the channel-wide one): E = P − Σ_{d≠c} R_d − B_c, and
ATS = 0 if E < T_c else max(0, min(E, floor(K_c·P), M_c)). An order from c may reserve up
to P − Σ_{d≠c} R_d. R_d counts only the part of d's protection that d's own active
reservations have not already used, so a channel's own orders draw its ring-fence down.
"""

import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet

from erp.models import Channel
from inventory.models import (
    AllocationRule,
    Reservation,
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


def _rule_values(rule: AllocationRule, source: str) -> RuleValues:
    return RuleValues(rule.protected, rule.buffer, rule.cap, rule.max_units, rule.threshold, source)


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
    """Every allocation rule, loaded once, answering per (channel, sku)."""

    def __init__(self, sku_ids: list[int] | None):
        self.channel_wide: dict[int, RuleValues] = {}
        self.per_sku: dict[tuple[int, int], RuleValues] = {}
        rules = AllocationRule.objects.all()
        if sku_ids is not None:
            from django.db.models import Q

            rules = rules.filter(Q(sku__isnull=True) | Q(sku_id__in=sku_ids))
        for rule in rules:
            if rule.sku_id is None:
                self.channel_wide[rule.channel_id] = _rule_values(rule, "channel")
            else:
                self.per_sku[(rule.channel_id, rule.sku_id)] = _rule_values(rule, "sku")
        self.protected_skus_by_channel = defaultdict(set)
        for channel_id, sku_id in self.per_sku:
            self.protected_skus_by_channel[channel_id].add(sku_id)

    def get(self, channel_id: int, sku_id: int) -> RuleValues:
        return self.per_sku.get((channel_id, sku_id)) or self.channel_wide.get(
            channel_id, DEFAULT_RULE
        )


def _protected_channels(rules: _Rules, channel_id: int, active_channels: list[int]) -> list[int]:
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
    *, channel: Channel, sku_ids: list[int] | None = None
) -> dict[int, Availability]:
    """Availability of `sku_ids` (default: every SKU the channel lists) on `channel`.

    Set-based: one pool query, one rules query, one reservations query, then arithmetic.
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
        pools = channel_pools(channel_id=channel.pk, sku_ids=targets)
    rules = _Rules(sku_ids_for_rules)
    active_channels = list(Channel.objects.filter(active=True).values_list("pk", flat=True))
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
