"""SLA: a released order the node has not confirmed shipped within its channel's window
escalates into the orders-past-SLA queue (the orders app's, keyed on `escalated_at`)."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from erp.models import Channel
from fulfillment.models import ChannelFulfillmentPolicy
from orders.models import Order, OrderState
from orders.services.sla import mark_escalated

UNCONFIRMED = [OrderState.RELEASED, OrderState.PICKING, OrderState.PACKED]
DEFAULT_WINDOW_HOURS = ChannelFulfillmentPolicy._meta.get_field("confirm_window_hours").default


def escalate_unconfirmed(*, now=None) -> int:
    """Escalate every order released longer ago than its channel's confirmation window and
    not shipped (set-based); returns how many were escalated now."""
    now = now or timezone.now()
    windows = dict(
        ChannelFulfillmentPolicy.objects.values_list("channel_id", "confirm_window_hours")
    )
    # One condition per channel (a handful), each with its own window.
    overdue = Q()
    for channel_id in Channel.objects.values_list("pk", flat=True):
        hours = windows.get(channel_id, DEFAULT_WINDOW_HOURS)
        overdue |= Q(channel_id=channel_id, released_at__lt=now - timedelta(hours=hours))
    late = list(
        Order.objects.filter(overdue, state__in=UNCONFIRMED, escalated_at__isnull=True).values_list(
            "pk", "channel_id"
        )
    )
    if not late:
        return 0
    return mark_escalated(
        {
            pk: "Not confirmed shipped within "
            f"{windows.get(channel_id, DEFAULT_WINDOW_HOURS)} h of release"
            for pk, channel_id in late
        },
        now=now,
    )
