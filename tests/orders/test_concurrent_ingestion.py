"""Concurrent redelivery on real PostgreSQL connections: one order, one set of reservations."""

import json
import threading
from decimal import Decimal

import pytest
from django.db import connections

from inventory.models import Reservation, StockBalance
from inventory.services.movements import receive_stock
from orders.models import Order, OrderLine
from orders.services.ingestion import ingest_order
from tests.factories import ChannelFactory, ChannelListingFactory, LocationFactory, SkuFactory
from tests.orders.test_ingestion_api import sample

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(target, count):
    outcomes, errors, barrier = [], [], threading.Barrier(count)

    def run(index):
        try:
            barrier.wait()
            outcomes.append(target(index))
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes, errors


@pytest.fixture
def shop(integration_user, manager):
    node = LocationFactory(code="EAST")
    channel = ChannelFactory(code="SHOP", kind="shopify", currency="USD", eligible_locations=[node])
    for code in ("TEE-BLK-M", "MUG-CER-12"):
        sku = SkuFactory(code=f"OUR-{code}")
        ChannelListingFactory(channel=channel, sku=sku, channel_sku=code)
        receive_stock(sku=sku, location=node, quantity=10, actor=manager)
    return channel


def test_the_same_order_delivered_eight_times_at_once_is_stored_and_reserved_once(
    shop, integration_user
):
    payload = json.loads(json.dumps(sample("shopify_order.json")), parse_float=Decimal)

    outcomes, errors = _race(
        lambda _: ingest_order(channel=shop, payload=payload, actor=integration_user).outcome, 8
    )

    assert errors == []
    assert sorted(outcomes) == ["created"] + ["unchanged"] * 7
    assert Order.objects.count() == 1
    assert OrderLine.objects.count() == 2
    assert sum(Reservation.objects.values_list("quantity", flat=True)) == 3
    assert sum(StockBalance.objects.values_list("reserved", flat=True)) == 3


def test_orders_racing_for_the_last_units_never_oversell(shop, integration_user):
    template = sample("shopify_order.json")

    def one(index):
        payload = json.loads(json.dumps(template), parse_float=Decimal)
        payload["id"] = 7000 + index
        payload["line_items"] = [{**payload["line_items"][0], "id": 9000 + index, "quantity": 3}]
        return ingest_order(channel=shop, payload=payload, actor=integration_user).order.pk

    order_ids, errors = _race(one, 6)

    assert errors == []
    states = sorted(Order.objects.filter(pk__in=order_ids).values_list("state", flat=True))
    # 10 units, 3 per order: three orders ship whole, one gets the last unit, two wait.
    assert states.count("released") == 3
    assert (
        sum(
            StockBalance.objects.filter(sku__code="OUR-TEE-BLK-M").values_list(
                "reserved", flat=True
            )
        )
        == 10
    )


def test_two_channel_edits_of_one_order_racing_leave_reservations_equal_to_open_units(
    shop, integration_user
):
    from inventory.services.verification import find_balance_differences

    template = sample("shopify_order.json")
    ingest_order(
        channel=shop,
        payload=json.loads(json.dumps(template), parse_float=Decimal),
        actor=integration_user,
    )

    def edit(index):
        payload = json.loads(json.dumps(template), parse_float=Decimal)
        payload["updated_at"] = f"2026-11-21T09:00:0{index}-05:00"
        tee, mug = payload["line_items"]
        tee["current_quantity"] = 1  # both remove one tee
        if index == 1:  # the later edit also removes the mug
            mug["current_quantity"] = 0
        return ingest_order(channel=shop, payload=payload, actor=integration_user).outcome

    outcomes, errors = _race(edit, 2)

    assert errors == []
    assert sorted(outcomes) in (["updated", "updated"], ["stale", "updated"])
    order = Order.objects.get()
    tee = order.lines.get(channel_sku="TEE-BLK-M")
    mug = order.lines.get(channel_sku="MUG-CER-12")
    assert (tee.open_quantity, mug.open_quantity, mug.state) == (1, 0, "cancelled")
    for line in (tee, mug):
        active = Reservation.objects.filter(
            line_reference=line.reference, state=Reservation.State.ACTIVE
        )
        assert sum(r.quantity for r in active) == line.open_quantity
    assert sum(StockBalance.objects.values_list("reserved", flat=True)) == 1
    assert find_balance_differences() == []
