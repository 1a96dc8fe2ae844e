"""Order states move through one transition table (orders.services.timeline): one order
step by step (`advance`) and many at once (`advance_many`) check the same table and stamp
the same times."""

from datetime import UTC, datetime

import pytest

from erp.errors import Conflict
from orders.models import Order, OrderEvent, OrderState
from orders.services import timeline
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

S = OrderState


def _orders(count, state):
    return [OrderFactory(state=state) for _ in range(count)]


def test_releasing_many_orders_stamps_the_release_time_as_releasing_one_does(cs_user):
    one = OrderFactory(state=S.ALLOCATED)
    many = _orders(3, S.ALLOCATED)

    timeline.set_state(one, S.RELEASED, actor=cs_user, message="released")
    timeline.advance_many(orders=many, to_state=S.RELEASED, actor=cs_user, message="released")

    for order in [one, *many]:
        stored = Order.objects.get(pk=order.pk)
        assert stored.state == S.RELEASED
        assert stored.released_at is not None
    assert OrderEvent.objects.filter(kind="state", to_state=S.RELEASED).count() == 4


def test_many_orders_are_refused_by_the_same_table_and_nothing_moves(cs_user):
    orders = [*_orders(2, S.ALLOCATED), OrderFactory(state=S.SHIPPED)]

    with pytest.raises(Conflict) as refused:
        timeline.advance_many(orders=orders, to_state=S.PICKING, actor=cs_user, message="wave")

    assert refused.value.errors[0].code == "invalid_transition"
    assert set(Order.objects.values_list("state", flat=True)) == {S.ALLOCATED, S.SHIPPED}
    assert not OrderEvent.objects.exists()


def test_a_channels_cancellation_time_is_kept_when_the_order_is_cancelled(cs_user):
    order = OrderFactory(state=S.READY)

    timeline.set_state(
        order,
        S.CANCELLED,
        actor=cs_user,
        message="cancelled by the buyer",
        cancelled_at=datetime(2026, 11, 30, 8, 15, tzinfo=UTC),
    )

    assert Order.objects.get(pk=order.pk).cancelled_at == datetime(2026, 11, 30, 8, 15, tzinfo=UTC)


def test_the_transitions_of_many_orders_cost_the_same_queries_for_one_or_ten(
    cs_user, django_assert_num_queries
):
    one, ten = _orders(1, S.RELEASED), _orders(10, S.RELEASED)
    with django_assert_num_queries(3) as first:
        timeline.advance_many(orders=one, to_state=S.PICKING, actor=cs_user, message="wave")
    with django_assert_num_queries(len(first.captured_queries)):
        timeline.advance_many(orders=ten, to_state=S.PICKING, actor=cs_user, message="wave")
