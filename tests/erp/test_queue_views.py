"""The back office's exception queues: the dashboard, the queue pages and the row actions
on integration failures."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from erp.models import ChannelListing, OutboxMessage, Sku
from tests.factories import ChannelFactory, EndpointFactory, SkuFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def failed_message(**fields) -> OutboxMessage:
    defaults = {
        "topic": "availability.changed",
        "endpoint": EndpointFactory(),
        "payload": {"sku": "TEE-01", "available": 4},
        "dedupe_key": f"test:{OutboxMessage.objects.count()}",
        "state": OutboxMessage.State.FAILED,
        "attempts": 8,
        "last_error": "HTTP 503 from receiver",
        "failed_at": timezone.now() - timedelta(hours=1),
    }
    return OutboxMessage.objects.create(**{**defaults, **fields})


# --- dashboard ----------------------------------------------------------------------------


def test_the_dashboard_shows_every_queue_with_its_count_and_age(client, manager):
    failed_message(failed_at=timezone.now() - timedelta(hours=5))
    failed_message(failed_at=timezone.now() - timedelta(minutes=30))
    client.force_login(manager)

    response = client.get(reverse("dashboard"))

    summaries = {s["queue"].key: s for s in response.context["summaries"]}
    assert summaries["integration-failures"]["count"] == 2
    assert summaries["integration-failures"]["age"] == "5 h 00 min"
    assert summaries["integration-failures"]["breached"]
    assert summaries["inactive-sku-listings"]["count"] == 0
    content = response.content.decode()
    assert reverse("exception-queue", args=["integration-failures"]) in content
    assert "SLA breached" in content
    assert response.context["tiles"][0]["label"] == "Active SKUs"


# --- exception queues ---------------------------------------------------------------------


def test_a_queue_page_searches_its_rows(client, manager):
    failed_message(topic="availability.changed")
    failed_message(topic="tracking.uploaded")
    client.force_login(manager)

    response = client.get(
        reverse("exception-queue", args=["integration-failures"]), {"q": "tracking"}, **HTMX
    )

    content = response.content.decode()
    assert content.lstrip().startswith('<div id="queue-results"')
    assert [row.topic for row in response.context["page"].object_list] == ["tracking.uploaded"]


def test_an_unknown_queue_is_not_found(client, manager):
    client.force_login(manager)

    assert client.get(reverse("exception-queue", args=["no-such-queue"])).status_code == 404


def test_the_queue_page_runs_the_same_queries_for_one_row_and_for_many(
    client, manager, django_assert_num_queries
):
    failed_message()
    client.force_login(manager)
    url = reverse("exception-queue", args=["integration-failures"])
    client.get(url)

    # session, user, roles, SLA overrides, summary, count, page (with endpoints), the page's
    # claims, the people a manager may assign to (permissions come from the cache)
    with django_assert_num_queries(9):
        client.get(url)
    for _ in range(15):
        failed_message()
    with django_assert_num_queries(9):
        client.get(url)


def test_retrying_a_failed_message_returns_its_row_and_refreshes_counts(client, manager):
    message = failed_message()
    client.force_login(manager)

    response = client.post(reverse("outbox-retry", args=[message.pk]), **HTMX)

    assert response.status_code == 200
    assert "queuesChanged" in json.loads(response["HX-Trigger"])
    content = response.content.decode()
    assert content.lstrip().startswith(f'<tr id="outbox-message-{message.pk}"')
    assert "queued for delivery again" in content
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.PENDING
    assert message.attempts == 0
    assert message.resolved_by == manager


def test_discarding_a_failed_message_needs_a_note(client, manager):
    message = failed_message()
    client.force_login(manager)

    response = client.post(reverse("outbox-discard", args=[message.pk]), {"note": " "}, **HTMX)

    assert response.status_code == 200
    assert "HX-Trigger" not in response
    assert "Say why the message is discarded." in response.content.decode()
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.FAILED


def test_discarding_a_failed_message_with_a_note_resolves_it(client, manager):
    message = failed_message()
    client.force_login(manager)

    response = client.post(
        reverse("outbox-discard", args=[message.pk]), {"note": "SKU delisted"}, **HTMX
    )

    assert "queuesChanged" in json.loads(response["HX-Trigger"])
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.DISCARDED
    assert message.resolution_note == "SKU delisted"
    assert message.resolved_by == manager


def test_retrying_without_javascript_returns_to_the_queue_with_a_message(client, manager):
    message = failed_message()
    client.force_login(manager)

    response = client.post(reverse("outbox-retry", args=[message.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse(
        "exception-queue", args=["integration-failures"]
    )
    assert f"Message #{message.pk} queued for delivery again." in response.content.decode()


def test_retrying_an_already_resolved_message_says_so_in_the_row(client, manager):
    message = failed_message(state=OutboxMessage.State.DISCARDED)
    client.force_login(manager)

    response = client.post(reverse("outbox-retry", args=[message.pk]), **HTMX)

    assert "Only failed messages can be retried or discarded" in response.content.decode()
    assert "HX-Trigger" not in response


def test_a_warehouse_user_cannot_retry_or_discard(client, warehouse_user):
    message = failed_message()
    client.force_login(warehouse_user)

    page = client.get(reverse("exception-queue", args=["integration-failures"]))

    assert reverse("outbox-retry", args=[message.pk]) not in page.content.decode()
    assert client.post(reverse("outbox-retry", args=[message.pk]), **HTMX).status_code == 403
    discard = client.post(reverse("outbox-discard", args=[message.pk]), {"note": "x"}, **HTMX)
    assert discard.status_code == 403
    message.refresh_from_db()
    assert message.state == OutboxMessage.State.FAILED


def test_inactive_sku_listing_rows_link_to_the_listing_edit_page(client, manager):
    sku = SkuFactory(code="OLD-1")
    listing = ChannelListing.objects.create(channel=ChannelFactory(), sku=sku, channel_sku="X-1")
    Sku.objects.filter(pk=sku.pk).update(active=False)
    client.force_login(manager)

    response = client.get(reverse("exception-queue", args=["inactive-sku-listings"]))

    assert reverse("listing-edit", args=[listing.pk]) in response.content.decode()
