"""The webhook connector against a real HTTP server on 127.0.0.1 (no mocked transport).

`LocalReceiver` is the receiving end used by the outbox, event and worker tests too.
"""

import hashlib
import hmac
import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from erp.connectors import DeliveryError, WebhookConnector
from erp.models import OutboxMessage
from tests.factories import EndpointFactory


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


class LocalReceiver:
    """A webhook receiver on 127.0.0.1 that records requests and answers as scripted.

    Requests are recorded when they arrive, before any delay or hold, so a test can see
    a request that is still being answered (or never will be).
    """

    def __init__(self):
        self.requests: list[ReceivedRequest] = []
        self.default_status = 200
        self.delay_seconds = 0.0
        self._statuses: list[int] = []
        self._holds = 0
        self._release = threading.Event()
        self._arrived = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def answer(self, *statuses: int) -> None:
        """The next requests get these statuses in turn; later ones get `default_status`."""
        self._statuses.extend(statuses)

    def hold_next(self, count: int = 1) -> None:
        """The next `count` requests get no answer until `release()`."""
        self._holds += count

    def release(self) -> None:
        self._release.set()

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> bool:
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.requests) >= count, timeout)

    def start(self) -> "LocalReceiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    def _record(self, request: ReceivedRequest) -> tuple[int, bool]:
        with self._arrived:
            self.requests.append(request)
            status = self._statuses.pop(0) if self._statuses else self.default_status
            held = self._holds > 0
            self._holds -= held
            self._arrived.notify_all()
        return status, held

    def _handler_class(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, held = receiver._record(
                    ReceivedRequest(self.path, dict(self.headers.items()), body)
                )
                if held:
                    receiver._release.wait(60)
                time.sleep(receiver.delay_seconds)
                reply = json.dumps({"status": status}).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except OSError:
                    pass  # the sender gave up (timeout) or died (killed worker)

            def log_message(self, format, *args):
                pass

        return Handler


@pytest.fixture
def receiver():
    receiver = LocalReceiver().start()
    yield receiver
    receiver.stop()


def unused_local_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


def outbox_message(endpoint, **fields) -> OutboxMessage:
    fields = {
        "topic": "availability.changed",
        "payload": {"sku": "SKU-00001", "available": 7},
        "dedupe_key": "availability:SKU-00001:1",
        "attempts": 1,
        **fields,
    }
    return OutboxMessage.objects.create(endpoint=endpoint, **fields)


def deliver(message) -> None:
    WebhookConnector(message.endpoint).deliver(message)


@pytest.fixture
def endpoint(db, receiver):
    return EndpointFactory(code="channel-hook", url=receiver.url)


def test_the_body_is_the_json_payload_and_headers_carry_key_and_topic(endpoint, receiver):
    payload = {"sku": "SKU-00001", "available": 7, "locations": {"WH01": 4, "WH02": 3}}
    message = outbox_message(endpoint, payload=payload)

    deliver(message)

    [request] = receiver.requests
    assert request.path == "/hook"
    assert request.json() == payload
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Idempotency-Key"] == "availability:SKU-00001:1"
    assert request.headers["X-ERP-Topic"] == "availability.changed"
    assert request.headers["X-ERP-Message-Id"] == str(message.pk)
    assert request.headers["X-ERP-Attempt"] == "1"
    assert "X-ERP-Signature" not in request.headers


def test_an_endpoint_with_a_secret_gets_an_hmac_sha256_signature_of_the_body(endpoint, receiver):
    endpoint.secret = "s3cret-shared-with-the-channel"
    endpoint.save()
    message = outbox_message(endpoint)

    deliver(message)

    [request] = receiver.requests
    expected = hmac.new(b"s3cret-shared-with-the-channel", request.body, hashlib.sha256)
    assert request.headers["X-ERP-Signature"] == f"sha256={expected.hexdigest()}"


def test_a_receiver_slower_than_the_timeout_is_a_retryable_failure(endpoint, receiver, settings):
    settings.OUTBOX_HTTP_TIMEOUT_SECONDS = 0.2
    receiver.delay_seconds = 1.0

    started = time.monotonic()
    with pytest.raises(DeliveryError, match="Timed out") as failure:
        deliver(outbox_message(endpoint))

    assert failure.value.retryable
    assert time.monotonic() - started < 0.9
    assert len(receiver.requests) == 1


def test_a_refused_connection_is_a_retryable_failure(endpoint):
    endpoint.url = unused_local_url()
    endpoint.save()

    with pytest.raises(DeliveryError, match="Connection failed") as failure:
        deliver(outbox_message(endpoint))

    assert failure.value.retryable


@pytest.mark.parametrize("status", [500, 502, 503, 429, 408])
def test_server_errors_and_try_later_answers_are_retryable(endpoint, receiver, status):
    receiver.answer(status)

    with pytest.raises(DeliveryError, match=f"HTTP {status}") as failure:
        deliver(outbox_message(endpoint))

    assert failure.value.retryable


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_other_client_errors_are_not_retryable(endpoint, receiver, status):
    receiver.answer(status)

    with pytest.raises(DeliveryError, match=f"HTTP {status}") as failure:
        deliver(outbox_message(endpoint))

    assert not failure.value.retryable


def test_an_error_keeps_the_start_of_the_receivers_answer_for_the_queue(endpoint, receiver):
    receiver.answer(400)

    with pytest.raises(DeliveryError) as failure:
        deliver(outbox_message(endpoint))

    assert str(failure.value) == 'HTTP 400: {"status": 400}'


def test_a_url_no_http_client_can_post_to_is_not_retryable(endpoint):
    endpoint.url = "ftp://127.0.0.1/inbox"
    endpoint.save()

    with pytest.raises(DeliveryError, match="Cannot post") as failure:
        deliver(outbox_message(endpoint))

    assert not failure.value.retryable
