"""The returns queues, the approvals inbox, and the return figures (set-based)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from erp.queues import get_queue
from returns.models import Refund, Rma
from returns.selectors import return_cycle_time, return_figures
from returns.services.inspection import inspect_return
from returns.services.receiving import receive_return
from returns.services.refunds import request_refund
from tests.factories import ChannelFactory, SkuFactory
from tests.factories.returns import ReturnPolicyFactory, ShippedLine, shipped_order

pytestmark = pytest.mark.django_db


def receive(rma, node, actor, quantity=None):
    line = rma.lines.get()
    receive_return(
        rma_id=rma.pk,
        location=node,
        lines=[{"rma_line_id": line.pk, "quantity": quantity or line.quantity}],
        actor=actor,
    )


def test_returns_awaiting_receipt_are_listed_overdue_first(
    tee_order, tee, changed_mind, authorize, node, warehouse_user
):
    queue = get_queue("returns-awaiting-receipt")
    due_later = authorize(tee_order, [(tee, 1, changed_mind)])
    overdue = authorize(tee_order, [(tee, 1, changed_mind)])
    very_overdue = authorize(tee_order, [(tee, 1, changed_mind)])
    received = Rma.objects.filter(pk__in=[overdue.pk, very_overdue.pk])
    received.filter(pk=overdue.pk).update(expected_by=timezone.now() - timedelta(hours=30))
    received.filter(pk=very_overdue.pk).update(expected_by=timezone.now() - timedelta(days=3))

    rows = list(queue.selector().order_by(queue.age_field, "pk"))

    assert rows == [very_overdue, overdue, due_later]
    summary = queue.summary()
    assert summary["count"] == 3 and summary["breached"]
    assert timedelta(days=2, hours=23) < summary["oldest_age"] < timedelta(days=3, hours=1)

    receive(very_overdue, node, warehouse_user)
    assert very_overdue not in queue.selector()


def test_nothing_overdue_means_no_age_and_no_breach(tee_order, tee, changed_mind, authorize):
    authorize(tee_order, [(tee, 1, changed_mind)])

    summary = get_queue("returns-awaiting-receipt").summary()

    assert summary["count"] == 1 and not summary["breached"]
    assert summary["oldest_age"] < timedelta(minutes=1)


def test_units_awaiting_inspection_are_queued_by_age(
    tee_order, tee, changed_mind, authorize, node, warehouse_user
):
    queue = get_queue("returns-awaiting-inspection")
    rma = authorize(tee_order, [(tee, 3, changed_mind)])
    receive(rma, node, warehouse_user)
    inspect_return(
        rma_id=rma.pk,
        results=[
            {
                "rma_line_id": rma.lines.get().pk,
                "quantity": 1,
                "grade": "new",
                "disposition": "restock",
            }
        ],
        actor=warehouse_user,
    )

    (row,) = queue.selector()
    assert (row.rma, row.units_waiting) == (rma, 2)
    assert queue.summary()["count"] == 1


def test_refunds_awaiting_approval_are_queued_and_in_the_approvals_inbox(
    client, phone_order, phone, changed_mind, authorize, node, warehouse_user, cs_user, manager
):
    rma = authorize(phone_order, [(phone, 1, changed_mind)])
    receive_return(
        rma_id=rma.pk,
        location=node,
        lines=[{"rma_line_id": rma.lines.get().pk, "quantity": 1, "serials": ["SN-1"]}],
        actor=warehouse_user,
    )
    refund = request_refund(rma_id=rma.pk, actor=cs_user)

    assert list(get_queue("refunds-awaiting-approval").selector()) == [refund]
    client.force_login(manager)
    response = client.get(reverse("approval-inbox"))
    assert response.status_code == 200
    (row,) = response.context["rows"]
    assert row["label"] == "Refund" and row["can_decide"]
    assert row["approval"].summary.startswith(f"Refund {refund.number} · {rma.number} · SHOP")
    assert refund.number in response.content.decode()

    client.force_login(cs_user)
    mine = client.get(reverse("approval-inbox")).context["rows"]
    assert [r["can_decide"] for r in mine] == [False]


def test_the_manager_decides_a_refund_in_the_approvals_inbox(
    client, phone_order, phone, changed_mind, authorize, node, warehouse_user, cs_user, manager
):
    from erp.models import ApprovalRequest

    rma = authorize(phone_order, [(phone, 1, changed_mind)])
    receive_return(
        rma_id=rma.pk,
        location=node,
        lines=[{"rma_line_id": rma.lines.get().pk, "quantity": 1, "serials": ["SN-1"]}],
        actor=warehouse_user,
    )
    refund = request_refund(rma_id=rma.pk, actor=cs_user)
    client.force_login(manager)

    response = client.post(
        reverse("approval-decide", args=[ApprovalRequest.objects.get().pk]),
        {"decision": "approve"},
    )

    assert response.status_code == 302
    refund.refresh_from_db()
    assert refund.state == "posted"


@pytest.fixture
def sales(node, tee, phone, changed_mind, defective, authorize, warehouse_user, cs_user):
    """SHOP shipped 10 tees and 4 phones, MKT 10 tees. Back: 3 tees from SHOP (1 restocked,
    2 graded damaged), 1 phone from SHOP (graded defective, quarantined), 1 tee from MKT
    (authorized, not arrived)."""
    shop = ChannelFactory(code="SHOP")
    market = ChannelFactory(code="MKT", kind="amazon")
    for channel in (shop, market):
        ReturnPolicyFactory(channel=channel, refund_timing="on_receipt")
    tees = shipped_order(shop, [ShippedLine(tee, 10)], location=node)
    phones = shipped_order(
        shop, [ShippedLine(phone, 4, serials=["A", "B", "C", "D"])], location=node
    )
    market_tees = shipped_order(market, [ShippedLine(tee, 10)], location=node)

    tee_rma = authorize(tees, [(tee, 3, changed_mind)])
    receive(tee_rma, node, warehouse_user)
    line = tee_rma.lines.get().pk
    inspect_return(
        rma_id=tee_rma.pk,
        results=[
            {"rma_line_id": line, "quantity": 1, "grade": "new", "disposition": "restock"},
            {"rma_line_id": line, "quantity": 2, "grade": "damaged", "disposition": "quarantine"},
        ],
        actor=warehouse_user,
    )
    phone_rma = authorize(phones, [(phone, 1, defective)])
    receive_return(
        rma_id=phone_rma.pk,
        location=node,
        lines=[{"rma_line_id": phone_rma.lines.get().pk, "quantity": 1, "serials": ["A"]}],
        actor=warehouse_user,
    )
    inspect_return(
        rma_id=phone_rma.pk,
        results=[{"serial": "A", "grade": "defective", "disposition": "quarantine"}],
        actor=warehouse_user,
    )
    authorize(market_tees, [(tee, 1, changed_mind)])
    return {"tee_rma": tee_rma, "phone_rma": phone_rma}


def test_return_rates_by_sku(sales, django_assert_num_queries):
    with django_assert_num_queries(3):
        figures = return_figures(by="sku")

    rows = {row["key"]: row for row in figures["rows"]}
    assert (rows["TEE"]["shipped"], rows["TEE"]["returned"], rows["TEE"]["return_rate"]) == (
        20,
        4,
        Decimal("0.2000"),
    )
    assert (rows["TEE"]["recoverable_rate"], rows["TEE"]["damage_rate"]) == (
        Decimal("0.3333"),
        Decimal("0.6667"),
    )
    assert (rows["PHONE"]["return_rate"], rows["PHONE"]["damage_rate"]) == (
        Decimal("0.2500"),
        Decimal("1.0000"),
    )
    totals = figures["totals"]
    assert (totals["shipped"], totals["returned"], totals["inspected"], totals["restocked"]) == (
        24,
        5,
        4,
        1,
    )
    assert totals["recoverable_rate"] == Decimal("0.2500")


def test_return_rates_by_channel_and_by_reason(sales):
    by_channel = {row["key"]: row for row in return_figures(by="channel")["rows"]}
    assert by_channel["SHOP"]["return_rate"] == Decimal("0.2857")  # 4 of 14
    assert by_channel["MKT"]["return_rate"] == Decimal("0.1000")  # 1 of 10
    assert by_channel["MKT"]["recoverable_rate"] is None  # nothing inspected yet

    by_reason = {row["key"]: row for row in return_figures(by="reason")["rows"]}
    assert (by_reason["changed_mind"]["returned"], by_reason["changed_mind"]["shipped"]) == (4, 24)
    assert by_reason["defective"]["return_rate"] == Decimal("0.0417")


def test_figures_take_the_same_queries_for_one_sku_and_for_many(
    node, changed_mind, authorize, django_assert_num_queries
):
    channel = ChannelFactory(code="MANY")
    ReturnPolicyFactory(channel=channel)
    skus = [SkuFactory(code=f"MANY-{n}") for n in range(6)]
    order = shipped_order(channel, [ShippedLine(sku, 2) for sku in skus], location=node)
    for sku in skus:
        authorize(order, [(sku, 1, changed_mind)])

    with django_assert_num_queries(3):
        figures = return_figures(by="sku", channel_code="MANY")
    assert [row["return_rate"] for row in figures["rows"]] == [Decimal("0.5000")] * 6


def test_the_period_selects_orders_by_when_they_were_placed(sales):
    future = timezone.now() + timedelta(days=1)
    figures = return_figures(by="sku", since=future)
    assert figures["rows"] == [] and figures["totals"]["return_rate"] is None


def test_return_cycle_time_runs_from_authorization_to_the_refund(sales, cs_user):
    rma = sales["tee_rma"]
    Rma.objects.filter(pk=rma.pk).update(authorized_at=timezone.now() - timedelta(hours=48))
    request_refund(rma_id=rma.pk, actor=cs_user)
    Refund.objects.filter(rma=rma).update(posted_at=timezone.now())

    cycle = return_cycle_time()

    assert cycle["count"] == 1
    assert timedelta(hours=47, minutes=59) < cycle["average"] <= timedelta(hours=48, minutes=1)
    assert cycle["longest"] == cycle["average"]
