"""Authorizing returns: tied to what shipped, under the channel's window, race-safe."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from erp.errors import Conflict, NotPermitted, ValidationFailed
from returns.models import Refund, ReturnReason, Rma, RmaLine
from returns.services.receiving import receive_return
from returns.services.rmas import cancel_rma, close_rma, create_rma
from tests.factories import UserFactory
from tests.factories.returns import ReturnPolicyFactory, ShippedLine, shipped_order
from tests.returns.conftest import line_of

pytestmark = pytest.mark.django_db


def test_customer_service_authorizes_a_return_of_shipped_units(
    tee_order, tee, changed_mind, authorize, cs_user
):
    rma = authorize(
        tee_order, [(tee, 2, changed_mind)], return_label_reference="1ZRETURN", note="size"
    )

    assert rma.number == f"RMA-{rma.pk:06d}"
    assert (rma.state, rma.channel, rma.order, rma.source) == (
        "authorized",
        tee_order.channel,
        tee_order,
        "back_office",
    )
    assert rma.return_label_reference == "1ZRETURN" and rma.created_by == cs_user
    line = rma.lines.get()
    assert (line.sku, line.quantity, line.reason, line.order_line) == (
        tee,
        2,
        changed_mind,
        line_of(tee_order, tee),
    )
    # Expected back within the policy's receipt days (14 by default).
    assert timedelta(days=13) < rma.expected_by - timezone.now() <= timedelta(days=14)
    assert rma.history.first().history_user == cs_user


def test_lines_may_be_named_by_the_channels_line_id(tee_order, tee, changed_mind, cs_user):
    rma = create_rma(
        order_id=tee_order.pk,
        lines=[
            {
                "external_line_id": line_of(tee_order, tee).external_line_id,
                "quantity": 1,
                "reason": "changed_mind",
            }
        ],
        actor=cs_user,
        source="channel_api",
        external_reference="AMZ-RMA-1",
    )
    assert rma.lines.get().quantity == 1 and rma.source == "channel_api"


def test_returning_more_than_shipped_is_refused_and_writes_nothing(
    tee_order, tee, changed_mind, authorize
):
    with pytest.raises(ValidationFailed) as refused:
        authorize(tee_order, [(tee, 4, changed_mind)])

    assert (refused.value.errors[0].field, refused.value.errors[0].code) == (
        "lines[0].quantity",
        "more_than_shipped",
    )
    assert not Rma.objects.exists() and not RmaLine.objects.exists()


def test_units_already_on_another_live_rma_cannot_be_returned_twice(
    tee_order, tee, changed_mind, authorize
):
    authorize(tee_order, [(tee, 2, changed_mind)])

    with pytest.raises(ValidationFailed) as refused:
        authorize(tee_order, [(tee, 2, changed_mind)])

    assert refused.value.errors[0].code == "more_than_shipped"
    assert "1 can come back" in refused.value.message
    assert Rma.objects.count() == 1


def test_a_cancelled_rma_frees_its_units_and_a_closed_one_frees_what_never_arrived(
    tee_order, tee, changed_mind, authorize, cs_user, warehouse_user, node
):
    first = authorize(tee_order, [(tee, 3, changed_mind)])
    cancel_rma(rma_id=first.pk, actor=cs_user, reason="buyer changed their mind again")
    second = authorize(tee_order, [(tee, 3, changed_mind)])
    receive_return(
        rma_id=second.pk,
        location=node,
        lines=[{"rma_line_id": second.lines.get().pk, "quantity": 1}],
        actor=warehouse_user,
    )
    from returns.services.inspection import inspect_return

    inspect_return(
        rma_id=second.pk,
        results=[{"rma_line_id": second.lines.get().pk, "grade": "new", "disposition": "restock"}],
        actor=warehouse_user,
    )
    close_rma(rma_id=second.pk, actor=cs_user, note="buyer kept two")

    third = authorize(tee_order, [(tee, 2, changed_mind)])
    assert third.lines.get().quantity == 2


def test_a_line_that_never_shipped_cannot_be_returned(
    shop, node, policy, tee, changed_mind, authorize
):
    order = shipped_order(shop, [ShippedLine(tee, 2)], location=node)
    order.lines.update(quantity_shipped=0)

    with pytest.raises(ValidationFailed) as refused:
        authorize(order, [(tee, 1, changed_mind)])

    assert refused.value.errors[0].code == "more_than_shipped"


def test_a_serial_must_have_shipped_on_that_order(phone_order, phone, changed_mind, authorize):
    with pytest.raises(ValidationFailed) as refused:
        authorize(phone_order, [(phone, 1, changed_mind, {"serials": ["SN-9"]})])

    assert (refused.value.errors[0].field, refused.value.errors[0].code) == (
        "lines[0].serials",
        "serial_not_shipped",
    )
    assert not Rma.objects.exists()

    rma = authorize(phone_order, [(phone, 1, changed_mind, {"serials": ["SN-2"]})])
    assert rma.lines.get().serials == ["SN-2"]


def test_a_serial_shipped_on_another_order_is_refused(
    shop, node, policy, phone, phone_order, changed_mind, authorize
):
    other = shipped_order(shop, [ShippedLine(phone, 1, serials=["SN-7"])], location=node)

    with pytest.raises(ValidationFailed) as refused:
        authorize(phone_order, [(phone, 1, changed_mind, {"serials": ["SN-7"]})])

    assert refused.value.errors[0].code == "serial_not_shipped"
    assert authorize(other, [(phone, 1, changed_mind, {"serials": ["SN-7"]})])


def test_a_serial_already_on_an_open_rma_is_refused(phone_order, phone, changed_mind, authorize):
    authorize(phone_order, [(phone, 1, changed_mind, {"serials": ["SN-1"]})])

    with pytest.raises(ValidationFailed) as refused:
        authorize(phone_order, [(phone, 1, changed_mind, {"serials": ["SN-1"]})])

    assert refused.value.errors[0].code == "serial_already_returned"


def test_serials_on_a_sku_that_is_not_serial_tracked_are_refused(
    tee_order, tee, changed_mind, authorize
):
    with pytest.raises(ValidationFailed) as refused:
        authorize(tee_order, [(tee, 1, changed_mind, {"serials": ["X"]})])
    assert refused.value.errors[0].code == "not_tracked"


def test_outside_the_window_needs_an_override_reason(
    shop, node, policy, tee, changed_mind, authorize
):
    late = shipped_order(shop, [ShippedLine(tee, 1)], location=node, shipped_days_ago=31)

    with pytest.raises(ValidationFailed) as refused:
        authorize(late, [(tee, 1, changed_mind)])

    assert (refused.value.errors[0].field, refused.value.errors[0].code) == (
        "override_reason",
        "outside_window",
    )
    assert not Rma.objects.exists()

    rma = authorize(late, [(tee, 1, changed_mind)], override_reason="loyal customer, manager ok")
    assert rma.override_reason == "loyal customer, manager ok"


def test_the_window_of_a_product_family_overrides_the_channels(
    shop, node, policy, tee, soap, changed_mind, authorize
):
    ReturnPolicyFactory(channel=shop, product_family="hygiene", window_days=7)
    order = shipped_order(
        shop, [ShippedLine(tee, 1), ShippedLine(soap, 1)], location=node, shipped_days_ago=10
    )

    assert authorize(order, [(tee, 1, changed_mind)])
    with pytest.raises(ValidationFailed) as refused:
        authorize(order, [(soap, 1, changed_mind)])
    assert refused.value.errors[0].code == "outside_window"


def test_without_a_policy_the_channels_own_window_applies(node, tee, changed_mind, authorize):
    from tests.factories import ChannelFactory

    channel = ChannelFactory(code="B2B", kind="b2b", return_window_days=5)
    order = shipped_order(channel, [ShippedLine(tee, 1)], location=node, shipped_days_ago=6)

    with pytest.raises(ValidationFailed) as refused:
        authorize(order, [(tee, 1, changed_mind)])
    assert "window is 5 days" in refused.value.message


def test_an_inactive_or_unknown_reason_is_refused(tee_order, tee, authorize):
    retired = ReturnReason.objects.create(code="retired", label="Retired", active=False)

    with pytest.raises(ValidationFailed) as inactive:
        authorize(tee_order, [(tee, 1, retired)])
    assert (inactive.value.errors[0].field, inactive.value.errors[0].code) == (
        "lines[0].reason",
        "inactive",
    )


def test_a_warehouse_user_cannot_authorize_returns(
    tee_order, tee, changed_mind, authorize, warehouse_user
):
    with pytest.raises(NotPermitted):
        authorize(tee_order, [(tee, 1, changed_mind)], actor=warehouse_user)


def test_the_channels_return_id_is_recorded_once(tee_order, tee, changed_mind, authorize):
    authorize(tee_order, [(tee, 1, changed_mind)], external_reference="5318877221")

    with pytest.raises(Conflict):
        authorize(tee_order, [(tee, 1, changed_mind)], external_reference="5318877221")


def test_an_expected_date_is_the_end_of_that_day_and_never_in_the_past(
    tee_order, tee, changed_mind, authorize
):
    day = timezone.localdate() + timedelta(days=5)
    rma = authorize(tee_order, [(tee, 1, changed_mind)], expected_by=day)
    assert timezone.localtime(rma.expected_by).date() == day

    with pytest.raises(ValidationFailed) as refused:
        authorize(tee_order, [(tee, 1, changed_mind)], expected_by=day - timedelta(days=10))
    assert refused.value.errors[0].code == "in_the_past"


def test_a_marketplace_return_already_refunded_on_the_channel_is_recorded_not_sent(
    tee_order, tee, changed_mind, cs_user, integration_user
):
    from erp.models import OutboxMessage

    rma = create_rma(
        order_id=tee_order.pk,
        lines=[
            {"order_line_id": line_of(tee_order, tee).pk, "quantity": 1, "reason": "changed_mind"}
        ],
        actor=integration_user,
        source="marketplace_initiated",
        external_reference="DcXq9v2RRMA",
        external_refund={"amount": Decimal("19.00"), "reference": "4211908902"},
    )

    refund = Refund.objects.get()
    assert (refund.rma, refund.state, refund.amount, refund.external_reference) == (
        rma,
        "posted_on_channel",
        Decimal("19.00"),
        "4211908902",
    )
    assert refund.posted_at is not None and refund.lines.get().quantity == 1
    assert not OutboxMessage.objects.exists()


def test_a_channel_refund_above_what_the_order_paid_is_refused(
    tee_order, tee, changed_mind, integration_user
):
    with pytest.raises(ValidationFailed) as refused:
        create_rma(
            order_id=tee_order.pk,
            lines=[
                {
                    "order_line_id": line_of(tee_order, tee).pk,
                    "quantity": 1,
                    "reason": "changed_mind",
                }
            ],
            actor=integration_user,
            source="marketplace_initiated",
            external_refund={"amount": tee_order.total + Decimal("0.01")},
        )

    assert (refused.value.errors[0].field, refused.value.errors[0].code) == (
        "external_refund.amount",
        "exceeds_paid",
    )
    assert not Rma.objects.exists() and not Refund.objects.exists()


def test_cancelling_needs_a_reason_and_nothing_received(
    tee_order, tee, changed_mind, authorize, cs_user, warehouse_user, node
):
    rma = authorize(tee_order, [(tee, 1, changed_mind)])
    with pytest.raises(ValidationFailed):
        cancel_rma(rma_id=rma.pk, actor=cs_user, reason=" ")
    receive_return(
        rma_id=rma.pk,
        location=node,
        lines=[{"rma_line_id": rma.lines.get().pk, "quantity": 1}],
        actor=warehouse_user,
    )

    with pytest.raises(Conflict):
        cancel_rma(rma_id=rma.pk, actor=cs_user, reason="too late")


def test_closing_with_units_awaiting_inspection_is_refused(
    tee_order, tee, changed_mind, authorize, cs_user, warehouse_user, node
):
    rma = authorize(tee_order, [(tee, 2, changed_mind)])
    receive_return(
        rma_id=rma.pk,
        location=node,
        lines=[{"rma_line_id": rma.lines.get().pk, "quantity": 1}],
        actor=warehouse_user,
    )

    with pytest.raises(Conflict) as refused:
        close_rma(rma_id=rma.pk, actor=cs_user, note="buyer kept one")
    assert refused.value.errors[0].code == "not_inspected"


def _authorize_in_thread(order_id, line_id, username, outcomes):
    from django.contrib.auth import get_user_model

    try:
        actor = get_user_model().objects.get(username=username)
        create_rma(
            order_id=order_id,
            lines=[{"order_line_id": line_id, "quantity": 2, "reason": "changed_mind"}],
            actor=actor,
        )
        outcomes.append("created")
    except ValidationFailed as error:
        outcomes.append(error.errors[0].code)
    finally:
        connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_rmas_racing_for_the_last_units_cannot_both_win(tee_order, tee, changed_mind, cs_user):
    UserFactory(username="second-cs", roles=["customer_service"])
    line_id = line_of(tee_order, tee).pk
    outcomes: list[str] = []
    threads = [
        threading.Thread(
            target=_authorize_in_thread, args=(tee_order.pk, line_id, username, outcomes)
        )
        for username in ("customer_service-user", "second-cs")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["created", "more_than_shipped"]
    assert sum(RmaLine.objects.values_list("quantity", flat=True)) == 2
