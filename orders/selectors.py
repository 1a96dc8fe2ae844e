"""Reads of orders for the back office: the filtered order list and everything the order
page shows, each in a fixed number of queries whatever the number of lines or events."""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import (
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

from erp.models import Channel
from inventory.models import Reservation
from orders.models import (
    Allocation,
    IngestionError,
    Order,
    OrderEvent,
    OrderHold,
    OrderLine,
    OrderState,
    RoutingDecision,
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
