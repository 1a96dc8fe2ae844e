"""Refunds: computed from the order, due by policy, approved above the threshold, posted to
the channel through the outbox, and never more than the order paid."""

from decimal import Decimal

import pytest

from erp.errors import Conflict, NotPermitted, ValidationFailed
from erp.events import subscribe, unsubscribe
from erp.models import ApprovalRequest, OutboxMessage
from erp.services.approvals import decide_approval
from returns.models import Refund, RefundLine
from returns.services.inspection import inspect_return
from returns.services.receiving import receive_return
from returns.services.refunds import (
    REFUND_POSTED,
    decide_refund,
    record_channel_refund,
    request_refund,
    withdraw_refund,
)
from tests.factories import EndpointFactory
from tests.factories.returns import ReturnPolicyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def posted_events():
    events = []
    handler = subscribe(REFUND_POSTED)(events.append)
    yield events
    unsubscribe(REFUND_POSTED, handler)


def receive_all(rma, node, actor):
    receive_return(
        rma_id=rma.pk,
        location=node,
        lines=[{"rma_line_id": line.pk, "quantity": line.quantity} for line in rma.lines.all()],
        actor=actor,
    )


@pytest.fixture
def two_tees_back(tee_order, tee, changed_mind, authorize, node, warehouse_user):
    rma = authorize(tee_order, [(tee, 2, changed_mind)])
    receive_all(rma, node, warehouse_user)
    return rma


def test_a_refund_is_computed_from_the_order_lines(two_tees_back, cs_user, posted_events):
    refund = request_refund(rma_id=two_tees_back.pk, actor=cs_user)

    # 2 of 3 tees at 20.00: 40.00 − 4.00 of the 6.00 discount + 2.00 of the 3.00 tax.
    assert (refund.items_amount, refund.tax_amount, refund.shipping_amount) == (
        Decimal("36.00"),
        Decimal("2.00"),
        Decimal("0.00"),
    )
    assert (refund.amount, refund.state, refund.capped) == (Decimal("38.00"), "posted", False)
    assert refund.number == f"RF-{refund.pk:06d}" and refund.posted_at is not None
    line = RefundLine.objects.get()
    assert (line.quantity, line.discount_amount) == (2, Decimal("4.00"))
    assert [event.payload["refund_number"] for event in posted_events] == [refund.number]
    assert posted_events[0].payload["amount"] == "38.00"
    assert posted_events[0].payload["source"] == "erp"
    assert refund.history.first().history_user == cs_user


def test_our_fault_refunds_shipping_and_waives_the_restocking_fee(
    shop, tee_order, tee, changed_mind, defective, authorize, node, warehouse_user, cs_user, policy
):
    policy.restocking_fee_percent = Decimal("10")
    policy.save()
    remorse = authorize(tee_order, [(tee, 1, changed_mind)])
    fault = authorize(tee_order, [(tee, 2, defective)])
    receive_all(remorse, node, warehouse_user)
    receive_all(fault, node, warehouse_user)

    remorse_refund = request_refund(rma_id=remorse.pk, actor=cs_user)
    fault_refund = request_refund(rma_id=fault.pk, actor=cs_user)

    # One tee: 20.00 − 2.00 discount = 18.00, + 1.00 tax, − 10 % fee 1.80, no shipping.
    assert (
        remorse_refund.restocking_fee,
        remorse_refund.shipping_amount,
        remorse_refund.amount,
    ) == (
        Decimal("1.80"),
        Decimal("0.00"),
        Decimal("17.20"),
    )
    # Two tees: 36.00 + 2.00 tax + shipping 9.00 × 36/54 = 6.00, no fee.
    assert (fault_refund.restocking_fee, fault_refund.shipping_amount, fault_refund.amount) == (
        Decimal("0.00"),
        Decimal("6.00"),
        Decimal("44.00"),
    )


def test_when_the_seller_pays_return_shipping_the_shipping_share_is_refunded(
    two_tees_back, policy, cs_user
):
    policy.return_shipping_paid_by = "seller"
    policy.save()

    refund = request_refund(rma_id=two_tees_back.pk, actor=cs_user)

    assert (refund.shipping_amount, refund.amount) == (Decimal("6.00"), Decimal("44.00"))


def test_prices_that_include_tax_add_no_tax(
    shop, node, policy, tee, changed_mind, authorize, warehouse_user, cs_user
):
    from tests.factories.returns import ShippedLine, shipped_order

    order = shipped_order(
        shop,
        [ShippedLine(tee, 1, Decimal("24.00"), tax=Decimal("4.00"))],
        location=node,
        taxes_included=True,
    )
    rma = authorize(order, [(tee, 1, changed_mind)])
    receive_all(rma, node, warehouse_user)

    assert request_refund(rma_id=rma.pk, actor=cs_user).amount == Decimal("24.00")


def test_a_refund_before_the_policys_stage_is_refused(
    tee_order, tee, changed_mind, authorize, cs_user
):
    rma = authorize(tee_order, [(tee, 1, changed_mind)])

    with pytest.raises(ValidationFailed) as refused:
        request_refund(rma_id=rma.pk, actor=cs_user)

    assert (refused.value.errors[0].field, refused.value.errors[0].code) == (
        "rma",
        "refund_not_due",
    )
    assert "when the units arrive" in refused.value.message
    assert not Refund.objects.exists()


def test_after_inspection_only_inspected_units_are_refunded(
    two_tees_back, policy, cs_user, warehouse_user
):
    policy.refund_timing = "after_inspection"
    policy.save()
    with pytest.raises(ValidationFailed):
        request_refund(rma_id=two_tees_back.pk, actor=cs_user)
    inspect_return(
        rma_id=two_tees_back.pk,
        results=[
            {
                "rma_line_id": two_tees_back.lines.get().pk,
                "quantity": 1,
                "grade": "new",
                "disposition": "restock",
            }
        ],
        actor=warehouse_user,
    )

    first = request_refund(rma_id=two_tees_back.pk, actor=cs_user)

    assert first.lines.get().quantity == 1 and first.amount == Decimal("19.00")
    with pytest.raises(ValidationFailed):
        request_refund(rma_id=two_tees_back.pk, actor=cs_user)


def test_on_authorization_the_refund_is_due_at_once(
    tee_order, tee, changed_mind, authorize, cs_user, policy
):
    policy.refund_timing = "on_authorization"
    policy.save()
    rma = authorize(tee_order, [(tee, 1, changed_mind)])

    assert request_refund(rma_id=rma.pk, actor=cs_user).state == "posted"


def test_refunds_of_an_order_never_exceed_what_it_paid(
    tee_order, tee, defective, authorize, node, warehouse_user, cs_user
):
    tee_order.total = Decimal("50.00")  # a gift card paid the rest
    tee_order.save(update_fields=["total"])
    rma = authorize(tee_order, [(tee, 3, defective)])
    receive_all(rma, node, warehouse_user)

    refund = request_refund(rma_id=rma.pk, actor=cs_user)

    assert (refund.computed_amount, refund.amount, refund.capped) == (
        Decimal("66.00"),
        Decimal("50.00"),
        True,
    )


def test_a_refund_above_what_was_paid_is_refused_and_writes_nothing(two_tees_back, cs_user):
    with pytest.raises(ValidationFailed) as refused:
        request_refund(rma_id=two_tees_back.pk, actor=cs_user, amount=Decimal("66.01"))

    assert (refused.value.errors[0].field, refused.value.errors[0].code) == (
        "amount",
        "exceeds_paid",
    )
    assert not Refund.objects.exists() and not ApprovalRequest.objects.exists()


def test_an_agreed_amount_replaces_the_computed_one_within_what_is_left(two_tees_back, cs_user):
    refund = request_refund(
        rma_id=two_tees_back.pk, actor=cs_user, amount=Decimal("30"), note="agreed"
    )

    assert (refund.computed_amount, refund.amount) == (Decimal("38.00"), Decimal("30.00"))


def test_a_fully_refunded_order_takes_no_more_refunds(
    tee_order, tee, changed_mind, authorize, node, warehouse_user, cs_user, integration_user
):
    first = authorize(tee_order, [(tee, 1, changed_mind)])
    record_channel_refund(
        rma_id=first.pk, actor=integration_user, amount=tee_order.total, reference="R1"
    )
    second = authorize(tee_order, [(tee, 2, changed_mind)])
    receive_all(second, node, warehouse_user)

    with pytest.raises(ValidationFailed) as refused:
        request_refund(rma_id=second.pk, actor=cs_user)
    assert refused.value.errors[0].code == "exceeds_paid"


@pytest.fixture
def phones_back(phone_order, phone, changed_mind, authorize, node, warehouse_user):
    rma = authorize(phone_order, [(phone, 1, changed_mind)])
    receive_return(
        rma_id=rma.pk,
        location=node,
        lines=[{"rma_line_id": rma.lines.get().pk, "quantity": 1, "serials": ["SN-1"]}],
        actor=warehouse_user,
    )
    return rma


def test_a_refund_above_the_threshold_waits_in_the_approvals_inbox(
    phones_back, cs_user, posted_events
):
    refund = request_refund(rma_id=phones_back.pk, actor=cs_user)

    assert (refund.state, refund.amount, refund.posted_at) == (
        "pending_approval",
        Decimal("400.00"),
        None,
    )
    approval = ApprovalRequest.objects.get()
    assert (approval.kind, approval.amount, approval.requested_by, approval.subject) == (
        "refund",
        Decimal("400.00"),
        cs_user,
        refund,
    )
    assert refund.number in approval.summary and phones_back.number in approval.summary
    assert f"1 unit ({phones_back.lines.get().reason.label})" in approval.summary
    assert not posted_events and not OutboxMessage.objects.exists()


def test_a_manager_approves_and_the_refund_posts_to_the_channel(
    shop, phones_back, cs_user, manager, posted_events, policy
):
    policy.refund_endpoint = EndpointFactory(code="shop-refunds")
    policy.save()
    refund = request_refund(rma_id=phones_back.pk, actor=cs_user)
    assert not OutboxMessage.objects.exists()

    decide_refund(refund_id=refund.pk, actor=manager, approve=True, note="ok")

    refund.refresh_from_db()
    assert refund.state == "posted" and refund.posted_at is not None
    message = OutboxMessage.objects.get()
    assert refund.outbox_message == message
    assert (message.topic, message.endpoint.code) == ("refund.shopify", "shop-refunds")
    assert message.dedupe_key == f"refund.shopify:{phones_back.order.external_id}:{refund.number}"
    # Shopify refunds name the sale transaction: its refund calculation runs at delivery.
    payload = message.payload
    assert payload["format"] == "shopify"
    assert payload["lookup"]["path"].endswith(
        f"/orders/{phones_back.order.external_id}/refunds/calculate.json"
    )
    notice = payload["notice"]
    assert (notice["refund_reference"], notice["rma_reference"], notice["total"]) == (
        refund.number,
        phones_back.number,
        "400.00",
    )
    order_line = phones_back.lines.get().order_line
    assert [
        (line["external_line_id"], line["quantity"], line["item_amount"], line["reason_code"])
        for line in notice["lines"]
    ] == [(order_line.external_line_id, 1, "400.00", "changed_mind")]
    assert notice["restock"] is False
    assert [event.actor_id for event in posted_events] == [manager.pk]


@pytest.fixture
def portal(node):
    from tests.factories import ChannelFactory

    channel = ChannelFactory(code="PORTAL", kind="b2b", eligible_locations=[node])
    ReturnPolicyFactory(
        channel=channel, refund_timing="on_receipt", refund_endpoint=EndpointFactory(code="portal")
    )
    return channel


@pytest.fixture
def portal_tees_back(portal, node, tee, changed_mind, authorize, warehouse_user):
    from tests.factories.returns import ShippedLine, shipped_order

    order = shipped_order(
        portal,
        [ShippedLine(tee, 3, Decimal("20.00"), tax=Decimal("3.00"), discount=Decimal("6.00"))],
        location=node,
        shipping_total=Decimal("9.00"),
    )
    rma = authorize(order, [(tee, 2, changed_mind)])
    receive_all(rma, node, warehouse_user)
    return rma


def test_a_small_refund_posts_at_once_with_its_outbox_message(portal_tees_back, cs_user):
    refund = request_refund(rma_id=portal_tees_back.pk, actor=cs_user)

    assert refund.state == "posted"
    message = OutboxMessage.objects.get()
    request = message.payload["request"]
    order = portal_tees_back.order
    assert (message.topic, request["method"], request["path"]) == (
        "refund.b2b",
        "POST",
        f"/orders/{order.external_id}/refunds",
    )
    body = request["body"]
    assert (body["refund_reference"], body["rma_number"], body["amount"]) == (
        refund.number,
        portal_tees_back.number,
        "38.00",
    )
    assert (body["items_amount"], body["tax_amount"], body["record_only"]) == (
        "36.00",
        "2.00",
        False,
    )
    assert [(line["line_id"], line["quantity"]) for line in body["lines"]] == [
        (order.lines.get().external_line_id, 2)
    ]


def test_a_refund_cut_to_what_was_paid_is_told_to_the_channel_as_posted(portal_tees_back, cs_user):
    order = portal_tees_back.order
    order.total = Decimal("30.00")
    order.save(update_fields=["total"])

    refund = request_refund(rma_id=portal_tees_back.pk, actor=cs_user)

    body = OutboxMessage.objects.get().payload["request"]["body"]
    assert (refund.amount, body["amount"]) == (Decimal("30.00"), "30.00")
    told = sum(
        Decimal(line["items_amount"]) + Decimal(line["tax_amount"]) for line in body["lines"]
    )
    assert told + Decimal(body["shipping_amount"]) - Decimal(body["restocking_fee"]) == Decimal(
        "30.00"
    )


def test_a_refund_the_channel_would_refuse_is_refused_when_it_posts(
    node, tee, changed_mind, authorize, warehouse_user, cs_user
):
    from tests.factories import ChannelFactory
    from tests.factories.returns import ShippedLine, shipped_order

    amazon = ChannelFactory(code="AMZ", kind="amazon", eligible_locations=[node])
    ReturnPolicyFactory(channel=amazon, refund_endpoint=EndpointFactory(code="amazon"))
    order = shipped_order(amazon, [ShippedLine(tee, 1)], location=node)  # no marketplace id
    rma = authorize(order, [(tee, 1, changed_mind)])
    receive_all(rma, node, warehouse_user)

    with pytest.raises(ValidationFailed) as refused:
        request_refund(rma_id=rma.pk, actor=cs_user)

    assert refused.value.errors[0].field == "extra.marketplace_id"
    assert not Refund.objects.exists() and not OutboxMessage.objects.exists()


def test_customer_service_cannot_approve_a_refund(phones_back, cs_user, manager):
    refund = request_refund(rma_id=phones_back.pk, actor=manager)

    with pytest.raises(NotPermitted):
        decide_refund(refund_id=refund.pk, actor=cs_user, approve=True)
    refund.refresh_from_db()
    assert refund.state == "pending_approval"


def test_approving_your_own_refund_is_refused(phones_back, manager):
    refund = request_refund(rma_id=phones_back.pk, actor=manager)

    with pytest.raises(NotPermitted) as refused:
        decide_refund(refund_id=refund.pk, actor=manager, approve=True)

    assert refused.value.errors[0].code == "own_request"
    refund.refresh_from_db()
    assert refund.state == "pending_approval" and not OutboxMessage.objects.exists()


def test_finance_may_approve_refunds(phones_back, cs_user, finance_user):
    refund = request_refund(rma_id=phones_back.pk, actor=cs_user)

    assert decide_refund(refund_id=refund.pk, actor=finance_user, approve=True).state == "posted"


def test_a_rejected_refund_frees_its_units_for_another_request(
    phones_back, cs_user, manager, posted_events
):
    refund = request_refund(rma_id=phones_back.pk, actor=cs_user)
    approval = ApprovalRequest.objects.get()

    with pytest.raises(ValidationFailed):
        decide_approval(request_id=approval.pk, actor=manager, approve=False, note="")
    decide_approval(request_id=approval.pk, actor=manager, approve=False, note="check the unit")

    refund.refresh_from_db()
    assert refund.state == "rejected" and refund.closed_at is not None and not posted_events
    again = request_refund(rma_id=phones_back.pk, actor=cs_user, amount=Decimal("350"))
    assert again.state == "pending_approval"


def test_a_waiting_refund_can_be_withdrawn(phones_back, cs_user, manager):
    refund = request_refund(rma_id=phones_back.pk, actor=cs_user)

    withdraw_refund(refund_id=refund.pk, actor=cs_user, note="buyer accepted a replacement")

    refund.refresh_from_db()
    assert refund.state == "cancelled"
    assert ApprovalRequest.objects.get().state == "cancelled"
    with pytest.raises(Conflict):
        decide_refund(refund_id=refund.pk, actor=manager, approve=True)


def test_warehouse_staff_cannot_request_refunds(two_tees_back, warehouse_user):
    with pytest.raises(NotPermitted):
        request_refund(rma_id=two_tees_back.pk, actor=warehouse_user)


def test_a_channel_refund_is_recorded_once_and_announced(
    two_tees_back, integration_user, posted_events
):
    refund = record_channel_refund(
        rma_id=two_tees_back.pk, actor=integration_user, amount="38.00", reference="930112233401"
    )

    assert refund.state == "posted_on_channel" and not OutboxMessage.objects.exists()
    assert posted_events[0].payload["source"] == "channel"
    with pytest.raises(Conflict):
        record_channel_refund(
            rma_id=two_tees_back.pk, actor=integration_user, amount="1.00", reference="930112233401"
        )


def test_a_family_policy_sets_its_own_fee_and_timing(
    shop, node, policy, tee, soap, changed_mind, authorize, warehouse_user, cs_user
):
    from tests.factories.returns import ShippedLine, shipped_order

    ReturnPolicyFactory(
        channel=shop,
        product_family="hygiene",
        restocking_fee_percent=Decimal("50"),
        refund_timing="on_authorization",
    )
    order = shipped_order(
        shop, [ShippedLine(tee, 1), ShippedLine(soap, 1, Decimal("4.00"))], location=node
    )
    rma = authorize(order, [(tee, 1, changed_mind), (soap, 1, changed_mind)])

    refund = request_refund(rma_id=rma.pk, actor=cs_user)

    # The soap is due on authorization (fee 50 %); the tee waits for its receipt.
    assert [(line.rma_line.sku, line.restocking_fee) for line in refund.lines.all()] == [
        (soap, Decimal("2.00"))
    ]
    assert refund.amount == Decimal("2.00")


def test_partial_refunds_of_a_line_add_up_to_its_tax_and_discount_exactly(
    shop, node, policy, tee, changed_mind, authorize, warehouse_user, cs_user
):
    from tests.factories.returns import ShippedLine, shipped_order

    order = shipped_order(
        shop,
        [ShippedLine(tee, 3, Decimal("10.00"), tax=Decimal("1.00"), discount=Decimal("2.00"))],
        location=node,
    )
    rma = authorize(order, [(tee, 3, changed_mind)])
    refunds = []
    for _ in range(3):
        receive_return(
            rma_id=rma.pk,
            location=node,
            lines=[{"rma_line_id": rma.lines.get().pk, "quantity": 1}],
            actor=warehouse_user,
        )
        refunds.append(request_refund(rma_id=rma.pk, actor=cs_user))

    assert [r.tax_amount for r in refunds] == [Decimal("0.33"), Decimal("0.34"), Decimal("0.33")]
    assert sum(line.discount_amount for line in RefundLine.objects.all()) == Decimal("2.00")
    assert sum(r.amount for r in refunds) == order.total


def _refund_in_thread(rma_id, username, amounts):
    from django.contrib.auth import get_user_model
    from django.db import connection

    try:
        actor = get_user_model().objects.get(username=username)
        amounts.append(request_refund(rma_id=rma_id, actor=actor).amount)
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_refunds_racing_for_what_is_left_of_the_order_never_exceed_it(
    tee_order, tee, defective, authorize, node, warehouse_user, cs_user
):
    import threading

    from tests.factories import UserFactory

    tee_order.total = Decimal("50.00")
    tee_order.save(update_fields=["total"])
    first = authorize(tee_order, [(tee, 1, defective)])
    second = authorize(tee_order, [(tee, 2, defective)])
    receive_all(first, node, warehouse_user)
    receive_all(second, node, warehouse_user)
    UserFactory(username="second-cs", roles=["customer_service"])
    amounts: list[Decimal] = []
    threads = [
        threading.Thread(target=_refund_in_thread, args=(rma.pk, username, amounts))
        for rma, username in ((first, "customer_service-user"), (second, "second-cs"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Alone they would be 22.00 and 44.00; together they stop at what the order paid.
    assert len(amounts) == 2 and sum(amounts) == Decimal("50.00")
    assert sum(Refund.objects.values_list("amount", flat=True)) == Decimal("50.00")
