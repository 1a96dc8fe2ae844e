"""The daily manager digest: content, once a day, silence when all is clear, real e-mail."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db.models import Min
from django.utils import timezone

from erp import roles
from erp.models import OutboxMessage
from erp.queues import ExceptionQueue, register_queue
from erp.services.outbox import deliver_due_messages
from insight.digest import DIGEST_TOPIC, render_digest, send_daily_digests
from orders.models import IngestionError
from tests.factories import UserFactory
from tests.insight.sync_data import received_order, refused_payload, synced_channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def stale_shop():
    shop = synced_channel("SHOP")
    received_order(shop.channel, minutes_ago=5)
    shop.failed(shop.tracking_message, age_minutes=600)
    return shop


@pytest.fixture
def refused_queue():
    """A queue whose rows are refused payloads, with a 1 h SLA."""
    queue = ExceptionQueue(
        key="test-refused",
        name="Test refused payloads",
        owner_role=roles.CUSTOMER_SERVICE,
        sla_hours=1,
        selector=lambda: IngestionError.objects.filter(resolved_at__isnull=True),
        age_field="received_at",
        row_template="erp/partials/queue_rows/integration_failure.html",
        columns=(),
    )
    register_queue(queue)
    yield queue
    from erp import queues

    queues._registry.pop(queue.key, None)


def test_the_digest_lists_queues_past_sla_and_stale_syncs(manager, stale_shop, refused_queue):
    refused_payload(stale_shop.channel, minutes_ago=180)

    digest = render_digest(manager, timezone.now())

    assert "Queues past SLA" in digest["body"]
    assert "Test refused payloads: 1 open, oldest 3 h (SLA 1 h)" in digest["body"]
    assert "Channel syncs stale" in digest["body"]
    assert "SHOP · Tracking out: failed messages not delivered" in digest["body"]
    assert digest["subject"].startswith("ERP daily digest ")


def test_each_manager_gets_one_digest_a_day_however_often_it_runs(
    manager, other_manager, stale_shop, settings
):
    settings.DIGEST_MAIL_ENDPOINT = "digest-mail"

    first = send_daily_digests()
    again = send_daily_digests()

    digests = OutboxMessage.objects.filter(topic=DIGEST_TOPIC)
    assert (first, again) == (2, 0)
    assert sorted(digests.values_list("payload__to", flat=True)) == sorted(
        [manager.email, other_manager.email]
    )
    assert {m.endpoint.kind for m in digests} == {"email"}


def test_the_next_day_brings_a_new_digest(manager, stale_shop):
    send_daily_digests()
    send_daily_digests(now=timezone.now() + timedelta(days=1))

    assert OutboxMessage.objects.filter(topic=DIGEST_TOPIC).count() == 2


def test_a_manager_with_nothing_to_report_gets_no_mail(manager):
    calm = synced_channel("CALM")
    received_order(calm.channel, minutes_ago=5)

    assert render_digest(manager, timezone.now()) is None
    assert send_daily_digests() == 0
    assert not OutboxMessage.objects.filter(topic=DIGEST_TOPIC).exists()


def test_inactive_managers_and_other_roles_get_no_digest(role_groups, stale_shop):
    gone = UserFactory(username="gone-manager", roles=[roles.MANAGER])
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    UserFactory(username="clerk", roles=[roles.WAREHOUSE])

    assert send_daily_digests() == 0


def test_the_digest_is_delivered_as_an_email_through_the_outbox(manager, stale_shop):
    send_daily_digests()
    # The test's own failed tracking message is due as well; only the digest matters here.
    OutboxMessage.objects.exclude(topic=DIGEST_TOPIC).update(state="discarded")

    outcome = deliver_due_messages()

    assert outcome == {"delivered": 1}
    [sent] = mail.outbox
    assert sent.to == [manager.email]
    assert "SHOP · Tracking out" in sent.body
    digest = OutboxMessage.objects.get(topic=DIGEST_TOPIC)
    assert digest.state == "delivered"
    assert OutboxMessage.objects.aggregate(first=Min("created_at"))["first"] is not None


def test_the_beat_schedule_runs_the_digest_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["insight-daily-digest"]

    assert entry["task"] == "insight.tasks.send_daily_digests"
    from insight.tasks import send_daily_digests as task

    assert task.name == entry["task"]
