"""Keeping the KPI facts current, incrementally.

A refresh asks which orders changed since the watermark (new orders, timeline events,
shipments, RMAs, inspections: each through an indexed timestamp), re-computes the placed
days of those orders only — delete that day's fact rows, insert them again from a GROUP BY —
and moves the watermark to the refresh's start. A page view only ever reads the facts.

Writers commit after their timestamps are taken, so each refresh looks back OVERLAP before
the watermark: a change committed a little late is still seen the next time.
"""

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from erp.models import Channel
from fulfillment.models import Shipment
from insight.models import FactRefresh, LineDayFact, OrderDayFact
from insight.services.stock_facts import StockRefreshResult, refresh_stock_facts
from orders.models import (
    Allocation,
    HoldReason,
    LineState,
    Order,
    OrderEvent,
    OrderHold,
    OrderLine,
    OrderState,
)
from returns.models import Disposition, Inspection, Rma, RmaLine, RmaState
from returns.selectors import standing_inspections

OVERLAP = timedelta(minutes=5)
WATERMARK = "facts"
# Orders that reached these states could not be fully allocated when they arrived.
SHORT_STATES = [OrderState.BACKORDERED, OrderState.PARTIALLY_ALLOCATED]


@dataclass(frozen=True)
class RefreshResult:
    days: int
    duration_ms: int
    refreshed_to: datetime
    stock: StockRefreshResult | None = None


class _SecondsBetween(Func):
    """Seconds from `earlier` to `later` (two datetime columns), on PostgreSQL and on the
    SQLite of `make run` (which has no interval type)."""

    template = "EXTRACT(EPOCH FROM (%(expressions)s))"
    arg_joiner = " - "
    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra_context,
        )


def _seconds(later: str, earlier: str):
    return _SecondsBetween(F(later), F(earlier))


def _local_day(field: str):
    return TruncDate(field, tzinfo=timezone.get_default_timezone())


def _day_bounds(days: list[date]) -> Q:
    """Placed-at ranges covering `days`, contiguous days joined into one range."""
    zone = timezone.get_default_timezone()
    ranges: list[list[date]] = []
    for day in sorted(days):
        if ranges and day == ranges[-1][1] + timedelta(days=1):
            ranges[-1][1] = day
        else:
            ranges.append([day, day])
    condition = Q()
    for first, last in ranges:
        start = datetime.combine(first, datetime.min.time(), tzinfo=zone)
        end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=zone)
        condition |= Q(placed_at__gte=start, placed_at__lt=end)
    # Naming every channel lets PostgreSQL read the (channel, placed_at) index for the days
    # instead of scanning every order.
    return condition & Q(channel_id__in=list(Channel.objects.values_list("pk", flat=True)))


def _order_node():
    """The node of the order's allocations (the lowest id when split). An aggregate, not
    ORDER BY id LIMIT 1: that lets PostgreSQL walk the allocations' primary key for every
    order instead of reaching them through the order's lines."""
    return Subquery(
        Allocation.objects.filter(line__order=OuterRef("pk"))
        .order_by()
        .values("line__order")
        .annotate(node=Min("location"))
        .values("node")
    )


def _line_node(line_path: str = ""):
    return Subquery(
        Allocation.objects.filter(line=OuterRef(line_path or "pk"))
        .order_by()
        .values("line")
        .annotate(node=Min("location"))
        .values("node")
    )


def _bad_tracking():
    """A shipped parcel of the order without a tracking number its carrier's pattern takes."""
    return Exists(
        Shipment.objects.filter(order=OuterRef("pk"), state=Shipment.State.SHIPPED).filter(
            Q(tracking_number="")
            | (
                ~Q(carrier__tracking_pattern="")
                & ~Q(tracking_number__regex=F("carrier__tracking_pattern"))
            )
        )
    )


def _order_rows(placed: Q) -> list[OrderDayFact]:
    shipped = Q(shipped_at__isnull=False)
    short = Exists(
        OrderEvent.objects.filter(order=OuterRef("pk"), to_state__in=SHORT_STATES)
    ) | Exists(OrderHold.objects.filter(order=OuterRef("pk"), reason=HoldReason.INSUFFICIENT_STOCK))
    rows = (
        Order.objects.filter(placed)
        .annotate(
            fact_day=_local_day("placed_at"),
            fact_node=_order_node(),
            is_short=short,
            bad_tracking=_bad_tracking(),
        )
        .values("fact_day", "channel_id", "fact_node")
        .annotate(
            n_orders=Count("pk"),
            n_released=Count("pk", filter=Q(released_at__isnull=False)),
            s_release=Coalesce(
                Sum(_seconds("released_at", "received_at"), output_field=BigIntegerField()),
                Value(0),
                output_field=BigIntegerField(),
            ),
            n_shipped=Count("pk", filter=shipped),
            n_cycle=Count("pk", filter=shipped & Q(released_at__isnull=False)),
            s_ship=Coalesce(
                Sum(_seconds("shipped_at", "released_at"), output_field=BigIntegerField()),
                Value(0),
                output_field=BigIntegerField(),
            ),
            n_due=Count("pk", filter=shipped & Q(ship_by__isnull=False)),
            n_on_time=Count("pk", filter=shipped & Q(shipped_at__lte=F("ship_by"))),
            n_tracked=Count("pk", filter=shipped & Q(bad_tracking=False)),
            n_cancelled=Count("pk", filter=Q(state=OrderState.CANCELLED)),
            n_short=Count("pk", filter=Q(is_short=True)),
        )
        .order_by()
    )
    facts = [
        OrderDayFact(
            day=row["fact_day"],
            channel_id=row["channel_id"],
            node_id=row["fact_node"],
            orders=row["n_orders"],
            released=row["n_released"],
            release_seconds=int(row["s_release"]),
            shipped=row["n_shipped"],
            cycle_shipped=row["n_cycle"],
            ship_seconds=int(row["s_ship"]),
            due=row["n_due"],
            on_time=row["n_on_time"],
            valid_tracking=row["n_tracked"],
            cancelled=row["n_cancelled"],
            oversold=row["n_short"],
        )
        for row in rows
    ]
    _add_return_cycles(facts, placed)
    return facts


def _add_return_cycles(facts: list[OrderDayFact], placed: Q) -> None:
    """Closed RMAs of the orders and Σ authorized → closed, onto their order's fact row."""
    by_key = {(fact.day, fact.channel_id, fact.node_id): fact for fact in facts}
    node = Subquery(
        Allocation.objects.filter(line__order=OuterRef("order"))
        .order_by()
        .values("line__order")
        .annotate(node=Min("location"))
        .values("node")
    )
    cycles = (
        Rma.objects.filter(
            order__in=Order.objects.filter(placed),
            state=RmaState.CLOSED,
            closed_at__isnull=False,
        )
        .annotate(fact_day=_local_day("order__placed_at"), fact_node=node)
        .values("fact_day", "order__channel_id", "fact_node")
        .annotate(
            n_closed=Count("pk"),
            s_cycle=Sum(_seconds("closed_at", "authorized_at"), output_field=BigIntegerField()),
        )
        .order_by()
    )
    for row in cycles:
        fact = by_key.get((row["fact_day"], row["order__channel_id"], row["fact_node"]))
        if fact is not None:
            fact.returns_closed = row["n_closed"]
            fact.return_cycle_seconds = int(row["s_cycle"] or 0)


def _line_rows(placed: Q) -> list[LineDayFact]:
    open_units = F("quantity") - F("quantity_cancelled") - F("quantity_shipped")
    facts: dict[tuple, LineDayFact] = {}

    def fact(day, channel_id, node_id, family) -> LineDayFact:
        key = (day, channel_id, node_id, family or "")
        if key not in facts:
            facts[key] = LineDayFact(
                day=day, channel_id=channel_id, node_id=node_id, family=family or ""
            )
        return facts[key]

    lines = (
        OrderLine.objects.filter(Q(order__in=Order.objects.filter(placed)))
        .annotate(
            fact_day=_local_day("order__placed_at"),
            fact_node=_line_node(),
            fact_family=Coalesce("sku__product_family", Value("")),
        )
        .values("fact_day", "order__channel_id", "fact_node", "fact_family")
        .annotate(
            n_lines=Count("pk"),
            n_units=Sum("quantity"),
            n_shipped=Sum("quantity_shipped"),
            n_cancelled=Sum("quantity_cancelled"),
            n_backordered=Coalesce(
                Sum(open_units, filter=Q(state=LineState.BACKORDERED), output_field=IntegerField()),
                Value(0),
            ),
        )
        .order_by()
    )
    for row in lines:
        item = fact(row["fact_day"], row["order__channel_id"], row["fact_node"], row["fact_family"])
        item.lines, item.units = row["n_lines"], row["n_units"]
        item.units_shipped, item.units_cancelled = row["n_shipped"], row["n_cancelled"]
        item.units_backordered = row["n_backordered"]

    returned = (
        RmaLine.objects.filter(order_line__order__in=Order.objects.filter(placed))
        .exclude(rma__state=RmaState.CANCELLED)
        .annotate(
            fact_day=_local_day("order_line__order__placed_at"),
            fact_node=_line_node("order_line"),
            fact_family=Coalesce("order_line__sku__product_family", Value("")),
            counted=_returned_units(),
        )
        .values("fact_day", "order_line__order__channel_id", "fact_node", "fact_family")
        .annotate(units=Sum("counted"))
        .order_by()
    )
    for row in returned:
        fact(
            row["fact_day"],
            row["order_line__order__channel_id"],
            row["fact_node"],
            row["fact_family"],
        ).units_returned = row["units"] or 0

    inspected = (
        standing_inspections()
        .filter(rma__order__in=Order.objects.filter(placed))
        .annotate(
            fact_day=_local_day("rma__order__placed_at"),
            fact_node=_line_node("received_item__rma_line__order_line"),
            fact_family=Coalesce("received_item__sku__product_family", Value("")),
        )
        .values("fact_day", "rma__order__channel_id", "fact_node", "fact_family")
        .annotate(
            units=Sum("quantity"),
            restocked=Coalesce(Sum("quantity", filter=Q(disposition=Disposition.RESTOCK)), 0),
        )
        .order_by()
    )
    for row in inspected:
        item = fact(
            row["fact_day"], row["rma__order__channel_id"], row["fact_node"], row["fact_family"]
        )
        item.units_inspected, item.units_restocked = row["units"] or 0, row["restocked"]
    return list(facts.values())


def _returned_units():
    """Returned units as returns.selectors counts them: a closed RMA counts what arrived."""
    return Case(
        When(rma__state=RmaState.CLOSED, then=F("quantity_received")),
        default=F("quantity"),
        output_field=IntegerField(),
    )


@transaction.atomic
def rebuild_days(days: list[date]) -> int:
    """Re-compute the facts of orders placed on `days` (delete, then insert from SQL)."""
    days = sorted(set(days))
    if not days:
        return 0
    placed = _day_bounds(days)
    order_rows, line_rows = _order_rows(placed), _line_rows(placed)
    OrderDayFact.objects.filter(day__in=days).delete()
    LineDayFact.objects.filter(day__in=days).delete()
    OrderDayFact.objects.bulk_create(order_rows, batch_size=2000)
    LineDayFact.objects.bulk_create(line_rows, batch_size=2000)
    return len(days)


def touched_days(since: datetime) -> list[date]:
    """Placed days of every order that changed since `since`, each source read through an
    indexed timestamp."""
    sources = [
        Order.objects.filter(received_at__gte=since).values_list("pk", flat=True),
        OrderEvent.objects.filter(at__gte=since).values_list("order_id", flat=True),
        Shipment.objects.filter(shipped_at__gte=since).values_list("order_id", flat=True),
        Rma.objects.filter(authorized_at__gte=since).values_list("order_id", flat=True),
        Rma.objects.filter(
            Q(received_at__gte=since) | Q(closed_at__gte=since) | Q(cancelled_at__gte=since),
            authorized_at__gte=since - timedelta(days=366),
        ).values_list("order_id", flat=True),
        Inspection.objects.filter(inspected_at__gte=since).values_list("rma__order_id", flat=True),
    ]
    order_ids: set[int] = set()
    for source in sources:
        order_ids.update(source)
    if not order_ids:
        return []
    return sorted(
        Order.objects.filter(pk__in=list(order_ids))
        .annotate(fact_day=_local_day("placed_at"))
        .values_list("fact_day", flat=True)
        .order_by()  # the model's ordering would make DISTINCT keep one row per order
        .distinct()
    )


def all_days() -> list[date]:
    return sorted(
        Order.objects.annotate(fact_day=_local_day("placed_at"))
        .values_list("fact_day", flat=True)
        .distinct()
        .order_by()
    )


def refresh_facts(*, full: bool = False) -> RefreshResult:
    """Bring the facts up to now: the days touched since the watermark (every day the first
    time, or when `full`), then the stock facts (insight.services.stock_facts). Refreshes
    take turns on the watermark rows."""
    started, began = timezone.now(), time.perf_counter()
    with transaction.atomic():
        state, _ = FactRefresh.objects.get_or_create(name=WATERMARK)
        state = FactRefresh.objects.select_for_update().get(pk=state.pk)
        if full or state.refreshed_to is None:
            days = all_days()
        else:
            days = touched_days(state.refreshed_to - OVERLAP)
        rebuild_days(days)
        duration = int((time.perf_counter() - began) * 1000)
        state.refreshed_to, state.last_run_at = started, timezone.now()
        state.last_duration_ms, state.last_days = duration, len(days)
        state.save()
    stock = refresh_stock_facts(full=full)
    return RefreshResult(days=len(days), duration_ms=duration, refreshed_to=started, stock=stock)
