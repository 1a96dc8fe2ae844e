"""Per-channel sync health on constructed outbox and ingestion rows with known answers."""

from datetime import timedelta

import pytest
from django.utils import timezone

from erp.errors import NotPermitted
from erp.models import OutboxMessage
from insight.services.sync import retry_channel_failures
from insight.sync_health import channel_sync_health, tile_context
from tests.insight.sync_data import (
    message,
    received_order,
    refused_payload,
    synced_channel,
)

pytestmark = pytest.mark.django_db


def health_of(code):
    return next(h for h in channel_sync_health() if h.channel.code == code)


def test_a_quiet_healthy_channel_is_not_stale():
    amz = synced_channel("AMZ", "amazon")
    received_order(amz.channel, minutes_ago=10)
    amz.availability_message(state="delivered", delivered_at=timezone.now())

    health = health_of("AMZ")

    assert not health.stale
    assert health.direction("orders_in").last_success is not None
    assert health.direction("availability_out").last_success is not None
    assert [row.configured for row in health.directions] == [True, True, True, True]


def test_each_direction_counts_its_backlog_failures_and_last_error(settings):
    settings.SYNC_STALE_MINUTES = {
        **settings.SYNC_STALE_MINUTES,
        "availability_out": 30,
        "tracking_out": 120,
    }
    shop = synced_channel("SHOP")
    delivered_at = timezone.now() - timedelta(minutes=3)
    shop.availability_message(state="delivered", delivered_at=delivered_at)
    shop.availability_message(age_minutes=45)  # waiting 45 min > 30 min threshold
    shop.availability_message(age_minutes=5)
    shop.failed(shop.tracking_message, error="HTTP 422: unknown order")
    shop.failed(shop.tracking_message, error="HTTP 500: later failure")
    shop.refund_message(age_minutes=1)

    health = health_of("SHOP")
    availability = health.direction("availability_out")
    tracking = health.direction("tracking_out")
    refunds = health.direction("refunds_out")

    assert (availability.backlog, availability.failed) == (2, 0)
    assert availability.last_success == delivered_at
    assert availability.stale and availability.stale_reason == "messages waiting too long"
    assert (tracking.backlog, tracking.failed, tracking.failures_24h) == (0, 2, 2)
    assert tracking.last_error == "HTTP 500: later failure"
    assert not tracking.stale  # failed, but created 90 min ago: within its 120 min
    assert (refunds.backlog, refunds.failed, refunds.stale) == (1, 0, False)
    assert health.failed == 2


def test_messages_of_another_channel_or_topic_are_not_counted():
    shop = synced_channel("SHOP")
    other = synced_channel("EBAY1", "ebay")
    other.availability_message(age_minutes=500)
    other.failed(other.tracking_message)
    # A customer e-mail on the same endpoint is no sync of the channel.
    message(shop.tracking, "customer.shipment_notification", age_minutes=500)
    # An eBay tracking topic on Shopify's endpoint is not Shopify's either.
    message(shop.tracking, "tracking.ebay", age_minutes=500)

    shop_health = health_of("SHOP")
    ebay_health = health_of("EBAY1")

    assert not shop_health.stale
    assert sum(row.backlog + row.failed for row in shop_health.directions) == 0
    assert ebay_health.direction("availability_out").backlog == 1
    assert ebay_health.direction("tracking_out").failed == 1


def test_orders_in_is_stale_when_no_order_came_within_the_threshold(settings):
    settings.SYNC_STALE_MINUTES = {**settings.SYNC_STALE_MINUTES, "orders_in": 60}
    late = synced_channel("LATE")
    fresh = synced_channel("FRESH")
    received_order(late.channel, minutes_ago=120)
    received_order(fresh.channel, minutes_ago=5)

    assert health_of("LATE").direction("orders_in").stale
    assert not health_of("FRESH").direction("orders_in").stale


def test_refused_payloads_are_the_orders_in_backlog_and_errors(settings):
    settings.SYNC_STALE_MINUTES = {**settings.SYNC_STALE_MINUTES, "orders_in": 60}
    shop = synced_channel("SHOP")
    received_order(shop.channel, minutes_ago=1)
    refused_payload(shop.channel, minutes_ago=90, message="older")
    refused_payload(shop.channel, minutes_ago=10, message="Unknown SKU XYZ")
    refused_payload(shop.channel, minutes_ago=60 * 30, message="ancient", resolved=True)

    orders_in = health_of("SHOP").direction("orders_in")

    assert orders_in.backlog == 2
    assert orders_in.failures_24h == 2
    assert orders_in.last_error == "sku_unmapped (lines[0].sku): Unknown SKU XYZ"
    assert orders_in.stale and "refused" in orders_in.stale_reason


def test_health_takes_the_same_queries_for_one_channel_and_for_many(
    django_assert_num_queries,
):
    first = synced_channel("C1")
    first.failed(first.tracking_message)
    with django_assert_num_queries(8):
        channel_sync_health()
    for n in range(2, 7):
        extra = synced_channel(f"C{n}", "walmart")
        extra.availability_message(age_minutes=n)
        extra.failed(extra.refund_message)
        received_order(extra.channel, minutes_ago=n)
        refused_payload(extra.channel, minutes_ago=n)
    with django_assert_num_queries(8):
        healths = channel_sync_health()
    assert len(healths) == 6


def test_retrying_a_channel_requeues_only_its_failed_messages(manager):
    shop = synced_channel("SHOP")
    other = synced_channel("OTHER")
    mine = [shop.failed(shop.tracking_message), shop.failed(shop.refund_message)]
    mine.append(shop.failed(shop.availability_message))
    theirs = other.failed(other.tracking_message)
    waiting = shop.availability_message(age_minutes=1)

    retried = retry_channel_failures(channel=shop.channel, actor=manager)

    assert retried == 3
    states = dict(OutboxMessage.objects.values_list("pk", "state"))
    assert {states[m.pk] for m in mine} == {"pending"}
    assert states[theirs.pk] == "failed"
    assert states[waiting.pk] == "pending"
    row = OutboxMessage.objects.get(pk=mine[0].pk)
    assert (row.attempts, row.failed_at, row.resolved_by) == (0, None, manager)
    assert not health_of("SHOP").failed


def test_retrying_a_channel_needs_the_outbox_permission(warehouse_user):
    shop = synced_channel("SHOP")
    failed = shop.failed(shop.tracking_message)

    with pytest.raises(NotPermitted):
        retry_channel_failures(channel=shop.channel, actor=warehouse_user)

    assert OutboxMessage.objects.get(pk=failed.pk).state == "failed"


def test_the_tile_names_the_stale_channels():
    shop = synced_channel("SHOP")
    synced_channel("CALM")
    shop.failed(shop.tracking_message, age_minutes=600)

    context = tile_context()

    assert [h.channel.code for h in context["sync_stale_channels"]] == ["SHOP"]
    assert context["sync_failed_messages"] == 1
