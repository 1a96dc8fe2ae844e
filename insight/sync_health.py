"""Per-channel sync health: for each channel and direction, is the feed moving?

Directions: orders in (pushed by the channel), availability, tracking and refunds out
(outbox messages). Each row gives the last success, the backlog (messages waiting, or
refused payloads not yet dealt with), the oldest of them, failures in the last 24 h and
the last error; a row is *stale* when its oldest waiting item (or, for orders in, the
last order received) is older than the direction's threshold
(`settings.SYNC_STALE_MINUTES`).

Which outbox messages belong to which channel: availability messages carry the
channel's code; tracking uploads and refund confirmations are addressed to the
channel's configured endpoint with a topic naming the channel's kind
(`tracking.<kind>[.<step>]`, `refund.<kind>`). Two channels of one kind sharing one
tracking (or refund) endpoint therefore share those figures.

Everything is computed in a fixed number of grouped queries, whatever the number of
channels and messages.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Min, OuterRef, Q, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone

from erp.models import Channel, OutboxMessage
from fulfillment.models import ChannelFulfillmentPolicy
from inventory.services.availability import AVAILABILITY_TOPIC
from orders.models import IngestionError, Order
from returns.models import ReturnPolicy

ORDERS_IN = "orders_in"
AVAILABILITY_OUT = "availability_out"
TRACKING_OUT = "tracking_out"
REFUNDS_OUT = "refunds_out"
DIRECTIONS = {
    ORDERS_IN: "Orders in",
    AVAILABILITY_OUT: "Availability out",
    TRACKING_OUT: "Tracking out",
    REFUNDS_OUT: "Refunds out",
}
OUTBOUND = (AVAILABILITY_OUT, TRACKING_OUT, REFUNDS_OUT)
WAITING = (OutboxMessage.State.PENDING, OutboxMessage.State.DELIVERING)
DAY = timedelta(hours=24)


@dataclass
class DirectionHealth:
    channel: Channel
    direction: str
    configured: bool
    threshold: timedelta
    last_success: datetime | None = None
    backlog: int = 0
    oldest_pending: datetime | None = None
    failed: int = 0
    failures_24h: int = 0
    last_error: str = ""
    last_error_at: datetime | None = None
    stale: bool = False
    stale_reason: str = ""

    @property
    def label(self) -> str:
        return DIRECTIONS[self.direction]

    def as_dict(self) -> dict:
        return {
            "direction": self.direction,
            "label": self.label,
            "configured": self.configured,
            "threshold_minutes": int(self.threshold.total_seconds() // 60),
            "last_success": self.last_success,
            "backlog": self.backlog,
            "oldest_pending": self.oldest_pending,
            "failed": self.failed,
            "failures_24h": self.failures_24h,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
            "stale": self.stale,
            "stale_reason": self.stale_reason,
        }


@dataclass
class ChannelHealth:
    channel: Channel
    directions: list[DirectionHealth] = field(default_factory=list)

    @property
    def stale(self) -> bool:
        return any(row.stale for row in self.directions)

    @property
    def failed(self) -> int:
        return sum(row.failed for row in self.directions if row.direction in OUTBOUND)

    def direction(self, key: str) -> DirectionHealth:
        return next(row for row in self.directions if row.direction == key)


def stale_thresholds() -> dict[str, timedelta]:
    return {key: timedelta(minutes=settings.SYNC_STALE_MINUTES[key]) for key in DIRECTIONS}


@dataclass(frozen=True)
class _Routes:
    """Where each channel's outbound messages go: endpoint ids per direction."""

    tracking: dict[int, int]  # channel id → endpoint id
    refunds: dict[int, int]

    @classmethod
    def load(cls, channel_ids: list[int]) -> "_Routes":
        tracking = dict(
            ChannelFulfillmentPolicy.objects.filter(
                channel_id__in=channel_ids, tracking_endpoint__isnull=False
            ).values_list("channel_id", "tracking_endpoint_id")
        )
        refunds = dict(
            ReturnPolicy.objects.filter(
                channel_id__in=channel_ids, product_family="", refund_endpoint__isnull=False
            ).values_list("channel_id", "refund_endpoint_id")
        )
        return cls(tracking=tracking, refunds=refunds)


def _direction_of_topic(topic: str) -> tuple[str, str] | None:
    """(direction, channel kind or '') of an outbox topic; None if no channel's sync."""
    if topic == AVAILABILITY_TOPIC:
        return AVAILABILITY_OUT, ""
    prefix, _, rest = topic.partition(".")
    if prefix == "tracking" and rest:
        return TRACKING_OUT, rest.split(".", 1)[0]
    if prefix == "refund" and rest:
        return REFUNDS_OUT, rest
    return None


def _sync_topics() -> Q:
    return (
        Q(topic=AVAILABILITY_TOPIC)
        | Q(topic__startswith="tracking.")
        | Q(topic__startswith="refund.")
    )


def channel_messages(channel: Channel, routes: "_Routes | None" = None) -> Q:
    """The outbox messages that carry this channel's syncs (a filter on OutboxMessage)."""
    routes = routes or _Routes.load([channel.pk])
    condition = Q(topic=AVAILABILITY_TOPIC, payload__channel=channel.code)
    kind = channel.kind
    if channel.pk in routes.tracking:
        condition |= Q(endpoint_id=routes.tracking[channel.pk]) & (
            Q(topic=f"tracking.{kind}") | Q(topic__startswith=f"tracking.{kind}.")
        )
    if channel.pk in routes.refunds:
        condition |= Q(endpoint_id=routes.refunds[channel.pk], topic=f"refund.{kind}")
    return condition


def _outbox_figures(now) -> tuple[list[dict], dict[tuple, dict]]:
    """One grouped query for the counts, one DISTINCT ON query for the last errors."""
    grouped = (
        OutboxMessage.objects.filter(_sync_topics())
        .annotate(channel_code=KeyTextTransform("channel", "payload"))
        .values("endpoint_id", "topic", "channel_code")
        .annotate(
            last_success=Max("delivered_at"),
            backlog=Count("pk", filter=Q(state__in=WAITING)),
            oldest_pending=Min("created_at", filter=Q(state__in=WAITING)),
            failed=Count("pk", filter=Q(state=OutboxMessage.State.FAILED)),
            oldest_failed=Min("created_at", filter=Q(state=OutboxMessage.State.FAILED)),
            failures_24h=Count("pk", filter=Q(failed_at__gte=now - DAY)),
        )
        .order_by()
    )
    # The newest erring message of each (endpoint, topic, channel): the latest id per group
    # in a subquery (portable: SQLite has no DISTINCT ON).
    latest = (
        OutboxMessage.objects.filter(_sync_topics())
        .exclude(last_error="")
        .exclude(state=OutboxMessage.State.DELIVERED)
        .annotate(channel_code=KeyTextTransform("channel", "payload"))
        .values("endpoint_id", "topic", "channel_code")
        .annotate(newest=Max("pk"))
        .values("newest")
        .order_by()
    )
    errors = (
        OutboxMessage.objects.filter(pk__in=Subquery(latest))
        .annotate(channel_code=KeyTextTransform("channel", "payload"))
        .values("endpoint_id", "topic", "channel_code", "last_error", "failed_at", "created_at")
    )
    last_errors = {(row["endpoint_id"], row["topic"], row["channel_code"]): row for row in errors}
    return list(grouped), last_errors


def _owner(row: dict, channels_by_code: dict, routes: _Routes) -> tuple[int, str] | None:
    """(channel id, direction) a grouped outbox row belongs to, or None."""
    found = _direction_of_topic(row["topic"])
    if found is None:
        return None
    direction, kind = found
    if direction == AVAILABILITY_OUT:
        channel = channels_by_code.get(row["channel_code"])
        return (channel.pk, direction) if channel else None
    route = routes.tracking if direction == TRACKING_OUT else routes.refunds
    for channel in channels_by_code.values():
        if channel.kind == kind and route.get(channel.pk) == row["endpoint_id"]:
            return channel.pk, direction
    return None


def _merge_outbox(rows, last_errors, channels, routes) -> dict[tuple, dict]:
    channels_by_code = {channel.code: channel for channel in channels}
    merged: dict[tuple, dict] = {}
    for row in rows:
        owner = _owner(row, channels_by_code, routes)
        if owner is None:
            continue
        into = merged.setdefault(owner, {"backlog": 0, "failed": 0, "failures_24h": 0})
        for key in ("backlog", "failed", "failures_24h"):
            into[key] += row[key]
        for key in ("last_success",):
            into[key] = _latest(into.get(key), row[key])
        for key in ("oldest_pending", "oldest_failed"):
            into[key] = _earliest(into.get(key), row[key])
        error = last_errors.get((row["endpoint_id"], row["topic"], row["channel_code"]))
        if error:
            at = error["failed_at"] or error["created_at"]
            if into.get("last_error_at") is None or at > into["last_error_at"]:
                into["last_error"], into["last_error_at"] = error["last_error"], at
    return merged


def _latest(a, b):
    return max((value for value in (a, b) if value is not None), default=None)


def _earliest(a, b):
    return min((value for value in (a, b) if value is not None), default=None)


def _orders_figures(now) -> tuple[dict[int, datetime], dict[str, dict], dict[str, dict]]:
    last_orders = dict(
        Order.objects.values("channel_id")
        .annotate(last=Max("received_at"))
        .values_list("channel_id", "last")
    )
    refused = {
        row["channel_code"]: row
        for row in IngestionError.objects.values("channel_code")
        .annotate(
            backlog=Count("pk", filter=Q(resolved_at__isnull=True)),
            oldest_pending=Min("received_at", filter=Q(resolved_at__isnull=True)),
            failures_24h=Count("pk", filter=Q(received_at__gte=now - DAY)),
        )
        .order_by()
    }
    # The most recently received refusal of each channel (portable: no DISTINCT ON).
    newest_of_channel = (
        IngestionError.objects.filter(channel_code=OuterRef("channel_code"))
        .order_by("-received_at", "-pk")
        .values("pk")[:1]
    )
    newest_refusals = (
        IngestionError.objects.order_by()
        .values("channel_code")
        .distinct()
        .annotate(newest=Subquery(newest_of_channel))
        .values("newest")
    )
    last_refusals = {
        row["channel_code"]: row
        for row in IngestionError.objects.filter(pk__in=Subquery(newest_refusals)).values(
            "channel_code", "code", "field", "message", "received_at"
        )
    }
    return last_orders, refused, last_refusals


def _orders_in(channel, threshold, now, last_orders, refused, last_refusals) -> DirectionHealth:
    health = DirectionHealth(channel, ORDERS_IN, configured=channel.active, threshold=threshold)
    health.last_success = last_orders.get(channel.pk)
    figures = refused.get(channel.code, {})
    health.backlog = figures.get("backlog", 0)
    health.oldest_pending = figures.get("oldest_pending")
    health.failures_24h = figures.get("failures_24h", 0)
    health.failed = health.backlog
    error = last_refusals.get(channel.code)
    if error:
        where = f" ({error['field']})" if error["field"] else ""
        health.last_error = f"{error['code']}{where}: {error['message']}"
        health.last_error_at = error["received_at"]
    if health.oldest_pending and now - health.oldest_pending > threshold:
        health.stale, health.stale_reason = True, "refused payloads waiting past the threshold"
    elif channel.active and health.last_success and now - health.last_success > threshold:
        health.stale, health.stale_reason = True, "no order received within the threshold"
    return health


def _outbound(channel, direction, threshold, now, configured, figures) -> DirectionHealth:
    health = DirectionHealth(channel, direction, configured=configured, threshold=threshold)
    health.last_success = figures.get("last_success")
    health.backlog = figures.get("backlog", 0)
    health.oldest_pending = figures.get("oldest_pending")
    health.failed = figures.get("failed", 0)
    health.failures_24h = figures.get("failures_24h", 0)
    health.last_error = figures.get("last_error", "")
    health.last_error_at = figures.get("last_error_at")
    waiting_since = _earliest(health.oldest_pending, figures.get("oldest_failed"))
    if waiting_since and now - waiting_since > threshold:
        health.stale = True
        health.stale_reason = (
            "failed messages not delivered" if health.failed else "messages waiting too long"
        )
    return health


def channel_sync_health(now=None, *, channels=None) -> list[ChannelHealth]:
    """Every channel (or those given) with its four directions, in a fixed number of
    queries. Inactive channels are listed; their orders-in feed is not expected."""
    now = now or timezone.now()
    if channels is None:
        channels = list(Channel.objects.order_by("code"))
    channel_ids = [channel.pk for channel in channels]
    routes = _Routes.load(channel_ids)
    outbox_rows, last_errors = _outbox_figures(now)
    outbound = _merge_outbox(outbox_rows, last_errors, channels, routes)
    orders = _orders_figures(now)
    thresholds = stale_thresholds()
    result = []
    for channel in channels:
        configured = {
            AVAILABILITY_OUT: channel.availability_endpoint_id is not None,
            TRACKING_OUT: channel.pk in routes.tracking,
            REFUNDS_OUT: channel.pk in routes.refunds,
        }
        rows = [_orders_in(channel, thresholds[ORDERS_IN], now, *orders)]
        rows += [
            _outbound(
                channel,
                direction,
                thresholds[direction],
                now,
                configured[direction],
                outbound.get((channel.pk, direction), {}),
            )
            for direction in OUTBOUND
        ]
        result.append(ChannelHealth(channel, rows))
    return result


def stale_directions(now=None) -> list[DirectionHealth]:
    return [row for health in channel_sync_health(now) for row in health.directions if row.stale]


def tile_context(now=None) -> dict:
    """What the manager dashboard's sync-health tile shows."""
    healths = channel_sync_health(now)
    return {
        "sync_health": healths,
        "sync_stale_channels": [health for health in healths if health.stale],
        "sync_failed_messages": sum(health.failed for health in healths),
    }
