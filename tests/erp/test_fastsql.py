"""The hot path's hand-written statements behave like the ORM's and stay observable."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from erp import fastsql
from orders.models import Order, OrderEvent
from tests.factories import ChannelFactory, OrderFactory

pytestmark = pytest.mark.django_db


def _order(channel, external_id, **fields):
    return Order(
        channel=channel,
        external_id=external_id,
        placed_at="2026-11-20T10:00:00Z",
        currency="USD",
        payment_status="captured",
        raw_payload={"id": external_id, "total": Decimal("12.50")},
        payload_hash="h",
        **fields,
    )


def test_insert_writes_what_the_orm_would_and_sets_primary_keys():
    channel = ChannelFactory()
    order = _order(channel, "A-1", risk_score=Decimal("12.5"))
    assert fastsql.insert([order]) == [order]
    stored = Order.objects.get(pk=order.pk)
    assert stored.external_id == "A-1" and stored.state == "received"
    assert stored.risk_score == Decimal("12.50") and stored.shipping_total == Decimal("0")
    twin = _order(channel, "A-2", risk_score=Decimal("12.5"))
    twin.save()  # the ORM's way, for comparison: the model's JSON encoder applies to both
    assert stored.raw_payload["total"] == Order.objects.get(pk=twin.pk).raw_payload["total"]
    assert stored.received_at is not None and stored.received_at == order.received_at
    assert order._state.adding is False

    events = [
        OrderEvent(order=order, kind="note", from_state="received", to_state="received", message=m)
        for m in ("one", "two", "three")
    ]
    fastsql.insert(events)
    assert [e.pk for e in events] == sorted(e.pk for e in events)
    assert list(order.events.values_list("message", flat=True)) == ["one", "two", "three"]


def test_on_conflict_do_nothing_skips_a_duplicate_and_says_so():
    channel = ChannelFactory()
    first = OrderFactory(channel=channel, external_id="DUP-1")
    duplicate = _order(channel, "DUP-1")
    assert fastsql.insert([duplicate], on_conflict_do_nothing=True) == []
    assert duplicate.pk is None
    assert Order.objects.filter(channel=channel, external_id="DUP-1").get() == first
    with pytest.raises(ValueError):
        fastsql.insert([_order(channel, "X"), _order(channel, "Y")], on_conflict_do_nothing=True)


def test_a_constraint_violation_is_djangos_integrity_error_and_writes_nothing():
    channel = ChannelFactory()
    OrderFactory(channel=channel, external_id="DUP-2")
    with pytest.raises(IntegrityError), transaction.atomic():
        fastsql.insert([_order(channel, "NEW-2"), _order(channel, "DUP-2")])
    assert not Order.objects.filter(external_id="NEW-2").exists()


def test_update_writes_only_the_named_fields():
    order = OrderFactory(order_number="N-1")
    order.state, order.order_number = "ready", "changed in memory only"
    fastsql.update(order, ["state"])
    order.refresh_from_db()
    assert order.state == "ready" and order.order_number == "N-1"


def test_statements_are_logged_and_counted_like_the_orms():
    channel = ChannelFactory()
    with CaptureQueriesContext(connection) as queries:
        fastsql.insert([_order(channel, "LOG-1")])
        with fastsql.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM orders_order WHERE external_id = %s", ["LOG-1"])
            assert cursor.fetchone() == (1,)
    assert len(queries) == 2
    assert queries[0]["sql"].startswith('INSERT INTO "orders_order"')
    assert queries[1]["sql"].startswith("SELECT COUNT(*) FROM orders_order WHERE external_id")


def test_a_repeated_statement_keeps_working_once_prepared():
    """On PostgreSQL the cursor binds server-side and psycopg prepares what repeats."""
    channel = ChannelFactory()
    for n in range(6):
        fastsql.insert([_order(channel, f"P-{n}")])
        with fastsql.cursor() as cursor:
            cursor.execute(
                "SELECT external_id FROM orders_order WHERE external_id = %s", [f"P-{n}"]
            )
            assert cursor.fetchall() == [(f"P-{n}",)]
    assert Order.objects.filter(external_id__startswith="P-").count() == 6


def test_pipelined_statements_all_land_and_an_error_rolls_the_block_back():
    channel = ChannelFactory()
    with transaction.atomic(), fastsql.pipeline():
        for n in range(3):
            fastsql.insert([_order(channel, f"PL-{n}")], returning=False)
        with fastsql.cursor() as cursor:  # a fetch waits for everything sent before it
            cursor.execute("SELECT COUNT(*) FROM orders_order WHERE external_id LIKE %s", ["PL-%"])
            assert cursor.fetchone() == (3,)
    OrderFactory(channel=channel, external_id="DUP-3")
    with pytest.raises(IntegrityError), transaction.atomic(), fastsql.pipeline():
        fastsql.insert([_order(channel, "NEW-3")], returning=False)
        fastsql.insert([_order(channel, "DUP-3")], returning=False)
    assert not Order.objects.filter(external_id="NEW-3").exists()
    assert Order.objects.filter(external_id__startswith="PL-").count() == 3
