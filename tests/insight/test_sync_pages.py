"""Sync health in the back office and the API: who sees it, what it shows, the retry."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from erp.models import OutboxMessage
from tests.conftest import token_client
from tests.insight.sync_data import received_order, synced_channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def stale_shop():
    shop = synced_channel("SHOP")
    received_order(shop.channel, minutes_ago=5)
    shop.failed(shop.tracking_message, age_minutes=600, error="HTTP 401: token expired")
    shop.failed(shop.refund_message, age_minutes=600)
    return shop


def test_a_manager_sees_every_channel_with_the_stale_one_in_red(client, manager, stale_shop):
    client.force_login(manager)
    client.get(reverse("insight:sync-health"))  # the session's first request saves it
    with CaptureQueriesContext(connection) as one_channel:
        client.get(reverse("insight:sync-health"))
    for code in ("CALM", "CALM2", "CALM3"):
        calm = synced_channel(code)
        received_order(calm.channel, minutes_ago=5)
        calm.failed(calm.refund_message, age_minutes=1)

    with CaptureQueriesContext(connection) as four_channels:
        page = client.get(reverse("insight:sync-health")).content.decode()

    assert len(four_channels) == len(one_channel) <= 14
    assert 'data-channel="SHOP" data-stale="true"' in page
    assert 'data-channel="CALM" data-stale="false"' in page


def test_the_channel_page_shows_each_direction_and_the_last_error(client, manager, stale_shop):
    client.force_login(manager)

    page = client.get(reverse("insight:channel-sync", args=["SHOP"])).content.decode()

    assert 'data-direction="tracking_out" data-stale="true"' in page
    assert 'data-direction="orders_in" data-stale="false"' in page
    assert "HTTP 401: token expired" in page
    assert "Retry all failed messages (2)" in page


def test_retrying_from_the_channel_page_requeues_its_failed_messages(client, manager, stale_shop):
    client.force_login(manager)

    response = client.post(reverse("insight:channel-sync-retry", args=["SHOP"]), follow=True)

    assert response.status_code == 200
    assert "2 failed messages of SHOP queued again." in response.content.decode()
    assert not OutboxMessage.objects.filter(state="failed").exists()


def test_finance_may_look_but_not_retry(client, finance_user, stale_shop):
    client.force_login(finance_user)

    page = client.get(reverse("insight:channel-sync", args=["SHOP"]))
    retry = client.post(reverse("insight:channel-sync-retry", args=["SHOP"]))

    assert page.status_code == 200
    assert "Retry all failed" not in page.content.decode()
    assert retry.status_code == 403
    assert OutboxMessage.objects.filter(state="failed").count() == 2


def test_the_floor_may_not_open_sync_health(client, warehouse_user):
    client.force_login(warehouse_user)

    assert client.get(reverse("insight:sync-health")).status_code == 403


def test_an_unknown_channel_is_a_404(client, manager):
    client.force_login(manager)

    assert client.get(reverse("insight:channel-sync", args=["NOPE"])).status_code == 404


def test_the_dashboard_tile_partial_renders_from_its_context(manager, stale_shop):
    from django.template.loader import render_to_string

    from insight.sync_health import tile_context

    html = render_to_string("insight/partials/sync_health_tile.html", tile_context())

    assert "tile-danger" in html and "SHOP" in html
    assert reverse("insight:sync-health") in html


def test_an_integration_reads_sync_health_over_the_api(integration_user, stale_shop):
    api = token_client(integration_user)

    every = api.get("/api/v1/insight/sync-health/")
    one = api.get("/api/v1/insight/sync-health/SHOP/")

    assert every.status_code == 200
    [shop] = [row for row in every.json() if row["channel"] == "SHOP"]
    assert shop["stale"] is True
    tracking = next(d for d in one.json()["directions"] if d["direction"] == "tracking_out")
    assert (tracking["failed"], tracking["stale"]) == (1, True)
    assert tracking["last_error"] == "HTTP 401: token expired"


def test_the_api_refuses_roles_without_outbox_access(warehouse_user):
    api = token_client(warehouse_user)

    assert api.get("/api/v1/insight/sync-health/").status_code == 403
    assert api.get("/api/v1/insight/sync-health/NOPE/").status_code == 403


def test_the_api_answers_404_for_an_unknown_channel(integration_user):
    api = token_client(integration_user)

    assert api.get("/api/v1/insight/sync-health/NOPE/").status_code == 404
