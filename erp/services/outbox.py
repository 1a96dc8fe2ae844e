"""The outbox: write messages inside the business transaction, deliver after commit.

Delivery claims a message with a lease in a short transaction, calls the connector with
no transaction open, then records the outcome in another short transaction. A worker
killed mid-delivery leaves an expired lease that the sweeper (beat) picks up again; the
receiver sees the same `Idempotency-Key` and can drop the duplicate.
"""

import logging
import random
import uuid
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from erp import fastsql
from erp.connectors import DeliveryError, connector_for
from erp.errors import Conflict, NotFound, ValidationFailed
from erp.models import Endpoint, OutboxMessage
from erp.roles import require_permission

logger = logging.getLogger(__name__)


def _schedule_delivery(message_id: int, countdown: float = 0) -> None:
    from erp.tasks import deliver_outbox_message

    if countdown and settings.CELERY_TASK_ALWAYS_EAGER:
        return  # no worker to wait for a retry: the sweeper or a person retries it
    deliver_outbox_message.apply_async(args=[message_id], countdown=countdown)


def _schedule_delivery_after_commit(message_id: int, countdown: float = 0) -> None:
    """The message is committed, so a broker outage must not fail the caller's request:
    log it, and the sweeper (or `manage.py deliver_outbox`) delivers the message later."""
    try:
        _schedule_delivery(message_id, countdown)
    except Exception:
        logger.warning(
            "Could not queue delivery of outbox message %s; the sweeper will retry it.",
            message_id,
            exc_info=True,
        )


def _schedule_deliveries_after_commit(message_ids: list[int]) -> None:
    """Several messages committed by one transaction (a truck's manifest: a tracking upload
    and an e-mail per parcel) go to the broker as one task, not one publish each; the
    worker delivers them in turn, each with its own lease, outcome and retries."""
    if len(message_ids) == 1:
        _schedule_delivery_after_commit(message_ids[0])
        return
    from erp.tasks import deliver_outbox_messages

    try:
        deliver_outbox_messages.apply_async(args=[message_ids])
    except Exception:
        logger.warning(
            "Could not queue delivery of outbox messages %s; the sweeper will retry them.",
            message_ids,
            exc_info=True,
        )


def _resolve_endpoint(endpoint: Endpoint | str) -> Endpoint:
    if not isinstance(endpoint, str):
        return endpoint
    try:
        return Endpoint.objects.get(code=endpoint)
    except Endpoint.DoesNotExist:
        raise NotFound(f"Unknown endpoint {endpoint}.", field="endpoint") from None


def enqueue_message(
    *, topic: str, endpoint: Endpoint | str, payload: dict, dedupe_key: str
) -> OutboxMessage:
    """Add a message to the outbox in the caller's transaction; delivery starts after commit.

    The dedupe key is unique: enqueueing the same key twice keeps the first message.
    """
    [message] = enqueue_messages(
        [{"topic": topic, "endpoint": endpoint, "payload": payload, "dedupe_key": dedupe_key}]
    )
    return message


def enqueue_messages(messages: list[dict]) -> list[OutboxMessage]:
    """Add several messages (each `topic`, `endpoint`, `payload`, `dedupe_key`) with one
    INSERT … ON CONFLICT DO NOTHING: no savepoint, no read first. A key already in the
    outbox keeps its first message (returned in its place); delivery starts after commit."""
    rows = [
        OutboxMessage(
            dedupe_key=message["dedupe_key"],
            topic=message["topic"],
            endpoint=_resolve_endpoint(message["endpoint"]),
            payload=message["payload"],
        )
        for message in messages
    ]
    if len({row.dedupe_key for row in rows}) != len(rows):
        raise ValueError("Two messages of one call share a dedupe key.")
    written = [row.pk for row in fastsql.insert_new(rows, key="dedupe_key")]
    if written:
        transaction.on_commit(partial(_schedule_deliveries_after_commit, written))
    taken = [row.dedupe_key for row in rows if row.pk is None]
    if taken:
        existing = OutboxMessage.objects.in_bulk(taken, field_name="dedupe_key")
        rows = [existing[row.dedupe_key] if row.pk is None else row for row in rows]
    return rows


@transaction.atomic(savepoint=False)
def coalesce_message(
    *, topic: str, endpoint: Endpoint | str, payload: dict, coalesce_key: str
) -> OutboxMessage:
    """Keep one unsent message per `coalesce_key`, carrying the latest payload.

    Many changes before delivery become one message with the newest figure. A message
    that was already attempted keeps its payload: the receiver may have seen its
    Idempotency-Key with that body, and would drop (or refuse) the same key with another
    body. It is superseded instead, and the new figure goes out under a new key.
    """
    endpoint = _resolve_endpoint(endpoint)
    waiting = list(
        OutboxMessage.objects.select_for_update()
        .filter(
            topic=topic,
            endpoint=endpoint,
            state=OutboxMessage.State.PENDING,
            dedupe_key__startswith=f"{coalesce_key}:",
        )
        .order_by("pk")
    )
    unsent = [message for message in waiting if message.attempts == 0]
    keep = unsent[-1] if unsent else None
    for stale in waiting:
        if stale is not keep:
            stale.state = OutboxMessage.State.DISCARDED
            stale.resolution_note = f"Superseded by a newer {topic} for {coalesce_key}."
            stale.save(update_fields=["state", "resolution_note"])
    if keep:
        keep.payload = payload
        keep.save(update_fields=["payload"])
        return keep
    stamp = f"{timezone.now():%Y%m%dT%H%M%S.%f}-{uuid.uuid4().hex[:8]}"
    return enqueue_message(
        topic=topic, endpoint=endpoint, payload=payload, dedupe_key=f"{coalesce_key}:{stamp}"
    )


def _due(now) -> Q:
    """Pending and due, or delivering with a lease its worker no longer holds."""
    return Q(state=OutboxMessage.State.PENDING, next_attempt_at__lte=now) | Q(
        state=OutboxMessage.State.DELIVERING, lease_expires_at__lt=now
    )


def _claim(message_id: int) -> OutboxMessage | None:
    """Take the lease on a due message, or None if it is not ours to deliver now.

    Returns the message `delivering` under our lease, or `failed` when its last attempt
    was abandoned (worker lost) and the attempt budget is spent.
    """
    now = timezone.now()
    with transaction.atomic():
        # of=("self",): lock only the message. Locking the joined endpoint row too would
        # make SKIP LOCKED skip every message of an endpoint another worker is claiming.
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(_due(now), pk=message_id)
            .first()
        )
        if message is None:
            return None
        abandoned = message.state == OutboxMessage.State.DELIVERING
        if abandoned and message.attempts >= _max_attempts(message.endpoint):
            _dead_letter_abandoned(message, now)
            return message
        # The row is locked, so counting in Python is safe and saves a re-read.
        message.state = OutboxMessage.State.DELIVERING
        message.attempts += 1
        message.lease_expires_at = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
        message.save(update_fields=["state", "attempts", "lease_expires_at"])
        return message


def _dead_letter_abandoned(message: OutboxMessage, now) -> None:
    """A message whose delivery kills the worker every time must still reach the dead
    letters, instead of being picked up again forever."""
    message.state, message.failed_at, message.lease_expires_at = (
        OutboxMessage.State.FAILED,
        now,
        None,
    )
    message.last_error = (
        f"Worker lost during attempt {message.attempts}, the last one allowed. {message.last_error}"
    ).strip()
    message.save(update_fields=["state", "failed_at", "lease_expires_at", "last_error"])


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with ±20 % jitter: base · 2^(attempts−1), capped at the maximum."""
    # The exponent is bounded so a large attempt budget cannot overflow the float.
    delay = settings.OUTBOX_BACKOFF_BASE_SECONDS * 2.0 ** min(max(attempts - 1, 0), 64)
    delay = min(delay, settings.OUTBOX_BACKOFF_MAX_SECONDS)
    return min(delay * random.uniform(0.8, 1.2), settings.OUTBOX_BACKOFF_MAX_SECONDS)


def _max_attempts(endpoint: Endpoint) -> int:
    return endpoint.max_attempts or settings.OUTBOX_MAX_ATTEMPTS


def deliver_message(*, message_id: int) -> str:
    """Deliver one outbox message; returns the state it ends in (or 'skipped')."""
    message = _claim(message_id)
    if message is None:
        return "skipped"
    if message.state != OutboxMessage.State.DELIVERING:
        return message.state
    if not message.endpoint.active:
        error = DeliveryError(f"Endpoint {message.endpoint.code} is inactive.", retryable=False)
    else:
        try:
            connector_for(message.endpoint).deliver(message)
            error = None
        except DeliveryError as failure:
            error = failure
        except Exception as failure:  # a connector bug must not lose the message
            error = DeliveryError(f"{type(failure).__name__}: {failure}")
    return _record_outcome(message, error)


def _record_outcome(message: OutboxMessage, error: DeliveryError | None) -> str:
    now = timezone.now()
    with transaction.atomic():
        locked = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        if locked.state != OutboxMessage.State.DELIVERING or locked.attempts != message.attempts:
            return "skipped"  # our lease expired and another worker took over
        locked.lease_expires_at = None
        if error is None:
            locked.state, locked.delivered_at, locked.last_error = (
                OutboxMessage.State.DELIVERED,
                now,
                "",
            )
        elif not error.retryable or locked.attempts >= _max_attempts(message.endpoint):
            locked.state, locked.failed_at, locked.last_error = (
                OutboxMessage.State.FAILED,
                now,
                str(error),
            )
        else:
            delay = backoff_seconds(locked.attempts)
            locked.state, locked.last_error = OutboxMessage.State.PENDING, str(error)
            locked.next_attempt_at = now + timedelta(seconds=delay)
            transaction.on_commit(partial(_schedule_delivery_after_commit, locked.pk, delay))
        locked.save(
            update_fields=[
                "state",
                "lease_expires_at",
                "delivered_at",
                "failed_at",
                "last_error",
                "next_attempt_at",
            ]
        )
        return locked.state


def _due_message_ids(limit: int) -> list[int]:
    return list(
        OutboxMessage.objects.filter(_due(timezone.now()))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def dispatch_due_messages(*, limit: int = 500) -> int:
    """Queue delivery of every due message (pending and due, or with an expired lease)."""
    due = _due_message_ids(limit)
    for message_id in due:
        _schedule_delivery(message_id)
    return len(due)


def deliver_due_messages(*, limit: int = 500) -> dict[str, int]:
    """Deliver every due message now, in this process; for when no worker runs.

    Returns how many messages ended in each state ('skipped': another worker had it).
    """
    outcomes: dict[str, int] = {}
    for message_id in _due_message_ids(limit):
        outcome = deliver_message(message_id=message_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def _locked_failed_message(message_id: int) -> OutboxMessage:
    message = OutboxMessage.objects.select_for_update().filter(pk=message_id).first()
    if message is None:
        raise NotFound("No such outbox message.")
    if message.state != OutboxMessage.State.FAILED:
        raise Conflict(
            f"Only failed messages can be retried or discarded (this one is {message.state}).",
            field="state",
        )
    return message


@transaction.atomic
def retry_message(*, message_id: int, actor, note: str = "") -> OutboxMessage:
    """Put a dead-lettered message back in the outbox with a fresh attempt budget."""
    [message] = retry_messages(message_ids=[message_id], actor=actor, note=note)
    return message


@transaction.atomic
def retry_messages(*, message_ids: list[int], actor, note: str = "") -> list[OutboxMessage]:
    """Put dead-lettered messages back in the outbox with a fresh attempt budget, all or
    none: one message that is gone or not failed refuses the whole set. Rows are locked
    in id order, so two people retrying overlapping sets cannot deadlock."""
    require_permission(actor, "erp.change_outboxmessage", action="retry integration messages")
    wanted = sorted(set(message_ids))
    messages = list(OutboxMessage.objects.select_for_update().filter(pk__in=wanted).order_by("pk"))
    if len(messages) != len(wanted):
        raise NotFound("No such outbox message.")
    for message in messages:
        if message.state != OutboxMessage.State.FAILED:
            raise Conflict(
                "Only failed messages can be retried or discarded "
                f"(message {message.pk} is {message.state}).",
                field="state",
            )
    now = timezone.now()
    for message in messages:
        message.state, message.attempts, message.next_attempt_at = (
            OutboxMessage.State.PENDING,
            0,
            now,
        )
        message.failed_at, message.resolved_by = None, actor
        message.resolution_note = note or f"retried by {actor.get_username()}"
    OutboxMessage.objects.bulk_update(
        messages,
        ["state", "attempts", "next_attempt_at", "failed_at", "resolved_by", "resolution_note"],
    )
    for message in messages:
        transaction.on_commit(partial(_schedule_delivery_after_commit, message.pk))
    return messages


@transaction.atomic
def discard_message(*, message_id: int, actor, note: str) -> OutboxMessage:
    """Give up on a dead-lettered message, saying why."""
    require_permission(actor, "erp.change_outboxmessage", action="discard integration messages")
    if not note.strip():
        raise ValidationFailed("Say why the message is discarded.", field="note", code="required")
    message = _locked_failed_message(message_id)
    message.state, message.resolved_by, message.resolution_note = (
        OutboxMessage.State.DISCARDED,
        actor,
        note,
    )
    message.save(update_fields=["state", "resolved_by", "resolution_note"])
    return message


def purge_delivered_messages(*, older_than_days: int = 30) -> int:
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = OutboxMessage.objects.filter(
        state=OutboxMessage.State.DELIVERED, delivered_at__lt=cutoff
    ).delete()
    return deleted
