"""The outbox service on the real database, delivering to a real HTTP server on 127.0.0.1.

Celery runs eagerly here (as in development without a broker), so "scheduling a
delivery" runs it in this process; tests/erp/test_celery_worker.py uses a real worker.
"""

import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from erp.errors import Conflict, NotFound, NotPermitted, ValidationFailed
from erp.models import Endpoint, OutboxMessage
from erp.queues import get_queue
from erp.selectors import failed_outbox_messages
from erp.services.outbox import (
    backoff_seconds,
    coalesce_message,
    deliver_message,
    discard_message,
    dispatch_due_messages,
    enqueue_message,
    retry_message,
)
from erp.tasks import deliver_outbox_message
from tests.erp.test_webhook_connector import LocalReceiver
from tests.factories import EndpointFactory


@pytest.fixture(autouse=True)
def deliver_in_process(settings):
    # Never leave tasks on a real broker from these tests, whatever CELERY_BROKER_URL says.
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def receiver():
    receiver = LocalReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def endpoint(db, receiver):
    return EndpointFactory(code="channel-hook", url=receiver.url)


def pending_message(endpoint, *, key="availability:SKU-00001:1", payload=None) -> OutboxMessage:
    """A committed-looking message whose delivery has not run (no worker picked it up)."""
    return enqueue_message(
        topic="availability.changed",
        endpoint=endpoint,
        payload=payload or {"sku": "SKU-00001", "available": 7},
        dedupe_key=key,
    )


def let_backoff_pass(message: OutboxMessage) -> None:
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())


def dead_letter(endpoint, receiver, *, key="availability:SKU-00001:1") -> OutboxMessage:
    receiver.answer(400)
    message = pending_message(endpoint, key=key)
    assert deliver_message(message_id=message.pk) == OutboxMessage.State.FAILED
    return message


def reload(message: OutboxMessage) -> OutboxMessage:
    return OutboxMessage.objects.get(pk=message.pk)


# Enqueueing


def test_an_enqueued_message_is_delivered_only_after_the_transaction_commits(
    endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            message = pending_message(endpoint)
            assert receiver.requests == []
        assert receiver.requests == []
        assert reload(message).state == OutboxMessage.State.PENDING

    assert len(callbacks) == 1
    assert reload(message).state == OutboxMessage.State.DELIVERED
    assert [request.json() for request in receiver.requests] == [
        {"sku": "SKU-00001", "available": 7}
    ]


def test_a_rolled_back_transaction_leaves_no_message_and_sends_nothing(
    endpoint, receiver, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        pending_message(endpoint)
        raise RuntimeError("the business operation failed")

    assert callbacks == []
    assert not OutboxMessage.objects.exists()
    assert receiver.requests == []


def test_enqueueing_the_same_dedupe_key_twice_keeps_the_first_message(
    endpoint, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        first = pending_message(endpoint, payload={"available": 7})
        second = pending_message(endpoint, payload={"available": 5})

    assert second.pk == first.pk
    assert OutboxMessage.objects.count() == 1
    assert reload(first).payload == {"available": 7}
    assert len(callbacks) == 1


def test_enqueueing_to_an_unknown_endpoint_code_is_refused(db):
    with pytest.raises(NotFound) as refusal:
        pending_message("no-such-endpoint")

    assert refusal.value.errors[0].field == "endpoint"
    assert not OutboxMessage.objects.exists()


def test_a_message_can_name_its_endpoint_by_code(endpoint):
    assert pending_message("channel-hook").endpoint == endpoint


# Coalescing


def coalesce(endpoint, available: int) -> OutboxMessage:
    return coalesce_message(
        topic="availability.changed",
        endpoint=endpoint,
        payload={"sku": "SKU-00001", "available": available},
        coalesce_key="availability:SKU-00001",
    )


def test_coalescing_keeps_one_pending_message_per_key_with_the_latest_payload(
    endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        messages = [coalesce(endpoint, available) for available in (7, 5, 3)]

    assert {message.pk for message in messages} == {messages[0].pk}
    assert OutboxMessage.objects.count() == 1
    assert len(callbacks) == 1
    assert [request.json()["available"] for request in receiver.requests] == [3]


def test_coalescing_keys_are_independent(endpoint):
    coalesce(endpoint, 7)
    coalesce_message(
        topic="availability.changed",
        endpoint=endpoint,
        payload={"sku": "SKU-00002", "available": 1},
        coalesce_key="availability:SKU-00002",
    )

    assert OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING).count() == 2


def test_coalescing_after_delivery_starts_a_new_message(endpoint, receiver):
    delivered = coalesce(endpoint, 7)
    deliver_message(message_id=delivered.pk)

    later = coalesce(endpoint, 6)

    assert later.pk != delivered.pk
    assert later.dedupe_key != delivered.dedupe_key
    assert reload(delivered).payload["available"] == 7
    assert later.payload["available"] == 6


def test_coalescing_never_changes_the_body_of_a_message_already_attempted(endpoint, receiver):
    # The receiver may have processed the first attempt (and only failed to answer): the
    # same Idempotency-Key with another body would be dropped as a duplicate or refused.
    receiver.answer(503)
    attempted = coalesce(endpoint, 7)
    assert deliver_message(message_id=attempted.pk) == OutboxMessage.State.PENDING

    newer = coalesce(endpoint, 4)

    assert newer.pk != attempted.pk
    attempted = reload(attempted)
    assert attempted.payload["available"] == 7
    assert attempted.state == OutboxMessage.State.DISCARDED
    assert "Superseded" in attempted.resolution_note
    assert deliver_message(message_id=newer.pk) == OutboxMessage.State.DELIVERED
    assert receiver.requests[-1].json()["available"] == 4
    assert receiver.requests[-1].headers["Idempotency-Key"] == newer.dedupe_key


def test_coalescing_works_outside_a_transaction(transactional_db, receiver):
    endpoint = EndpointFactory(code="channel-hook", url=receiver.url)

    message = coalesce(endpoint, 7)

    # Autocommit: the message committed at once and its delivery ran right after.
    assert reload(message).state == OutboxMessage.State.DELIVERED


# Delivering


def test_a_successful_delivery_marks_the_message_delivered(endpoint, django_assert_num_queries):
    message = pending_message(endpoint)

    with django_assert_num_queries(8):  # claim and outcome: savepoint, lock, update, release
        outcome = deliver_message(message_id=message.pk)

    message = reload(message)
    assert outcome == message.state == OutboxMessage.State.DELIVERED
    assert message.attempts == 1
    assert message.delivered_at is not None
    assert message.lease_expires_at is None
    assert message.last_error == ""


def test_a_retryable_failure_puts_the_message_back_with_exponentially_growing_backoff(
    endpoint, receiver, settings
):
    settings.OUTBOX_BACKOFF_BASE_SECONDS = 10
    receiver.default_status = 503
    message = pending_message(endpoint)

    delays = []
    for _ in range(3):
        let_backoff_pass(message)
        failed_at = timezone.now()
        assert deliver_message(message_id=message.pk) == OutboxMessage.State.PENDING
        message = reload(message)
        delays.append((message.next_attempt_at - failed_at).total_seconds())

    # base · 2^(attempt−1), ±20 % jitter: 8–12 s, then 16–24 s, then 32–48 s.
    for attempt, delay in enumerate(delays, start=1):
        expected = 10 * 2 ** (attempt - 1)
        assert 0.8 * expected - 1 <= delay <= 1.2 * expected + 1
    assert delays[0] < delays[1] < delays[2]
    assert message.attempts == 3
    assert message.lease_expires_at is None
    assert message.last_error.startswith("HTTP 503")


def test_a_message_waiting_for_its_backoff_is_not_delivered_early(endpoint, receiver):
    receiver.answer(503)
    message = pending_message(endpoint)
    deliver_message(message_id=message.pk)

    assert deliver_message(message_id=message.pk) == "skipped"
    assert dispatch_due_messages() == 0
    assert len(receiver.requests) == 1


def test_a_message_the_receiver_refuses_with_400_is_dead_lettered_at_once(endpoint, receiver):
    message = dead_letter(endpoint, receiver)

    message = reload(message)
    assert message.attempts == 1
    assert message.failed_at is not None
    assert message.last_error.startswith("HTTP 400")
    assert list(failed_outbox_messages()) == [message]
    queue = get_queue("integration-failures")
    assert list(queue.selector()) == [message]
    assert queue.summary()["count"] == 1


def test_after_its_last_attempt_a_message_is_dead_lettered(endpoint, receiver, settings):
    settings.OUTBOX_BACKOFF_BASE_SECONDS = 0
    endpoint.max_attempts = 3
    endpoint.save()
    receiver.default_status = 500
    message = pending_message(endpoint)

    outcomes = [deliver_message(message_id=message.pk) for _ in range(3)]

    assert outcomes == ["pending", "pending", "failed"]
    assert len(receiver.requests) == 3
    message = reload(message)
    assert message.attempts == 3
    assert message.last_error.startswith("HTTP 500")
    assert message in failed_outbox_messages()
    assert message in get_queue("integration-failures").selector()


def test_the_global_attempt_budget_applies_when_the_endpoint_sets_none(
    endpoint, receiver, settings
):
    settings.OUTBOX_BACKOFF_BASE_SECONDS = 0
    settings.OUTBOX_MAX_ATTEMPTS = 2
    receiver.default_status = 500
    message = pending_message(endpoint)

    outcomes = [deliver_message(message_id=message.pk) for _ in range(2)]

    assert outcomes == ["pending", "failed"]


def test_messages_to_an_inactive_endpoint_are_dead_lettered_without_sending(endpoint, receiver):
    endpoint.active = False
    endpoint.save()
    message = pending_message(endpoint)

    assert deliver_message(message_id=message.pk) == OutboxMessage.State.FAILED
    assert receiver.requests == []
    assert "inactive" in reload(message).last_error


def test_backoff_is_capped_even_for_a_huge_attempt_budget(settings):
    settings.OUTBOX_BACKOFF_MAX_SECONDS = 3600

    assert backoff_seconds(5000) <= 3600
    assert backoff_seconds(5000) >= 0.8 * 3600


# Leases: a worker that died mid-delivery


def abandon(message: OutboxMessage, *, lease_seconds_left: float, attempts: int = 1) -> None:
    """Leave the message as a worker that claimed it and then died would."""
    OutboxMessage.objects.filter(pk=message.pk).update(
        state=OutboxMessage.State.DELIVERING,
        attempts=attempts,
        lease_expires_at=timezone.now() + timedelta(seconds=lease_seconds_left),
    )


def test_a_message_whose_lease_expired_is_picked_up_by_the_sweeper(endpoint, receiver):
    message = pending_message(endpoint)
    abandon(message, lease_seconds_left=-1)

    assert dispatch_due_messages() == 1

    message = reload(message)
    assert message.state == OutboxMessage.State.DELIVERED
    assert message.attempts == 2
    [request] = receiver.requests
    assert request.headers["Idempotency-Key"] == message.dedupe_key
    assert request.headers["X-ERP-Attempt"] == "2"


def test_a_message_under_a_live_lease_is_left_to_its_worker(endpoint, receiver):
    message = pending_message(endpoint)
    abandon(message, lease_seconds_left=60)

    assert dispatch_due_messages() == 0
    assert deliver_message(message_id=message.pk) == "skipped"

    assert reload(message).state == OutboxMessage.State.DELIVERING
    assert receiver.requests == []


def test_a_message_abandoned_on_its_last_attempt_is_dead_lettered_not_retried_forever(
    endpoint, receiver, settings
):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    message = pending_message(endpoint)
    abandon(message, lease_seconds_left=-1, attempts=3)

    assert dispatch_due_messages() == 1

    message = reload(message)
    assert message.state == OutboxMessage.State.FAILED
    assert message.attempts == 3
    assert "Worker lost" in message.last_error
    assert receiver.requests == []
    assert message in failed_outbox_messages()


# The broker


def test_a_broker_outage_at_commit_neither_fails_the_caller_nor_loses_the_message(
    transactional_db, receiver, monkeypatch
):
    endpoint = EndpointFactory(code="channel-hook", url=receiver.url)

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with monkeypatch.context() as patch:
        patch.setattr(deliver_outbox_message, "apply_async", broker_down)
        with transaction.atomic():
            message = pending_message(endpoint)

    assert reload(message).state == OutboxMessage.State.PENDING
    assert dispatch_due_messages() == 1
    assert reload(message).state == OutboxMessage.State.DELIVERED


# The delivery command (no worker running)


def test_deliver_outbox_command_delivers_due_messages_in_process(endpoint, receiver, capsys):
    receiver.answer(200, 503)
    pending_message(endpoint, key="availability:SKU-00001:1")
    pending_message(endpoint, key="availability:SKU-00002:1")

    call_command("deliver_outbox")

    assert capsys.readouterr().out == "Outbox: 1 delivered, 1 pending.\n"
    assert len(receiver.requests) == 2


def test_deliver_outbox_command_says_when_nothing_is_due(db, capsys):
    call_command("deliver_outbox")

    assert capsys.readouterr().out == "No outbox messages due.\n"


# Resolving dead letters


def test_a_manager_retries_a_dead_letter_with_a_fresh_attempt_budget(
    endpoint, receiver, manager, django_capture_on_commit_callbacks
):
    message = dead_letter(endpoint, receiver)

    with django_capture_on_commit_callbacks(execute=True):
        retry_message(message_id=message.pk, actor=manager, note="Channel fixed its SKU map")

    message = reload(message)
    assert message.state == OutboxMessage.State.DELIVERED
    assert message.attempts == 1
    assert message.resolved_by == manager
    assert message.resolution_note == "Channel fixed its SKU map"
    assert message not in failed_outbox_messages()
    assert [request.headers["Idempotency-Key"] for request in receiver.requests] == [
        message.dedupe_key,
        message.dedupe_key,
    ]


def test_a_manager_discards_a_dead_letter_saying_why(endpoint, receiver, manager):
    message = dead_letter(endpoint, receiver)

    discard_message(message_id=message.pk, actor=manager, note="SKU delisted on the channel")

    message = reload(message)
    assert message.state == OutboxMessage.State.DISCARDED
    assert message.resolved_by == manager
    assert message.resolution_note == "SKU delisted on the channel"
    assert not get_queue("integration-failures").selector().exists()


def test_a_warehouse_user_may_not_retry_or_discard_dead_letters(endpoint, receiver, warehouse_user):
    message = dead_letter(endpoint, receiver)

    with pytest.raises(NotPermitted):
        retry_message(message_id=message.pk, actor=warehouse_user)
    with pytest.raises(NotPermitted):
        discard_message(message_id=message.pk, actor=warehouse_user, note="not mine")

    assert reload(message).state == OutboxMessage.State.FAILED


def test_discarding_without_a_note_is_refused(endpoint, receiver, manager):
    message = dead_letter(endpoint, receiver)

    with pytest.raises(ValidationFailed) as refusal:
        discard_message(message_id=message.pk, actor=manager, note="  ")

    assert refusal.value.errors[0].field == "note"
    assert refusal.value.errors[0].code == "required"
    assert reload(message).state == OutboxMessage.State.FAILED


def test_only_dead_letters_can_be_retried_or_discarded(endpoint, manager):
    message = pending_message(endpoint)
    deliver_message(message_id=message.pk)

    with pytest.raises(Conflict):
        retry_message(message_id=message.pk, actor=manager)
    with pytest.raises(Conflict):
        discard_message(message_id=message.pk, actor=manager, note="already there")

    assert reload(message).state == OutboxMessage.State.DELIVERED


def test_retrying_an_unknown_message_is_not_found(manager):
    with pytest.raises(NotFound):
        retry_message(message_id=987654, actor=manager)


# Concurrency (PostgreSQL row locks, real threads)


def undelivered_message(endpoint) -> OutboxMessage:
    """A committed message nobody has delivered yet (its after-commit delivery never ran)."""
    return OutboxMessage.objects.create(
        topic="availability.changed",
        endpoint=endpoint,
        payload={"sku": "SKU-00001", "available": 7},
        dedupe_key="availability:SKU-00001:1",
    )


@contextmanager
def locked_by_another_transaction(queryset):
    locked, finished = threading.Event(), threading.Event()

    def hold_lock():
        try:
            with transaction.atomic():
                list(queryset.select_for_update())
                locked.set()
                finished.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        yield
    finally:
        finished.set()
        holder.join(10)


@pytest.mark.postgres
def test_a_worker_skips_a_message_another_worker_is_claiming_instead_of_waiting(
    transactional_db, receiver
):
    message = undelivered_message(EndpointFactory(code="channel-hook", url=receiver.url))

    with locked_by_another_transaction(OutboxMessage.objects.filter(pk=message.pk)):
        assert deliver_message(message_id=message.pk) == "skipped"

    assert receiver.requests == []
    assert reload(message).state == OutboxMessage.State.PENDING


@pytest.mark.postgres
def test_a_message_one_worker_is_delivering_is_not_sent_again_by_another(
    transactional_db, receiver
):
    message = undelivered_message(EndpointFactory(code="channel-hook", url=receiver.url))
    receiver.hold_next(1)
    outcomes = []

    def worker():
        try:
            outcomes.append(deliver_message(message_id=message.pk))
        finally:
            connection.close()

    first = threading.Thread(target=worker)
    first.start()
    try:
        assert receiver.wait_for_requests(1)
        worker()  # a second worker, while the first waits for the receiver
    finally:
        receiver.release()
        first.join(10)

    assert outcomes == ["skipped", "delivered"]
    assert len(receiver.requests) == 1


@pytest.mark.postgres
def test_a_message_is_claimed_while_another_transaction_locks_its_endpoint(
    transactional_db, receiver
):
    # Claiming must lock the message row only: with the endpoint row locked as well,
    # SKIP LOCKED would skip every message of an endpoint someone else holds.
    endpoint = EndpointFactory(code="channel-hook", url=receiver.url)
    message = undelivered_message(endpoint)

    with locked_by_another_transaction(Endpoint.objects.filter(pk=endpoint.pk)):
        assert deliver_message(message_id=message.pk) == OutboxMessage.State.DELIVERED

    assert len(receiver.requests) == 1


def test_messages_one_transaction_writes_go_to_the_broker_as_one_task_and_all_arrive(
    transactional_db, receiver, monkeypatch
):
    """A manifest's tracking uploads and e-mails: one publish for the lot after commit,
    each message still delivered with its own outcome."""
    from erp.services.outbox import enqueue_messages
    from erp.tasks import deliver_outbox_messages

    endpoint = EndpointFactory(code="channel-hook", url=receiver.url)
    published = []
    monkeypatch.setattr(
        deliver_outbox_messages,
        "apply_async",
        lambda args, **kwargs: published.append(list(args[0])),
    )
    with transaction.atomic():
        messages = enqueue_messages(
            [
                {
                    "topic": "tracking",
                    "endpoint": endpoint,
                    "payload": {"n": n},
                    "dedupe_key": f"t:{n}",
                }
                for n in range(3)
            ]
        )
        assert published == []  # nothing leaves before commit
    assert published == [[message.pk for message in messages]]
    assert all(reload(m).state == OutboxMessage.State.PENDING for m in messages)

    receiver.answer(200, 200, 503)
    assert deliver_outbox_messages(published[0]) == {"delivered": 2, "pending": 1}
    states = [reload(m).state for m in messages]
    assert states == [OutboxMessage.State.DELIVERED] * 2 + [OutboxMessage.State.PENDING]
