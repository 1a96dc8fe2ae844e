"""Domain events: subscribers run inside the publisher's transaction (real commits)."""

import pytest
from django.db import transaction

from erp import events
from erp.events import DomainEvent, publish
from erp.models import Location, OutboxMessage, Sku
from erp.services.outbox import enqueue_message
from tests.erp.test_webhook_connector import LocalReceiver
from tests.factories import EndpointFactory, LocationFactory, SkuFactory

pytestmark = pytest.mark.usefixtures("transactional_db")


@pytest.fixture(autouse=True)
def deliver_in_process(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def subscribe():
    """Register handlers for one test only: the registry is global."""
    registered = []

    def register(event_name, handler):
        events.subscribe(event_name)(handler)
        registered.append((event_name, handler))
        return handler

    yield register
    for event_name, handler in registered:
        events.unsubscribe(event_name, handler)


@pytest.fixture
def receiver():
    receiver = LocalReceiver().start()
    yield receiver
    receiver.stop()


def sku_received() -> DomainEvent:
    return DomainEvent(name="test.sku_received", payload={"sku": "SKU-00001"})


def open_receiving_location(event):
    LocationFactory(code="RCV-01")


def test_a_subscriber_sees_the_callers_uncommitted_writes(subscribe):
    seen = []
    subscribe("test.sku_received", lambda event: seen.append(Sku.objects.get(code="SKU-00001")))

    with transaction.atomic():
        sku = SkuFactory(code="SKU-00001")
        publish(sku_received())

    assert seen == [sku]


def test_a_subscribers_write_is_rolled_back_when_the_caller_raises(subscribe):
    subscribe("test.sku_received", open_receiving_location)

    with pytest.raises(RuntimeError), transaction.atomic():
        publish(sku_received())
        assert Location.objects.filter(code="RCV-01").exists()
        raise RuntimeError("the caller fails after publishing")

    assert not Location.objects.filter(code="RCV-01").exists()


def test_a_subscribers_write_commits_with_the_caller(subscribe):
    subscribe("test.sku_received", open_receiving_location)

    with transaction.atomic():
        publish(sku_received())

    assert Location.objects.filter(code="RCV-01").exists()


def test_a_failing_subscriber_rolls_back_the_callers_write(subscribe):
    def refuse(event):
        raise ValueError("posting refused")

    subscribe("test.sku_received", refuse)

    with pytest.raises(ValueError), transaction.atomic():
        SkuFactory(code="SKU-00001")
        publish(sku_received())

    assert not Sku.objects.filter(code="SKU-00001").exists()


def test_subscribers_commit_or_roll_back_together_even_without_a_caller_transaction(subscribe):
    def refuse(event):
        raise ValueError("posting refused")

    subscribe("test.sku_received", open_receiving_location)
    subscribe("test.sku_received", refuse)

    with pytest.raises(ValueError):
        publish(sku_received())

    assert not Location.objects.filter(code="RCV-01").exists()


def test_an_outbox_message_written_by_a_subscriber_is_rolled_back_and_never_sent(
    subscribe, receiver
):
    endpoint = EndpointFactory(code="channel-hook", url=receiver.url)

    def tell_the_channel(event):
        enqueue_message(
            topic="sku.received",
            endpoint=endpoint,
            payload=event.payload,
            dedupe_key=f"sku-received:{event.payload['sku']}",
        )

    subscribe("test.sku_received", tell_the_channel)

    with pytest.raises(RuntimeError), transaction.atomic():
        publish(sku_received())
        raise RuntimeError("the caller fails after publishing")

    assert not OutboxMessage.objects.exists()
    assert receiver.requests == []

    with transaction.atomic():
        publish(sku_received())

    assert OutboxMessage.objects.get().state == OutboxMessage.State.DELIVERED
    assert [request.json() for request in receiver.requests] == [{"sku": "SKU-00001"}]


def test_wildcard_subscribers_hear_every_event_after_the_named_ones(subscribe):
    heard = []
    subscribe("*", lambda event: heard.append(("*", event.name)))
    subscribe("test.sku_received", lambda event: heard.append(("named", event.name)))

    publish(sku_received())
    publish(DomainEvent(name="test.other", payload={}))

    assert heard == [
        ("named", "test.sku_received"),
        ("*", "test.sku_received"),
        ("*", "test.other"),
    ]


def test_subscribing_the_same_handler_twice_runs_it_once(subscribe):
    calls = []

    def count(event):
        calls.append(event)

    subscribe("test.sku_received", count)
    subscribe("test.sku_received", count)

    publish(sku_received())

    assert len(calls) == 1
    assert events.subscribers("test.sku_received") == [count]
