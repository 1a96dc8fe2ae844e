"""The outbox delivered by a real Celery worker process, through Redis, into PostgreSQL.

Each test gets its own queue name, so tasks left on the broker by other runs (or other
workers on the same Redis) never reach these workers, and these tasks reach no one else.
The worker talks to the pytest database, so tests use `transactional_db`: rows must be
committed for another process to see them.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection, transaction

from erp.models import OutboxMessage
from erp.services.outbox import dispatch_due_messages, enqueue_message
from tests.erp.test_webhook_connector import LocalReceiver
from tests.factories import EndpointFactory

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.usefixtures("transactional_db")]

CELERY = Path(sys.executable).with_name("celery")
WORKER_START_SECONDS = 20
DELIVERY_SECONDS = 20


def database_url() -> str:
    """The pytest database (test_…), as the worker must see it."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """One `celery worker` process (solo pool) consuming only `queue`."""

    def __init__(self, queue: str, log_path: Path, **env: str):
        self.log_path = log_path
        self.log = open(log_path, "wb")  # noqa: SIM115  closed in stop()
        self.process = subprocess.Popen(
            [
                str(CELERY),
                "-A",
                "erp",
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "-Q",
                queue,
                "-n",
                f"{log_path.stem}-{queue}@%h",  # forget_queue() finds it by the queue name
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            cwd=django_settings.BASE_DIR,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "erp.settings",
                "DATABASE_URL": database_url(),
                "CELERY_BROKER_URL": os.environ["CELERY_BROKER_URL"],
                **env,
            },
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as a whole
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + WORKER_START_SECONDS
        while time.monotonic() < deadline:
            if " ready." in self.output():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        pytest.fail(f"The Celery worker did not start:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a lost machine would: no cleanup runs."""
        self._signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)


@pytest.fixture
def worker_queue(settings):
    """A queue of our own: tasks sent from this process go there, and only there."""
    queue = f"erp-test-outbox-{uuid.uuid4().hex[:12]}"
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    yield queue
    forget_queue(queue)


def forget_queue(queue: str) -> None:
    """Remove what the broker keeps for the queue, including tasks a killed worker held."""
    broker = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
    for key in broker.scan_iter(match=f"{queue}*"):
        broker.delete(key)
    broker.delete(f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    for tag, entry in broker.hscan_iter("unacked"):
        if queue.encode() in entry:
            broker.hdel("unacked", tag)
            broker.zrem("unacked_index", tag)
    # The remote-control binding a killed worker could not remove itself.
    for member in broker.smembers("_kombu.binding.celery.pidbox"):
        if queue.encode() in member:
            broker.srem("_kombu.binding.celery.pidbox", member)


@pytest.fixture
def start_worker(worker_queue, tmp_path):
    workers = []

    def start(name: str, **env: str) -> Worker:
        worker = Worker(worker_queue, tmp_path / f"{name}.log", **env)
        workers.append(worker)
        worker.wait_until_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def receiver():
    receiver = LocalReceiver().start()
    yield receiver
    receiver.stop()


def wait_for_state(message, state, *, timeout=DELIVERY_SECONDS, worker=None) -> OutboxMessage:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message.refresh_from_db()
        if message.state == state:
            return message
        time.sleep(0.1)
    log = f"\nWorker log:\n{worker.output()}" if worker else ""
    pytest.fail(f"Message stayed {message.state} (attempts {message.attempts}).{log}")


def enqueue_committed(endpoint) -> OutboxMessage:
    with transaction.atomic():
        return enqueue_message(
            topic="availability.changed",
            endpoint=endpoint,
            payload={"sku": "SKU-00001", "available": 7},
            dedupe_key=f"availability:SKU-00001:{uuid.uuid4().hex[:8]}",
        )


def test_a_committed_message_is_delivered_by_the_worker(start_worker, receiver):
    assert not django_settings.CELERY_TASK_ALWAYS_EAGER
    worker = start_worker("worker")
    endpoint = EndpointFactory(code="channel-hook", url=receiver.url)

    message = enqueue_committed(endpoint)

    message = wait_for_state(message, OutboxMessage.State.DELIVERED, worker=worker)
    assert message.attempts == 1
    [request] = receiver.requests
    assert request.json() == {"sku": "SKU-00001", "available": 7}
    assert request.headers["Idempotency-Key"] == message.dedupe_key


def test_a_worker_killed_mid_delivery_does_not_lose_the_message(start_worker, receiver):
    lease_seconds = 2
    endpoint = EndpointFactory(code="channel-hook", url=receiver.url)
    receiver.hold_next(1)
    doomed = start_worker("doomed-worker", OUTBOX_LEASE_SECONDS=str(lease_seconds))

    message = enqueue_committed(endpoint)
    assert receiver.wait_for_requests(1, timeout=DELIVERY_SECONDS), doomed.output()
    doomed.kill()

    message.refresh_from_db()
    assert message.state == OutboxMessage.State.DELIVERING
    assert message.lease_expires_at is not None
    assert message.attempts == 1

    rescuer = start_worker("rescuer", OUTBOX_LEASE_SECONDS=str(lease_seconds))
    # The sweeper's round (beat runs it every 30 s) finds the message once the lease expires.
    deadline = time.monotonic() + lease_seconds + 5
    while dispatch_due_messages() == 0:
        assert time.monotonic() < deadline, "the dead worker's lease never expired"
        time.sleep(0.2)

    message = wait_for_state(message, OutboxMessage.State.DELIVERED, worker=rescuer)
    assert message.attempts == 2
    assert len(receiver.requests) == 2
    assert {request.headers["Idempotency-Key"] for request in receiver.requests} == {
        message.dedupe_key
    }
    assert [request.headers["X-ERP-Attempt"] for request in receiver.requests] == ["1", "2"]
