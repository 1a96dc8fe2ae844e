"""The hot path's hand-written statements behave like the ORM's and stay observable."""

from decimal import Decimal

import pytest
from django.db import DataError, IntegrityError, connection, transaction
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


HISTORY_FIELDS = ("history_type", "history_user_id", "history_change_reason", "state", "extra")


def _history(order):
    return list(order.history.order_by("history_id").values_list(*HISTORY_FIELDS))[1:]


def test_history_rows_are_the_ones_simple_history_writes():
    """A save with history and a bulk update with history, written both ways."""
    from simple_history.utils import bulk_update_with_history

    from tests.factories import UserFactory

    actor, other = UserFactory(), UserFactory()
    orm, fast = OrderFactory(extra={"gift": True}), OrderFactory(extra={"gift": True})
    for order in (orm, fast):
        order.history.all().delete()
        order.save()  # a first history row, dropped by _history
        order.state, order.extra = "ready", {"gift": False, "note": "ü"}
    orm._history_user = actor
    orm.save(update_fields=["state", "extra"])
    fastsql.update_with_history(fast, ["state", "extra"], actor=actor)
    for order in (orm, fast):
        order.state, order._history_user, order._change_reason = "on_hold", other, "held"
    bulk_update_with_history([orm], Order, ["state"], default_user=actor)
    fastsql.update_many_with_history([fast], ["state"], actor=actor)
    for order in (orm, fast):
        del order._history_user, order._change_reason
        order.state = "cancelled"
    bulk_update_with_history([orm], Order, ["state"], default_user=actor)
    fastsql.update_many_with_history([fast], ["state"], actor=actor)

    assert (
        _history(fast)
        == _history(orm)
        == [
            ("~", actor.pk, None, "ready", {"gift": False, "note": "ü"}),
            ("~", other.pk, "held", "on_hold", {"gift": False, "note": "ü"}),
            ("~", actor.pk, None, "cancelled", {"gift": False, "note": "ü"}),
        ]
    )
    fast.refresh_from_db()
    assert (fast.state, fast.extra) == ("cancelled", {"gift": False, "note": "ü"})


def test_update_values_writes_each_row_its_own_values_in_one_statement():
    orders = [OrderFactory(order_number=f"V-{n}") for n in range(3)]
    for n, order in enumerate(orders):
        order.state, order.order_number = ["ready", "on_hold", "cancelled"][n], "in memory only"
    with CaptureQueriesContext(connection) as queries:
        fastsql.update_values(Order, orders, ["state"])
    assert len(queries) == 1
    assert list(
        Order.objects.filter(pk__in=[o.pk for o in orders])
        .order_by("pk")
        .values_list("state", "order_number")
    ) == [("ready", "V-0"), ("on_hold", "V-1"), ("cancelled", "V-2")]


def test_update_values_refuses_a_value_too_long_for_its_column_rather_than_cutting_it():
    order = OrderFactory()
    order.state = "x" * 40  # state is varchar(24)
    with pytest.raises(DataError), transaction.atomic():
        fastsql.update_values(Order, [order], ["state"])


def test_select_and_build_load_rows_as_the_orm_does():
    order = OrderFactory(extra={"a": [1, 2]}, risk_score=Decimal("3.5"))
    [loaded] = fastsql.select(Order, "t.id = %s", [order.pk])
    orm = Order.objects.get(pk=order.pk)
    for field in Order._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(orm, field.attname), field.name
    assert loaded._state.adding is False and loaded._state.db == "default"
