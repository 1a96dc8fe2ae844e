"""Reads of orders for the back office: the filtered order list and everything the order
page shows, each in a fixed number of queries whatever the number of lines or events."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.utils import timezone

from erp.models import Channel, Location
from inventory.models import Reservation
from orders.models import (
    Allocation,
    IngestionError,
    LineState,
    Order,
    OrderEvent,
    OrderHold,
    OrderLine,
    OrderState,
    RoutingDecision,
    ShippingZone,
)


def _open_holds() -> QuerySet[OrderHold]:
    return OrderHold.objects.filter(resolved_at__isnull=True).order_by("created_at", "pk")


def order_list(
    *,
    search: str = "",
    channel: Channel | None = None,
    state: str = "",
    hold_reason: str = "",
    placed_from: date | None = None,
    placed_to: date | None = None,
) -> QuerySet[Order]:
    """Orders newest first, with their channel, open holds and unit count.

    Search matches the channel's order id, our order number or the recipient's name.
    Dates are calendar days in the user's time zone, both ends included.
    """
    units = (
        OrderLine.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    orders = (
        Order.objects.select_related("channel")
        .annotate(units=Subquery(units, output_field=IntegerField()))
        .prefetch_related(Prefetch("holds", queryset=_open_holds(), to_attr="open_holds"))
        .defer("raw_payload", "extra")
        .order_by("-placed_at", "-pk")
    )
    if search:
        orders = orders.filter(
            Q(external_id__icontains=search)
            | Q(order_number__icontains=search)
            | Q(ship_name__icontains=search)
        )
    if channel is not None:
        orders = orders.filter(channel=channel)
    if state:
        orders = orders.filter(state=state)
    if hold_reason:
        orders = orders.filter(
            Exists(_open_holds().filter(order=OuterRef("pk"), reason=hold_reason))
        )
    if placed_from:
        orders = orders.filter(placed_at__date__gte=placed_from)
    if placed_to:
        orders = orders.filter(placed_at__date__lte=placed_to)
    return orders


@dataclass(frozen=True)
class TimelineEntry:
    event: OrderEvent
    from_label: str
    to_label: str

    @property
    def is_state_change(self) -> bool:
        return self.event.kind == "state" and self.from_label != self.to_label


@dataclass
class OrderDetail:
    """An order with everything its page shows.

    Each line carries `active_allocations`, and each allocation its inventory
    `reservation` (None for drop-ship, which reserves nothing of ours).
    """

    order: Order
    lines: list[OrderLine]
    open_holds: list[OrderHold]
    timeline: list[TimelineEntry]
    routing: RoutingDecision | None
    allocated_nodes: set[str] = field(default_factory=set)

    @property
    def subtotal(self):
        """Σ quantity × unit price; None while the channel withholds prices."""
        if any(line.line_total is None for line in self.lines):
            return None
        return sum((line.line_total for line in self.lines), start=0)


def _state_label(value: str) -> str:
    return OrderState(value).label if value in OrderState.values else value


def order_detail(*, order_id: int) -> OrderDetail | None:
    """The order page in seven queries, however many lines, allocations or events."""
    order = Order.objects.select_related("channel").filter(pk=order_id).first()
    if order is None:
        return None
    allocations = Allocation.objects.filter(active=True).select_related("location").order_by("pk")
    lines = list(
        order.lines.select_related("sku", "ordered_sku")
        .annotate(
            line_total=ExpressionWrapper(
                F("quantity") * F("unit_price"),
                output_field=DecimalField(max_digits=14, decimal_places=2),
            )
        )
        .prefetch_related(
            Prefetch("allocations", queryset=allocations, to_attr="active_allocations")
        )
    )
    _attach_reservations(lines)
    events = OrderEvent.objects.filter(order=order).select_related("actor").order_by("-at", "-pk")
    return OrderDetail(
        order=order,
        lines=lines,
        open_holds=list(_open_holds().filter(order=order).select_related("created_by")),
        timeline=[
            TimelineEntry(event, _state_label(event.from_state), _state_label(event.to_state))
            for event in events
        ],
        routing=order.routing_decisions.select_related("actor").first(),
        allocated_nodes={
            allocation.location.code for line in lines for allocation in line.active_allocations
        },
    )


def _attach_reservations(lines: list[OrderLine]) -> None:
    reservation_ids = [
        allocation.reservation_id
        for line in lines
        for allocation in line.active_allocations
        if allocation.reservation_id
    ]
    # Always one query (even for none), so the page's query count does not depend on routing.
    reservations = Reservation.objects.in_bulk(reservation_ids or [0])
    for line in lines:
        for allocation in line.active_allocations:
            allocation.reservation = reservations.get(allocation.reservation_id)


def ingestion_error(*, error_id: int) -> IngestionError | None:
    return IngestionError.objects.select_related("order", "replayed_by").filter(pk=error_id).first()


def backordered_sku_ids(sku_ids) -> set[int]:
    """Which of these SKUs have a line waiting on a backorder (any order state): stock that
    arrives for other SKUs needs no routing pass. One query on a partial index."""
    from orders.services.locking import backordered_sku_ids as read

    return read(sku_ids)


# --- what a change of a routing rule would affect now (settings previews) -----------------

# Orders with units still to ship (to route, allocate, pick or pack).
NOT_YET_SHIPPED = [
    state
    for state in OrderState.values
    if state not in {OrderState.SHIPPED, OrderState.CLOSED, OrderState.CANCELLED}
]


def _unshipped_orders() -> QuerySet[Order]:
    return Order.objects.filter(state__in=NOT_YET_SHIPPED)


def order_policy_effect(policy, *, channel, risk_threshold) -> list[str]:
    """How many of the channel's orders of the last day were (and would be) held for risk,
    and how many are on hold now: two aggregate queries."""

    if channel is None:
        return []
    current = policy.risk_threshold if policy else None
    since = timezone.now() - timedelta(days=1)
    counts = Order.objects.filter(channel=channel, placed_at__gte=since).aggregate(
        total=Count("pk"),
        above_new=Count("pk", filter=Q(risk_score__gt=risk_threshold)),
        above_current=Count("pk", filter=Q(risk_score__gt=current))
        if current is not None
        else Count(None),
    )
    held = _unshipped_orders().filter(channel=channel, state=OrderState.ON_HOLD).count()
    lines = [
        f"Of {channel.code}'s {counts['total']} order(s) of the last 24 hours, "
        f"{counts['above_new']} score above {risk_threshold} and would be held for risk"
        + (
            f" ({counts['above_current']} at the current {current})."
            if current is not None
            else "."
        ),
        f"{held} order(s) of {channel.code} are on hold now; the new policy applies from the "
        "next order and to held orders when they are evaluated again.",
    ]
    return lines


def _zone_area(country: str, prefix: str) -> Q:
    return Q(ship_country=country, ship_postal_code__startswith=prefix)


def shipping_zone_effect(zone, *, country: str, postal_prefix: str, zone_code: str) -> list[str]:
    """Unshipped orders whose address this row zones (longer prefixes of the same country
    win, as in routing): one query for the longer prefixes, one count."""

    country, prefix = (country or "").strip().upper(), (postal_prefix or "").strip().upper()
    longer = ShippingZone.objects.filter(country=country, postal_prefix__startswith=prefix).exclude(
        postal_prefix=prefix
    )
    orders = _unshipped_orders().filter(_zone_area(country, prefix))
    for other in longer.values_list("postal_prefix", flat=True):
        orders = orders.exclude(ship_postal_code__startswith=other)
    count = orders.count()
    area = f"{country}{' ' + prefix + '…' if prefix else ''}"
    return [f"{count} unshipped order(s) ship to {area}: routing prices them as zone {zone_code}."]


def shipping_rate_effect(
    rate, *, origin_region: str, zone_code: str, cost, transit_days
) -> list[str]:
    """The unshipped orders going to the zone and the nodes shipping from the region."""

    areas = Q(pk__in=[])
    for country, prefix in ShippingZone.objects.filter(zone=zone_code).values_list(
        "country", "postal_prefix"
    ):
        areas |= _zone_area(country, prefix)
    count = _unshipped_orders().filter(areas).count()
    nodes = list(
        Location.objects.filter(region=origin_region, active=True, can_ship=True)
        .order_by("code")
        .values_list("code", flat=True)
    )
    lines = [
        f"{count} unshipped order(s) ship to an area of zone {zone_code}.",
        f"Nodes shipping from {origin_region}: {', '.join(nodes) or 'none'}; "
        f"routing will price them at {cost} and {transit_days} day(s) to this zone.",
    ]
    if rate is not None and (rate.cost, rate.transit_days) != (cost, transit_days):
        lines.append(f"Today: {rate.cost} and {rate.transit_days} day(s).")
    return lines


def backordered_lines_effect(*, sku_ids=None, family: str | None = None, verb: str) -> list[str]:
    """Backordered lines (units) of these SKUs or of a product family: one aggregate."""

    lines = OrderLine.objects.filter(state=LineState.BACKORDERED)
    if sku_ids is not None:
        lines = lines.filter(sku_id__in=list(sku_ids))
    if family is not None:
        lines = lines.filter(sku__product_family=family)
    counts = lines.aggregate(lines=Count("pk"), units=Sum("quantity"))
    return [f"{counts['lines']} backordered line(s) ({counts['units'] or 0} units) {verb}."]
