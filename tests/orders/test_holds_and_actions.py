from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from erp.errors import Conflict, NotPermitted, ValidationFailed
from inventory.models import Reservation, StockBalance
from orders.models import OrderEvent
from orders.queues import orders_on_hold, orders_past_sla
from orders.services import cancellation, evaluation, holds, ship_to
from orders.services.sla import escalate_orders

pytestmark = pytest.mark.django_db


def _open_reasons(order):
    return sorted(order.holds.filter(resolved_at=None).values_list("reason", flat=True))


@pytest.mark.parametrize(
    "fields, reason",
    [
        ({"ship_line1": ""}, "address_invalid"),
        ({"ship_postal_code": "ABC"}, "address_invalid"),
        ({"payment_status": "pending"}, "payment_not_captured"),
        ({"risk_score": Decimal("90")}, "risk_above_threshold"),
        ({"tax_data_complete": False}, "tax_data_missing"),
    ],
)
def test_risky_or_incomplete_orders_wait_in_the_hold_queue(
    place, tee, east, stock, rates, fields, reason
):
    stock(tee, east, 5)

    order = place([(tee, 1)], **fields)

    assert order.state == "on_hold"
    assert _open_reasons(order) == [reason]
    assert not Reservation.objects.exists()
    assert order in orders_on_hold()


def test_an_unmapped_sku_is_a_hold_not_an_error(place, east, rates):
    order = place([(None, 1)])

    assert _open_reasons(order) == ["sku_not_mapped"]


def test_every_reason_is_recorded_at_once(place, tee, rates):
    order = place([(tee, 1)], payment_status="pending", ship_city="", risk_score=Decimal("99"))

    assert _open_reasons(order) == [
        "address_invalid",
        "payment_not_captured",
        "risk_above_threshold",
    ]


def test_releasing_a_risk_hold_needs_a_note_and_then_routes(
    place, tee, east, stock, rates, cs_user
):
    stock(tee, east, 5)
    order = place([(tee, 1)], risk_score=Decimal("90"))

    with pytest.raises(ValidationFailed):
        holds.release_order(order_id=order.pk, actor=cs_user)
    holds.release_order(order_id=order.pk, actor=cs_user, note="called the customer")

    order.refresh_from_db()
    assert order.state == "released"
    hold = order.holds.get()
    assert (hold.resolved_by, hold.resolution) == (cs_user, "called the customer")


def test_releasing_re_validates_so_a_bad_address_stays_held(
    place, tee, east, stock, rates, cs_user
):
    stock(tee, east, 5)
    order = place([(tee, 1)], ship_line1="")

    holds.release_order(order_id=order.pk, actor=cs_user)

    order.refresh_from_db()
    assert order.state == "on_hold"
    assert _open_reasons(order) == ["address_invalid"]


def test_fixing_the_address_releases_the_order(place, tee, east, stock, rates, cs_user):
    stock(tee, east, 5)
    order = place([(tee, 1)], ship_line1="")

    ship_to.edit_ship_to(order_id=order.pk, actor=cs_user, address={"ship_line1": "42 Elm St"})

    order.refresh_from_db()
    assert order.state == "released"
    assert order.ship_line1 == "42 Elm St"
    assert OrderEvent.objects.filter(
        order=order, kind="address", message__contains="42 Elm St"
    ).exists()
    assert order.history.filter(history_change_reason="ship-to edited").count() == 1


def test_cancelling_releases_every_reservation(place, tee, east, stock, rates, cs_user):
    stock(tee, east, 5)
    order = place([(tee, 3)])
    assert StockBalance.objects.get(sku=tee, location=east, status="sellable").reserved == 3

    cancellation.cancel_order(
        order_id=order.pk, actor=cs_user, reason="customer changed their mind"
    )

    order.refresh_from_db()
    assert order.state == "cancelled"
    assert StockBalance.objects.get(sku=tee, location=east, status="sellable").reserved == 0
    assert set(Reservation.objects.values_list("state", flat=True)) == {"released"}
    with pytest.raises(Conflict):
        holds.release_order(order_id=order.pk, actor=cs_user)


def test_cancelling_one_line_keeps_the_rest(place, tee, mug, east, stock, rates, cs_user):
    stock(tee, east, 5)
    stock(mug, east, 5)
    order = place([(tee, 2), (mug, 1)])
    tee_line = order.lines.get(sku=tee)

    cancellation.cancel_line(line_id=tee_line.pk, actor=cs_user, quantity=2, reason="out of size")

    order.refresh_from_db()
    assert order.state == "released"
    assert StockBalance.objects.get(sku=tee, location=east, status="sellable").reserved == 0
    assert StockBalance.objects.get(sku=mug, location=east, status="sellable").reserved == 1
    with pytest.raises(ValidationFailed):
        cancellation.cancel_line(line_id=tee_line.pk, actor=cs_user, quantity=1, reason="again")


def test_a_warehouse_user_cannot_cancel_orders(place, tee, rates, warehouse_user):
    order = place([(tee, 1)])

    with pytest.raises(NotPermitted):
        cancellation.cancel_order(order_id=order.pk, actor=warehouse_user, reason="no")


def test_a_manual_hold_keeps_the_order_until_released(place, tee, east, stock, rates, cs_user):
    stock(tee, east, 5)
    order = place([(tee, 1)])

    holds.hold_order(
        order_id=order.pk, actor=cs_user, note="address looks like a freight forwarder"
    )
    order.refresh_from_db()
    assert order.state == "on_hold"
    holds.release_order(order_id=order.pk, actor=cs_user, note="checked")

    order.refresh_from_db()
    assert order.state == "released"


def test_every_state_change_is_on_the_timeline_with_its_actor(
    place, tee, east, stock, rates, cs_user
):
    stock(tee, east, 5)
    order = place([(tee, 1)])

    states = list(order.events.filter(kind="state").values_list("from_state", "to_state", "actor"))

    assert states == [
        ("received", "ready", cs_user.pk),
        ("ready", "allocated", cs_user.pk),
        ("allocated", "released", cs_user.pk),
    ]


def test_rerouting_moves_the_allocation_to_where_stock_is_now(
    place, tee, east, west, stock, rates, cs_user
):
    stock(tee, east, 1)
    order = place([(tee, 1)])
    stock(tee, west, 5)

    evaluation.reroute_order(order_id=order.pk, actor=cs_user)

    order.refresh_from_db()
    assert order.state == "released"
    assert order.routing_decisions.count() == 2


def test_orders_not_released_within_the_sla_escalate(place, tee, rates, web):
    late = place([(tee, 1)], placed_at=timezone.now() - timedelta(hours=web.ship_by_sla_hours + 1))
    fresh = place([(tee, 1)])

    assert escalate_orders() == 1

    assert list(orders_past_sla()) == [late]
    assert escalate_orders() == 0
    assert fresh.events.filter(kind="escalated").count() == 0
