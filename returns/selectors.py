"""Reads of returns shared by the services, the API, the queues and the back office:
what shipped (and may come back), what waits, and the return figures (set-based)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Avg,
    Case,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from fulfillment.models import Shipment, ShipmentLine
from inventory.models import InventoryAdjustment
from orders.models import OrderLine
from returns.models import (
    DAMAGE_GRADES,
    OPEN_RMA_STATES,
    POSTED_REFUND_STATES,
    Discrepancy,
    Disposition,
    Inspection,
    ReceivedItem,
    Refund,
    RefundState,
    RepairOrder,
    Rma,
    RmaLine,
    RmaState,
    UnmatchedChannelReturn,
)

# Receipts are taken while units are still expected; a late unexpected parcel on a fully
# received RMA is received too.
RECEIVABLE_RMA_STATES = [*OPEN_RMA_STATES, RmaState.RECEIVED]

# --- what shipped -------------------------------------------------------------------------


@dataclass
class ShippedUnits:
    serials: set[str] = field(default_factory=set)
    lot_ids: set[int] = field(default_factory=set)


def shipped_units(order_line_ids: list[int]) -> dict[int, ShippedUnits]:
    """Serials and lots that actually left on shipments of these order lines."""
    shipped: dict[int, ShippedUnits] = defaultdict(ShippedUnits)
    rows = ShipmentLine.objects.filter(
        line_id__in=list(order_line_ids), shipment__state=Shipment.State.SHIPPED
    ).values_list("line_id", "serials", "lot_id")
    for line_id, serials, lot_id in rows:
        units = shipped[line_id]
        units.serials.update(str(serial) for serial in serials or [])
        if lot_id:
            units.lot_ids.add(lot_id)
    return dict(shipped)


def shipped_dates(order_line_ids: list[int]) -> dict[int, datetime]:
    """When each order line last shipped (the return window counts from there)."""
    return dict(
        ShipmentLine.objects.filter(
            line_id__in=list(order_line_ids), shipment__state=Shipment.State.SHIPPED
        )
        .values("line_id")
        .annotate(last=Max("shipment__shipped_at"))
        .values_list("line_id", "last")
    )


def serials_on_live_rmas(order_line_ids: list[int]) -> dict[int, set[str]]:
    serials: dict[int, set[str]] = defaultdict(set)
    rows = (
        RmaLine.objects.filter(order_line_id__in=list(order_line_ids))
        .exclude(rma__state=RmaState.CANCELLED)
        .exclude(serials=[])
        .values_list("order_line_id", "serials")
    )
    for line_id, line_serials in rows:
        serials[line_id].update(line_serials)
    return dict(serials)


# --- inspections --------------------------------------------------------------------------

# A disposal whose write-off a manager rejected no longer stands: its units are still in
# inspection and wait for another disposition.
REJECTED_WRITE_OFF = Q(write_off__state=InventoryAdjustment.State.REJECTED)


def standing_inspections() -> QuerySet[Inspection]:
    return Inspection.objects.exclude(REJECTED_WRITE_OFF)


def inspected_by_item(rma_id: int) -> dict[int, int]:
    return dict(
        standing_inspections()
        .filter(rma_id=rma_id)
        .values("received_item")
        .annotate(units=Sum("quantity"))
        .values_list("received_item", "units")
    )


def units_awaiting_inspection(rma_id: int) -> int:
    received = (
        ReceivedItem.objects.filter(rma_id=rma_id).aggregate(units=Sum("quantity"))["units"] or 0
    )
    return received - sum(inspected_by_item(rma_id).values())


def inspected_by_rma_line(rma_id: int) -> dict[int, int]:
    return dict(
        standing_inspections()
        .filter(rma_id=rma_id, received_item__rma_line__isnull=False)
        .values("received_item__rma_line")
        .annotate(units=Sum("quantity"))
        .values_list("received_item__rma_line", "units")
    )


def _inspected_units_subquery():
    return Coalesce(
        Subquery(
            standing_inspections()
            .filter(received_item=OuterRef("pk"))
            .order_by()
            .values("received_item")
            .annotate(units=Sum("quantity"))
            .values("units"),
            output_field=IntegerField(),
        ),
        0,
    )


# --- RMAs ---------------------------------------------------------------------------------


def rma_list() -> QuerySet[Rma]:
    return Rma.objects.select_related("channel", "order", "created_by").annotate(
        units=Sum("lines__quantity"), units_received=Sum("lines__quantity_received")
    )


def rma_detail() -> QuerySet[Rma]:
    """One RMA with everything its page and API detail show, in a fixed number of queries."""
    return Rma.objects.select_related("channel", "order", "created_by").prefetch_related(
        Prefetch(
            "lines",
            queryset=RmaLine.objects.select_related("sku", "lot", "reason", "order_line"),
        ),
        Prefetch(
            "received_items",
            queryset=ReceivedItem.objects.select_related(
                "sku", "lot", "location", "receipt__received_by"
            ).annotate(units_inspected=_inspected_units_subquery()),
        ),
        Prefetch(
            "inspections",
            queryset=Inspection.objects.select_related(
                "received_item__sku", "inspected_by", "write_off", "repair_order", "supplier_claim"
            ),
        ),
        Prefetch(
            "refunds",
            queryset=Refund.objects.select_related("requested_by", "channel").prefetch_related(
                "lines"
            ),
        ),
    )


def find_rmas_for_scan(code: str) -> QuerySet[Rma]:
    """What the dock scans: an RMA number, the order's id or number, the return label or
    the channel's return id. Only RMAs that still take receipts."""
    code = code.strip()
    if not code:
        return Rma.objects.none()
    return (
        Rma.objects.filter(
            Q(number__iexact=code)
            | Q(order__external_id=code)
            | Q(order__order_number=code)
            | Q(return_label_reference=code)
            | Q(external_reference=code)
        )
        .filter(state__in=RECEIVABLE_RMA_STATES)
        .select_related("channel", "order")
        .order_by("expected_by", "pk")
    )


# --- queues -------------------------------------------------------------------------------


def rmas_awaiting_receipt() -> QuerySet[Rma]:
    """Open RMAs, overdue first: `overdue_since` is the expected date once it has passed,
    and now for the rest, so the queue's age is how late the latest parcel is. Units the
    channel's own returns centre took back (Amazon FBA) are awaited by no dock of ours."""
    now = timezone.now()
    return (
        Rma.objects.filter(state__in=OPEN_RMA_STATES, channel_returns_centre="")
        .annotate(overdue_since=Least("expected_by", Value(now, output_field=DateTimeField())))
        .select_related("channel", "order")
    )


def items_awaiting_inspection() -> QuerySet[ReceivedItem]:
    return (
        ReceivedItem.objects.annotate(units_inspected=_inspected_units_subquery())
        .annotate(units_waiting=F("quantity") - F("units_inspected"))
        .filter(units_waiting__gt=0)
        .select_related("rma", "sku", "location", "lot", "rma_line__reason")
    )


def refunds_awaiting_approval() -> QuerySet[Refund]:
    return Refund.objects.filter(state=RefundState.PENDING_APPROVAL).select_related(
        "rma", "order", "channel", "requested_by"
    )


def open_repairs() -> QuerySet[RepairOrder]:
    return RepairOrder.objects.filter(state=RepairOrder.State.OPEN).select_related(
        "rma", "sku", "location", "lot"
    )


def open_discrepancies() -> QuerySet[ReceivedItem]:
    return (
        ReceivedItem.objects.exclude(discrepancy=Discrepancy.NONE)
        .filter(discrepancy_resolved_at__isnull=True)
        .select_related("rma", "sku", "location", "rma_line")
    )


# --- figures ------------------------------------------------------------------------------

GROUPINGS = {
    # by: (order line field, RMA line field, inspection field)
    "sku": ("sku__code", "sku__code", "received_item__sku__code"),
    "channel": ("order__channel__code", "rma__channel__code", "rma__channel__code"),
    "reason": (None, "reason__code", "received_item__rma_line__reason__code"),
}
_RETURNED_UNITS = Sum(
    Case(
        When(rma__state=RmaState.CLOSED, then=F("quantity_received")),
        default=F("quantity"),
        output_field=IntegerField(),
    )
)


def _ratio(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _period(prefix: str, since, until, channel_code) -> Q:
    condition = Q()
    if since:
        condition &= Q(**{f"{prefix}placed_at__gte": since})
    if until:
        condition &= Q(**{f"{prefix}placed_at__lt": until})
    if channel_code:
        condition &= Q(**{f"{prefix}channel__code": channel_code})
    return condition


def return_figures(
    *, by: str, since: datetime | None = None, until: datetime | None = None, channel_code=None
) -> dict:
    """Return rate (returned ÷ shipped units), recoverable rate (restocked ÷ inspected) and
    damage rate (graded damaged or defective ÷ inspected) per SKU, channel or reason.

    The period selects orders by when they were placed, so a rate compares the returns of
    a set of orders with what shipped on those same orders. Returned units are those of
    live RMAs (a closed RMA counts what arrived). For reasons, the rate is that reason's
    returns over every unit shipped. Three GROUP BY queries, whatever the number of rows.
    """
    if by not in GROUPINGS:
        raise ValueError(f"Group by one of {', '.join(GROUPINGS)}.")
    shipped_key, returned_key, inspected_key = GROUPINGS[by]
    orders = _period("order__", since, until, channel_code)
    shipped_lines = OrderLine.objects.filter(orders, quantity_shipped__gt=0)
    if shipped_key:
        shipped = dict(
            shipped_lines.values(shipped_key)
            .annotate(units=Sum("quantity_shipped"))
            .values_list(shipped_key, "units")
        )
        shipped_total = sum(shipped.values())
    else:
        shipped, shipped_total = (
            {},
            shipped_lines.aggregate(units=Sum("quantity_shipped"))["units"] or 0,
        )
    returned = dict(
        RmaLine.objects.filter(_period("order_line__order__", since, until, channel_code))
        .exclude(rma__state=RmaState.CANCELLED)
        .values(returned_key)
        .annotate(units=_RETURNED_UNITS)
        .values_list(returned_key, "units")
    )
    inspected = {
        row[inspected_key]: row
        for row in standing_inspections()
        .filter(_period("rma__order__", since, until, channel_code))
        .values(inspected_key)
        .annotate(
            inspected=Sum("quantity"),
            restocked=Coalesce(Sum("quantity", filter=Q(disposition=Disposition.RESTOCK)), 0),
            damaged=Coalesce(Sum("quantity", filter=Q(grade__in=list(DAMAGE_GRADES))), 0),
        )
    }
    keys = sorted(
        set(shipped) | set(returned) | set(inspected), key=lambda key: (key is None, key or "")
    )
    rows = []
    for key in keys:
        base = shipped.get(key, 0) if shipped_key else shipped_total
        figures = inspected.get(key, {})
        rows.append(
            _figure_row(
                key or "unexpected",
                base,
                returned.get(key, 0),
                figures.get("inspected", 0),
                figures.get("restocked", 0),
                figures.get("damaged", 0),
            )
        )
    totals = _figure_row(
        "all",
        shipped_total,
        sum(returned.values()),
        sum(row["inspected"] for row in inspected.values()),
        sum(row["restocked"] for row in inspected.values()),
        sum(row["damaged"] for row in inspected.values()),
    )
    return {"by": by, "rows": rows, "totals": totals}


def _figure_row(key, shipped, returned, inspected, restocked, damaged) -> dict:
    return {
        "key": key,
        "shipped": shipped,
        "returned": returned,
        "return_rate": _ratio(returned, shipped),
        "inspected": inspected,
        "restocked": restocked,
        "recoverable_rate": _ratio(restocked, inspected),
        "damaged": damaged,
        "damage_rate": _ratio(damaged, inspected),
    }


def return_cycle_time(
    *, since: datetime | None = None, until: datetime | None = None, channel_code=None
) -> dict:
    """Authorization → first posted refund, over RMAs authorized in the period that have
    one: count, average and longest, in one query."""
    first_refund = (
        Refund.objects.filter(rma=OuterRef("pk"), state__in=POSTED_REFUND_STATES)
        .order_by("posted_at")
        .values("posted_at")[:1]
    )
    rmas = Rma.objects.all()
    if since:
        rmas = rmas.filter(authorized_at__gte=since)
    if until:
        rmas = rmas.filter(authorized_at__lt=until)
    if channel_code:
        rmas = rmas.filter(channel__code=channel_code)
    figures = (
        rmas.annotate(refunded_at=Subquery(first_refund, output_field=DateTimeField()))
        .filter(refunded_at__isnull=False)
        .annotate(
            cycle=ExpressionWrapper(
                F("refunded_at") - F("authorized_at"), output_field=DurationField()
            )
        )
        .aggregate(count=Count("pk"), average=Avg("cycle"), longest=Max("cycle"))
    )
    return figures


def channel_returns_to_match():
    """Channel returns refused (unknown order or SKU, more than shipped or paid), oldest
    first, until the channel's next delivery or a person settles them."""
    return UnmatchedChannelReturn.objects.filter(resolved_at__isnull=True).select_related("channel")


# --- what a change of a return rule would affect now (settings previews) ------------------


def return_policy_effect(*, channel, product_family: str, data: dict) -> list[str]:
    """Open RMAs the policy covers (of the channel; of the family's SKUs for a family row):
    one count. They keep the expected-by date they were given; refunds still to be posted
    use the new fee and timing."""
    if channel is None:
        return []
    rmas = Rma.objects.filter(channel=channel, state__in=OPEN_RMA_STATES)
    if product_family:
        rmas = rmas.filter(lines__sku__product_family=product_family).distinct()
    scope = f"{channel.code} {product_family}" if product_family else f"all of {channel.code}"
    window = data.get("window_days")
    lines = [
        f"This policy applies to {rmas.count()} open RMA(s) of {scope}: refunds not yet "
        "posted for them use the new fee and timing.",
        "Returns requested from now on are checked against "
        + (f"a {window}-day window." if window is not None else "the inherited window."),
    ]
    fee = data.get("restocking_fee_percent")
    if fee:
        lines.append(f"{fee} % of the item amount is kept unless the return is our fault.")
    return lines


def return_reason_effect(reason, *, active: bool) -> list[str]:
    """Open RMA lines giving this reason: one count."""
    if reason is None:
        return ["The next RMA can choose this reason."] if active else []
    open_lines = RmaLine.objects.filter(reason=reason, rma__state__in=OPEN_RMA_STATES).count()
    lines = [f"{open_lines} line(s) of open RMAs give this reason; they keep it."]
    if not active:
        lines.append("Inactive: the next RMA cannot choose it.")
    return lines
