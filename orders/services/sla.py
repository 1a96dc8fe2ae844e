"""SLA escalation: orders not released, or not shipped by their ship-by, become past-SLA."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from erp.models import Channel
from orders.models import Order, OrderEvent, OrderState

NOT_RELEASED = [
    OrderState.RECEIVED,
    OrderState.ON_HOLD,
    OrderState.READY,
    OrderState.ALLOCATED,
    OrderState.PARTIALLY_ALLOCATED,
    OrderState.BACKORDERED,
]
NOT_SHIPPED = [*NOT_RELEASED, OrderState.RELEASED, OrderState.PICKING, OrderState.PACKED]


def escalate_orders(*, now=None) -> int:
    """Mark every order past its channel's SLA (set-based); returns how many were new."""
    now = now or timezone.now()
    # One condition per channel (a handful): each has its own release window.
    not_released_in_time = Q()
    for channel_id, hours in Channel.objects.values_list("pk", "ship_by_sla_hours"):
        not_released_in_time |= Q(channel_id=channel_id, placed_at__lt=now - timedelta(hours=hours))
    late = Order.objects.filter(escalated_at__isnull=True).filter(
        (Q(state__in=NOT_RELEASED) & not_released_in_time)
        | Q(state__in=NOT_SHIPPED, ship_by__lt=now)
    )
    ids = list(late.values_list("pk", flat=True))
    return mark_escalated({order_id: "Past the channel's SLA" for order_id in ids}, now=now)


def mark_escalated(reasons: dict[int, str], *, now=None) -> int:
    """Escalate these orders into the orders-past-SLA queue (order id → why), each with a
    timeline row; orders already escalated stay as they were. Returns how many were new."""
    now = now or timezone.now()
    if not reasons:
        return 0
    fresh = list(
        Order.objects.filter(pk__in=list(reasons), escalated_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    if not fresh:
        return 0
    Order.objects.filter(pk__in=fresh).update(escalated_at=now)
    OrderEvent.objects.bulk_create(
        [OrderEvent(order_id=pk, kind="escalated", message=reasons[pk][:500]) for pk in fresh]
    )
    return len(fresh)
