"""Reads for the warehouse floor: the dashboard's figures and the short-picks queue.

Each figure is one query, whatever the number of waves, orders or pickers.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from fulfillment.models import PickTask, ShortPick, Wave
from orders.models import Order, OrderState

DONE = [PickTask.State.PICKED, PickTask.State.SHORT]
NOT_SHIPPED = [
    OrderState.RELEASED,
    OrderState.PICKING,
    OrderState.PACKED,
    OrderState.PARTIALLY_SHIPPED,
]


def _today_bounds(now: datetime | None) -> tuple[datetime, datetime]:
    local = timezone.localtime(now or timezone.now())
    start = datetime.combine(local.date(), time.min, tzinfo=local.tzinfo)
    return start, start + timedelta(days=1)


def todays_waves(*, location=None, now=None):
    """Waves created today or due at a cutoff today, with pick progress per wave:
    `lines_total`, `lines_picked` (picked or reported short) and the units behind them."""
    start, end = _today_bounds(now)
    live = ~Q(pick_lists__tasks__state=PickTask.State.CANCELLED)
    waves = (
        Wave.objects.filter(
            Q(created_at__gte=start, created_at__lt=end)
            | Q(cutoff_at__gte=start, cutoff_at__lt=end)
        )
        .select_related("location")
        .annotate(
            lines_total=Count("pick_lists__tasks", filter=live),
            lines_picked=Count("pick_lists__tasks", filter=Q(pick_lists__tasks__state__in=DONE)),
            units_total=Sum("pick_lists__tasks__quantity", filter=live),
            units_picked=Sum("pick_lists__tasks__quantity_picked", filter=live),
        )
        .order_by("-same_day", "cutoff_at", "pk")
    )
    return waves.filter(location=location) if location is not None else waves


def late_orders(*, location=None, now=None):
    """Orders past their ship-by and not (fully) shipped, the most overdue first."""
    orders = Order.objects.filter(state__in=NOT_SHIPPED, ship_by__lt=now or timezone.now())
    if location is not None:
        orders = orders.filter(
            lines__allocations__location=location, lines__allocations__active=True
        ).distinct()
    return orders.select_related("channel").order_by("ship_by", "pk")


@dataclass(frozen=True)
class PickerFigures:
    user_id: int
    username: str
    lines: int
    active_hours: int
    lines_per_hour: float


def picker_productivity(*, location=None, now=None) -> list[PickerFigures]:
    """Lines picked per hour per picker today: the lines each finished, over the clock
    hours in which they finished any (a picker who started at 14:00 is not measured
    against the whole day). Busiest first."""
    start, end = _today_bounds(now)
    tasks = PickTask.objects.filter(
        state__in=DONE, picked_at__gte=start, picked_at__lt=end, picked_by__isnull=False
    )
    if location is not None:
        tasks = tasks.filter(location=location)
    rows = (
        tasks.annotate(hour=TruncHour("picked_at"))
        .values("picked_by", "picked_by__" + get_user_model().USERNAME_FIELD, "hour")
        .annotate(lines=Count("pk"))
        .order_by()
    )
    totals: dict[int, list] = {}
    for row in rows:
        entry = totals.setdefault(
            row["picked_by"], [row["picked_by__" + get_user_model().USERNAME_FIELD], 0, 0]
        )
        entry[1] += row["lines"]
        entry[2] += 1
    figures = [
        PickerFigures(user_id, name, lines, hours, round(lines / hours, 1))
        for user_id, (name, lines, hours) in totals.items()
    ]
    return sorted(figures, key=lambda f: (-f.lines_per_hour, f.username))


def open_short_picks():
    """Short picks not resolved yet, for the short-picks queue."""
    return ShortPick.objects.filter(resolved_at__isnull=True).select_related(
        "task__sku", "task__order__channel", "task__location", "reported_by", "count"
    )
