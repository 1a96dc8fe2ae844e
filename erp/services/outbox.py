"""The outbox: write messages inside the business transaction, deliver after commit.

Delivery claims a message with a lease in a short transaction, calls the connector with
no transaction open, then records the outcome in another short transaction. A worker
killed mid-delivery leaves an expired lease that the sweeper (beat) picks up again; the
receiver sees the same `Idempotency-Key` and can drop the duplicate.
"""

import random
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from erp.connectors import DeliveryError, connector_for
from erp.errors import Conflict, NotFound, ValidationFailed
from erp.models import Endpoint, OutboxMessage
from erp.roles import require_permission


def _schedule_delivery(message_id: int, countdown: float = 0) -> None:
    from erp.tasks import deliver_outbox_message

    if countdown and settings.CELERY_TASK_ALWAYS_EAGER:
        return  # no worker to wait for a retry: the sweeper or a person retries it
    deliver_outbox_message.apply_async(args=[message_id], countdown=countdown)


def enqueue_message(
    *, topic: str, endpoint: Endpoint | str, payload: dict, dedupe_key: str
) -> OutboxMessage:
    """Add a message to the outbox in the caller's transaction; delivery starts after commit.

    The dedupe key is unique: enqueueing the same key twice keeps the first message.
    """
    if isinstance(endpoint, str):
        try:
            endpoint = Endpoint.objects.get(code=endpoint)
        except Endpoint.DoesNotExist:
            raise NotFound(f"Unknown endpoint {endpoint}.", field="endpoint") from None
    message, created = OutboxMessage.objects.get_or_create(
        dedupe_key=dedupe_key, defaults={"topic": topic, "endpoint": endpoint, "payload": payload}
    )
    if created:
        transaction.on_commit(partial(_schedule_delivery, message.pk))
    return message


def coalesce_message(
    *, topic: str, endpoint: Endpoint, payload: dict, coalesce_key: str
) -> OutboxMessage:
    """Keep one undelivered message per `coalesce_key`, carrying the latest payload.

    Many changes before delivery become one message with the newest figure.
    """
    pending = (
        OutboxMessage.objects.select_for_update()
        .filter(
            topic=topic,
            endpoint=endpoint,
            state=OutboxMessage.State.PENDING,
            dedupe_key__startswith=f"{coalesce_key}:",
        )
        .first()
    )
    if pending:
        pending.payload = payload
        pending.save(update_fields=["payload"])
        return pending
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S.%f")
    return enqueue_message(
        topic=topic, endpoint=endpoint, payload=payload, dedupe_key=f"{coalesce_key}:{stamp}"
    )


def _claim(message_id: int) -> OutboxMessage | None:
    """Take the lease on a due message, or None if it is not ours to deliver now."""
    now = timezone.now()
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .select_related("endpoint")
            .filter(pk=message_id)
            .filter(
                Q(state=OutboxMessage.State.PENDING, next_attempt_at__lte=now)
                | Q(state=OutboxMessage.State.DELIVERING, lease_expires_at__lt=now)
            )
            .first()
        )
        if message is None:
            return None
        message.state = OutboxMessage.State.DELIVERING
        message.attempts = F("attempts") + 1
        message.lease_expires_at = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
        message.save(update_fields=["state", "attempts", "lease_expires_at"])
        message.refresh_from_db(fields=["attempts"])
        return message


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with jitter: base · 2^(attempts−1), capped."""
    delay = settings.OUTBOX_BACKOFF_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    delay = min(delay, settings.OUTBOX_BACKOFF_MAX_SECONDS)
    return delay * random.uniform(0.8, 1.2)


def _max_attempts(endpoint: Endpoint) -> int:
    return endpoint.max_attempts or settings.OUTBOX_MAX_ATTEMPTS


def deliver_message(*, message_id: int) -> str:
    """Deliver one outbox message; returns the state it ends in (or 'skipped')."""
    message = _claim(message_id)
    if message is None:
        return "skipped"
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
            transaction.on_commit(partial(_schedule_delivery, locked.pk, delay))
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


def dispatch_due_messages(*, limit: int = 500) -> int:
    """Queue delivery of every due message (pending and due, or with an expired lease)."""
    now = timezone.now()
    due = list(
        OutboxMessage.objects.filter(
            Q(state=OutboxMessage.State.PENDING, next_attempt_at__lte=now)
            | Q(state=OutboxMessage.State.DELIVERING, lease_expires_at__lt=now)
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for message_id in due:
        _schedule_delivery(message_id)
    return len(due)


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
    require_permission(actor, "erp.change_outboxmessage", action="retry integration messages")
    message = _locked_failed_message(message_id)
    message.state, message.attempts, message.next_attempt_at = (
        OutboxMessage.State.PENDING,
        0,
        timezone.now(),
    )
    message.failed_at, message.resolved_by = None, actor
    message.resolution_note = note or f"retried by {actor.get_username()}"
    message.save()
    transaction.on_commit(partial(_schedule_delivery, message.pk))
    return message


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
