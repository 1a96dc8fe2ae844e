"""SLA: released orders not confirmed shipped within the channel's window escalate."""

from datetime import timedelta

import pytest
from django.utils import timezone

from erp.celery import app
from fulfillment import tasks
from fulfillment.services.sla import escalate_unconfirmed
from orders.models import Order, OrderEvent, OrderState
from orders.queues import orders_past_sla
from tests.factories import ChannelFactory, LocationFactory
from tests.factories.fulfillment import ChannelFulfillmentPolicyFactory, released_order, stocked_sku

pytestmark = pytest.mark.django_db


@pytest.fixture
def node(db):
    return LocationFactory(code="WH-A")


@pytest.fixture
def sku(node, manager):
    return stocked_sku(node, 50, manager, code="TEE")


def released_hours_ago(channel, sku, manager, hours, state=OrderState.RELEASED):
    order = released_order(channel, [(sku, 1)], manager)
    Order.objects.filter(pk=order.pk).update(
        released_at=timezone.now() - timedelta(hours=hours), state=state
    )
    return order


def test_orders_released_longer_ago_than_the_window_escalate_once(node, sku, manager):
    marketplace = ChannelFactory(code="MKT", eligible_locations=[node])
    ChannelFulfillmentPolicyFactory(channel=marketplace, confirm_window_hours=4)
    late = released_hours_ago(marketplace, sku, manager, 5)
    picking = released_hours_ago(marketplace, sku, manager, 6, state=OrderState.PICKING)
    packed = released_hours_ago(marketplace, sku, manager, 6, state=OrderState.PACKED)
    in_time = released_hours_ago(marketplace, sku, manager, 3)
    shipped = released_hours_ago(marketplace, sku, manager, 9, state=OrderState.SHIPPED)

    assert escalate_unconfirmed() == 3

    escalated = set(Order.objects.filter(escalated_at__isnull=False).values_list("pk", flat=True))
    assert escalated == {late.pk, picking.pk, packed.pk}
    assert in_time.pk not in escalated and shipped.pk not in escalated
    event = OrderEvent.objects.get(order=late, kind="escalated")
    assert event.message == "Not confirmed shipped within 4 h of release"
    assert {o.pk for o in orders_past_sla()} >= {late.pk, picking.pk, packed.pk}
    assert escalate_unconfirmed() == 0
    assert OrderEvent.objects.filter(kind="escalated").count() == 3


def test_a_channel_without_a_policy_gets_the_default_day(node, sku, manager):
    shop = ChannelFactory(code="SHOP", eligible_locations=[node])
    day_old = released_hours_ago(shop, sku, manager, 25)
    fresh = released_hours_ago(shop, sku, manager, 23)

    escalate_unconfirmed()

    assert Order.objects.get(pk=day_old.pk).escalated_at is not None
    assert Order.objects.get(pk=fresh.pk).escalated_at is None


def test_the_window_is_measured_at_the_given_moment(node, sku, manager):
    shop = ChannelFactory(code="SHOP", eligible_locations=[node])
    ChannelFulfillmentPolicyFactory(channel=shop, confirm_window_hours=48)
    order = released_hours_ago(shop, sku, manager, 1)

    assert escalate_unconfirmed(now=timezone.now() + timedelta(hours=46)) == 0
    assert escalate_unconfirmed(now=timezone.now() + timedelta(hours=48)) == 1
    assert Order.objects.get(pk=order.pk).escalated_at is not None


def test_celery_beat_runs_the_escalation_task(node, sku, manager):
    shop = ChannelFactory(code="SHOP", eligible_locations=[node])
    released_hours_ago(shop, sku, manager, 30)

    entry = app.conf.beat_schedule["fulfillment-escalate-unconfirmed"]
    assert entry["task"] == tasks.escalate_unconfirmed.name
    assert entry["schedule"] == tasks.ESCALATE_EVERY_SECONDS
    assert tasks.escalate_unconfirmed.delay().get() == 1
