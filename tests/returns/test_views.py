"""The returns back office through HTTP: each screen's happy path, its refusals (shown
under the input that caused them, nothing written), and query counts that do not grow
with the rows."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from erp.models import ApprovalRequest, OutboxMessage
from inventory.models import InventoryAdjustment, StockLedgerEntry
from returns.models import (
    Inspection,
    ReceivedItem,
    Refund,
    RepairOrder,
    ReturnReceipt,
    Rma,
)
from returns.services.inspection import inspect_return
from returns.services.receiving import receive_return
from returns.services.refunds import request_refund
from returns.services.rmas import cancel_rma, returned_units
from tests.factories import ChannelFactory, EndpointFactory, SkuFactory, UserFactory
from tests.factories.returns import ReturnPolicyFactory, ShippedLine, shipped_order
from tests.returns.conftest import line_of, on_hand

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def receive(rma, node, actor, quantity=None, **line):
    rma_line = rma.lines.get()
    return receive_return(
        rma_id=rma.pk,
        location=node,
        lines=[{"rma_line_id": rma_line.pk, "quantity": quantity or rma_line.quantity, **line}],
        actor=actor,
    )


def errors_of(response, field: str) -> list[str]:
    return list(response.context["form"].errors.get(field, []))


# --- creating an RMA ---------------------------------------------------------------------------


def test_finding_the_order_shows_shipped_minus_already_returned_per_line(
    client, cs_user, tee_order, tee, changed_mind, authorize
):
    authorize(tee_order, [(tee, 1, changed_mind)])
    client.force_login(cs_user)

    response = client.get(reverse("returns:create"), {"q": tee_order.order_number})

    assert response.status_code == 200
    assert response.context["order"] == tee_order
    (row,) = response.context["form"].lines
    assert (row.line.quantity_shipped, row.returned, row.returnable) == (3, 1, 2)
    assert not row.outside_window
    body = response.content.decode()
    assert 'max="2"' in body and "Changed mind / no longer needed" in body


def test_an_unknown_order_number_is_said_so(client, cs_user, tee_order):
    client.force_login(cs_user)

    response = client.get(reverse("returns:create"), {"q": "NOPE-1"})

    assert response.context["order"] is None
    assert response.context["lookup"].errors["q"] == ["No order NOPE-1."]


def test_customer_service_authorizes_a_return_of_shipped_units(
    client, cs_user, tee_order, tee, changed_mind
):
    client.force_login(cs_user)
    line = line_of(tee_order, tee)
    expected = timezone.localdate() + timedelta(days=10)

    response = client.post(
        reverse("returns:create"),
        {
            "order": tee_order.pk,
            f"line_{line.pk}_quantity": "2",
            f"line_{line.pk}_reason": "changed_mind",
            "expected_by": expected.isoformat(),
            "return_label_reference": "1ZRETURN01",
        },
        **HTMX,
    )

    rma = Rma.objects.get()
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("returns:detail", args=[rma.pk])
    assert (rma.created_by, rma.return_label_reference) == (cs_user, "1ZRETURN01")
    assert timezone.localdate(rma.expected_by) == expected
    assert [(x.order_line, x.quantity, x.reason) for x in rma.lines.all()] == [
        (line, 2, changed_mind)
    ]


def test_returning_more_than_shipped_is_refused_under_the_quantity(
    client, cs_user, tee_order, tee, changed_mind, authorize
):
    authorize(tee_order, [(tee, 2, changed_mind)])
    client.force_login(cs_user)
    line = line_of(tee_order, tee)

    response = client.post(
        reverse("returns:create"),
        {
            "order": tee_order.pk,
            f"line_{line.pk}_quantity": "2",
            f"line_{line.pk}_reason": "changed_mind",
        },
        **HTMX,
    )

    assert response.status_code == 200
    assert errors_of(response, f"line_{line.pk}_quantity") == [
        "Line 1 (TEE): 3 shipped, 2 already returned; at most 1 can come back."
    ]
    assert "Nothing was changed." in response.content.decode()
    assert Rma.objects.count() == 1


def test_a_return_outside_the_window_needs_an_override_reason(
    client, cs_user, shop, node, policy, tee, changed_mind
):
    order = shipped_order(shop, [ShippedLine(tee, 1)], location=node, shipped_days_ago=45)
    line = line_of(order, tee)
    client.force_login(cs_user)
    data = {
        "order": order.pk,
        f"line_{line.pk}_quantity": "1",
        f"line_{line.pk}_reason": "changed_mind",
    }

    refused = client.post(reverse("returns:create"), data, **HTMX)

    assert refused.context["outside_window"]
    assert errors_of(refused, "override_reason") == [
        "Line 1 shipped 45 days ago; the return window is 30 days. Give an override reason "
        "to accept it anyway."
    ]
    assert not Rma.objects.exists()

    accepted = client.post(
        reverse("returns:create"),
        {**data, "override_reason": "Loyal customer, manager agreed"},
        **HTMX,
    )

    assert accepted.status_code == 200 and "HX-Redirect" in accepted
    assert Rma.objects.get().override_reason == "Loyal customer, manager agreed"


def test_a_serial_that_never_shipped_on_the_order_is_refused(
    client, cs_user, phone_order, phone, changed_mind
):
    line = line_of(phone_order, phone)
    client.force_login(cs_user)

    response = client.post(
        reverse("returns:create"),
        {
            "order": phone_order.pk,
            f"line_{line.pk}_quantity": "1",
            f"line_{line.pk}_reason": "changed_mind",
            f"line_{line.pk}_serials": "SN-9",
        },
    )

    assert response.status_code == 200
    assert errors_of(response, f"line_{line.pk}_serials") == [
        "Serial SN-9 was never shipped on this order line."
    ]
    assert not Rma.objects.exists()


def test_a_line_without_a_reason_and_an_empty_rma_are_refused(
    client, cs_user, tee_order, tee, changed_mind
):
    line = line_of(tee_order, tee)
    client.force_login(cs_user)
    url = reverse("returns:create")

    no_reason = client.post(url, {"order": tee_order.pk, f"line_{line.pk}_quantity": "1"})
    nothing = client.post(url, {"order": tee_order.pk, f"line_{line.pk}_quantity": "0"})

    assert errors_of(no_reason, f"line_{line.pk}_reason") == ["Choose a return reason."]
    assert nothing.context["form"].non_field_errors() == ["Name at least one order line."]
    assert not Rma.objects.exists()


def test_returned_units_count_live_rmas_and_what_closed_ones_received(
    tee_order, tee, changed_mind, authorize, cs_user, node, warehouse_user
):
    line = line_of(tee_order, tee)
    cancelled = authorize(tee_order, [(tee, 3, changed_mind)])
    cancel_rma(rma_id=cancelled.pk, actor=cs_user, reason="duplicate")
    assert returned_units([line.pk]) == {}

    authorize(tee_order, [(tee, 2, changed_mind)])

    assert returned_units([line.pk]) == {line.pk: 2}


def test_the_warehouse_cannot_authorize_returns(client, warehouse_user, tee_order):
    client.force_login(warehouse_user)

    assert client.get(reverse("returns:create")).status_code == 403


def test_the_order_page_links_shipped_orders_to_a_new_rma(client, cs_user, tee_order):
    client.force_login(cs_user)

    response = client.get(reverse("orders:detail", args=[tee_order.pk]))
    opened = client.get(reverse("returns:create"), {"order": tee_order.pk})

    assert f"{reverse('returns:create')}?order={tee_order.pk}" in response.content.decode()
    assert opened.context["order"] == tee_order


# --- the RMA list and page ---------------------------------------------------------------------


@pytest.fixture
def many_rmas(shop, node, policy, tee, changed_mind, authorize):
    def create(count: int) -> list[Rma]:
        created = []
        for number in range(count):
            order = shipped_order(
                shop, [ShippedLine(tee, 1)], location=node, order_number=f"50{number:02d}"
            )
            created.append(authorize(order, [(tee, 1, changed_mind)]))
        return created

    return create


def test_the_rma_list_filters_by_state_channel_lateness_and_search(
    client, cs_user, many_rmas, node, warehouse_user, tee, changed_mind, authorize
):
    first, second, third = many_rmas(3)
    receive(second, node, warehouse_user)
    Rma.objects.filter(pk=third.pk).update(expected_by=timezone.now() - timedelta(days=1))
    market = ChannelFactory(code="MKT", kind="amazon")
    ReturnPolicyFactory(channel=market)
    other = authorize(
        shipped_order(market, [ShippedLine(tee, 1)], location=node), [(tee, 1, changed_mind)]
    )
    client.force_login(cs_user)
    url = reverse("returns:list")

    def listed(**params):
        return list(client.get(url, params).context["page"].object_list)

    assert listed() == [other, third, second, first]
    assert listed(state="received") == [second]
    assert listed(channel="MKT") == [other]
    assert listed(overdue="on") == [third]
    assert listed(q=first.order.order_number) == [first]
    assert listed(q=first.number) == [first]
    fragment = client.get(url, {"state": "received"}, **HTMX)
    assert fragment.templates[0].name == "returns/partials/rma_results.html"


def test_the_rma_list_takes_the_same_queries_for_one_rma_and_many(
    client, cs_user, many_rmas, django_assert_num_queries
):
    many_rmas(1)
    client.force_login(cs_user)
    url = reverse("returns:list")
    client.get(url)

    with django_assert_num_queries(6):
        client.get(url)
    many_rmas(6)
    with django_assert_num_queries(6):
        response = client.get(url)
    assert len(response.context["page"].object_list) == 7


@pytest.fixture
def refund_endpoint(policy):
    policy.refund_endpoint = EndpointFactory(code="shop-refunds")
    policy.save()
    return policy.refund_endpoint


def test_the_rma_page_shows_what_arrived_how_it_was_graded_and_the_refund_with_its_message(
    client,
    cs_user,
    warehouse_user,
    phone_order,
    phone,
    changed_mind,
    authorize,
    node,
    manager,
    refund_endpoint,
):
    rma = authorize(phone_order, [(phone, 2, changed_mind, {"serials": ["SN-1"]})])
    receive(rma, node, warehouse_user, serials=["SN-1", "SN-2"])
    inspect_return(
        rma_id=rma.pk,
        results=[
            {"serial": "SN-1", "grade": "like_new", "disposition": "restock"},
            {"serial": "SN-2", "grade": "damaged", "disposition": "dispose"},
        ],
        actor=warehouse_user,
    )
    refund = request_refund(rma_id=rma.pk, actor=cs_user)
    client.force_login(manager)
    client.post(
        reverse("approval-decide", args=[ApprovalRequest.objects.get(kind="refund").pk]),
        {"decision": "approve", "note": "ok"},
    )
    client.force_login(cs_user)

    response = client.get(reverse("returns:detail", args=[rma.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "SN-2" in body and "Serial not on the RMA" in body  # flagged: SN-1 was expected
    assert "Waiting for manager approval" in body  # the 300.00 write-off
    assert f"{refund.number}" in body and "Posted" in body
    assert "Approved by manager-user" in body
    message = OutboxMessage.objects.get()
    assert f'id="outbox-{message.pk}"' in body and "refund.shopify" in body
    assert "authorized" in body  # the history's reason
    assert response.context["offered"]["refund"]


def test_the_rma_page_takes_the_same_queries_for_one_line_and_many(
    client,
    cs_user,
    warehouse_user,
    shop,
    node,
    policy,
    changed_mind,
    authorize,
    refund_endpoint,
    django_assert_num_queries,
):
    def returned_and_refunded(codes):
        skus = [SkuFactory(code=code) for code in codes]
        # 10.00 a unit: even five lines stay within the refund threshold, so both post.
        order = shipped_order(
            shop, [ShippedLine(sku, 2, Decimal("10.00")) for sku in skus], location=node
        )
        rma = authorize(order, [(sku, 2, changed_mind) for sku in skus])
        receive_return(
            rma_id=rma.pk,
            location=node,
            lines=[{"rma_line_id": line.pk, "quantity": 2} for line in rma.lines.all()],
            actor=warehouse_user,
        )
        inspect_return(
            rma_id=rma.pk,
            results=[
                {"rma_line_id": line.pk, "grade": "new", "disposition": "restock"}
                for line in rma.lines.all()
            ],
            actor=warehouse_user,
        )
        request_refund(rma_id=rma.pk, actor=cs_user)
        return reverse("returns:detail", args=[rma.pk])

    one = returned_and_refunded(["ONE"])
    many = returned_and_refunded([f"MANY-{number}" for number in range(5)])
    client.force_login(cs_user)
    client.get(one)

    with django_assert_num_queries(RMA_PAGE_QUERIES):
        client.get(one)
    with django_assert_num_queries(RMA_PAGE_QUERIES):
        response = client.get(many)
    assert len(response.context["lines"]) == 5
    assert response.context["refunds"][0].outbox_message is not None


RMA_PAGE_QUERIES = 20


def test_the_approvals_inbox_links_a_refund_to_its_rma_page(
    client, cs_user, phone_order, phone, changed_mind, authorize, node, warehouse_user, manager
):
    rma = authorize(phone_order, [(phone, 1, changed_mind)])
    receive(rma, node, warehouse_user, serials=["SN-1"])
    refund = request_refund(rma_id=rma.pk, actor=cs_user)
    client.force_login(manager)

    (row,) = client.get(reverse("approval-inbox")).context["rows"]
    followed = client.get(row["url"])

    assert row["url"] == reverse("returns:refund-detail", args=[refund.pk])
    assert followed.status_code == 302
    assert followed["Location"] == f"{reverse('returns:detail', args=[rma.pk])}#refund-{refund.pk}"


# --- refunds from the RMA page -----------------------------------------------------------------


def test_requesting_a_refund_shows_the_breakdown_then_waits_for_a_manager(
    client, cs_user, phone_order, phone, changed_mind, authorize, node, warehouse_user
):
    rma = authorize(phone_order, [(phone, 1, changed_mind)])
    receive(rma, node, warehouse_user, serials=["SN-1"])
    client.force_login(cs_user)
    page = client.get(reverse("returns:detail", args=[rma.pk]))
    quote = page.context["quote"]
    assert (quote.items_amount, quote.amount) == (Decimal("400.00"), Decimal("400.00"))
    assert 'id="refund-quote"' in page.content.decode()

    response = client.post(reverse("returns:refund", args=[rma.pk]), {"note": "ok"}, **HTMX)

    refund = Refund.objects.get()
    assert refund.state == "pending_approval" and refund.requested_by == cs_user
    assert response.templates[0].name == "returns/partials/rma_body.html"
    assert response.context["done"] == (
        f"Refund {refund.number} of 400.00 USD waits for a manager's approval."
    )
    assert "queuesChanged" in response["HX-Trigger"]
    assert ApprovalRequest.objects.get().kind == "refund"


def test_a_refund_not_due_yet_is_refused_on_its_form(
    client, cs_user, phone_order, phone, changed_mind, authorize
):
    rma = authorize(phone_order, [(phone, 1, changed_mind)])
    client.force_login(cs_user)

    response = client.post(reverse("returns:refund", args=[rma.pk]), {}, **HTMX)

    form = response.context["action_forms"]["refund"]
    assert form.non_field_errors() == ["PHONE: the policy refunds when the units arrive."]
    assert response.context["open_action"] == "refund"
    assert not Refund.objects.exists()


def test_a_refund_above_what_was_paid_is_refused_under_the_amount(
    client, cs_user, tee_order, tee, changed_mind, authorize, node, warehouse_user
):
    rma = authorize(tee_order, [(tee, 1, changed_mind)])
    receive(rma, node, warehouse_user)
    client.force_login(cs_user)

    response = client.post(reverse("returns:refund", args=[rma.pk]), {"amount": "500"}, **HTMX)

    assert response.context["action_forms"]["refund"].errors["amount"] == [
        f"The order paid {tee_order.total} and 0.00 is already refunded: at most "
        f"{tee_order.total} can go back."
    ]
    assert not Refund.objects.exists()


def test_the_requester_withdraws_a_waiting_refund(
    client, cs_user, phone_order, phone, changed_mind, authorize, node, warehouse_user
):
    rma = authorize(phone_order, [(phone, 1, changed_mind)])
    receive(rma, node, warehouse_user, serials=["SN-1"])
    refund = request_refund(rma_id=rma.pk, actor=cs_user)
    client.force_login(cs_user)
    url = reverse("returns:refund-withdraw", args=[refund.pk])

    refused = client.post(url, {"note": ""}, **HTMX)
    withdrawn = client.post(url, {"note": "customer kept it"}, **HTMX)

    assert refused.context["action_forms"]["withdraw"].errors["note"] == [
        "Say why the refund is withdrawn."
    ]
    assert withdrawn.context["done"] == f"Refund {refund.number} withdrawn."
    refund.refresh_from_db()
    assert refund.state == "cancelled"


def test_cancelling_an_rma_needs_a_reason(client, cs_user, tee_order, tee, changed_mind, authorize):
    rma = authorize(tee_order, [(tee, 1, changed_mind)])
    client.force_login(cs_user)
    url = reverse("returns:cancel", args=[rma.pk])

    refused = client.post(url, {"reason": ""}, **HTMX)
    rma.refresh_from_db()
    assert rma.state == "authorized"
    assert refused.context["action_forms"]["cancel"].errors["reason"] == [
        "Say why the RMA is cancelled."
    ]

    response = client.post(url, {"reason": "duplicate"})

    assert response.status_code == 302
    rma.refresh_from_db()
    assert rma.state == "cancelled"


# --- the dock ----------------------------------------------------------------------------------


def test_the_dock_finds_the_rma_by_its_number_or_its_order(
    client, warehouse_user, tee_order, tee, changed_mind, authorize, node
):
    rma = authorize(tee_order, [(tee, 2, changed_mind)])
    client.force_login(warehouse_user)
    url = reverse("returns:dock")

    by_number = client.get(url, {"node": node.code, "scan": rma.number.lower()}, **HTMX)
    by_order = client.get(url, {"node": node.code, "scan": tee_order.external_id})
    unknown = client.get(url, {"node": node.code, "scan": "RMA-999999"})

    assert by_number.templates[0].name == "returns/partials/dock_station.html"
    assert by_number.context["rma"] == rma and by_order.context["rma"] == rma
    assert [line.outstanding for line, _ in by_order.context["receipt_form"].rows()] == [2]
    assert unknown.context["rma"] is None
    assert (
        unknown.context["scan_form"].errors["scan"][0].startswith("Nothing expected for RMA-999999")
    )


def test_receiving_at_the_dock_books_the_units_into_inspection(
    client, warehouse_user, tee_order, tee, changed_mind, authorize, node
):
    rma = authorize(tee_order, [(tee, 2, changed_mind)])
    line = rma.lines.get()
    client.force_login(warehouse_user)

    response = client.post(
        reverse("returns:receive", args=[rma.pk]),
        {"node": node.code, f"line_{line.pk}_quantity": "2"},
        **HTMX,
    )

    assert response.context["done"] == (
        f"Received 2 units on {rma.number} into inspection at {node.code}."
    )
    assert "queuesChanged" in response["HX-Trigger"]
    assert on_hand(tee, node, "inspection") == 2
    entry = StockLedgerEntry.objects.get(kind="return_receipt")
    assert (entry.quantity, entry.reference, entry.actor) == (2, rma.number, warehouse_user)
    rma.refresh_from_db()
    assert rma.state == "received"


def test_a_wrong_serial_and_an_unexpected_item_are_received_and_flagged(
    client, warehouse_user, phone_order, phone, changed_mind, authorize, node
):
    SkuFactory(code="CABLE")
    rma = authorize(phone_order, [(phone, 1, changed_mind, {"serials": ["SN-1"]})])
    line = rma.lines.get()
    client.force_login(warehouse_user)

    response = client.post(
        reverse("returns:receive", args=[rma.pk]),
        {
            "node": node.code,
            f"line_{line.pk}_quantity": "1",
            f"line_{line.pk}_serials": "SN-2\n",
            "unexpected_0_sku": "CABLE",
            "unexpected_0_quantity": "1",
            "unexpected_0_note": "charging cable",
        },
        **HTMX,
    )

    flagged = response.context["last_receipt"].flagged
    assert sorted(item.discrepancy for item in flagged) == [
        "serial_not_expected",
        "unexpected_item",
    ]
    assert response.context["done"].endswith("2 flagged for customer service.")
    assert "Serial not on the RMA" in response.content.decode()


def test_receiving_more_than_expected_is_refused_under_the_line_and_writes_nothing(
    client, warehouse_user, tee_order, tee, changed_mind, authorize, node
):
    rma = authorize(tee_order, [(tee, 1, changed_mind)])
    line = rma.lines.get()
    client.force_login(warehouse_user)

    response = client.post(
        reverse("returns:receive", args=[rma.pk]),
        {"node": node.code, f"line_{line.pk}_quantity": "3"},
        **HTMX,
    )

    form = response.context["receipt_form"]
    assert form.errors[f"line_{line.pk}_quantity"] == [
        "TEE: 1 still expected on this line, 3 scanned. Receive the extra units as unexpected."
    ]
    assert 'class="has-errors"' in response.content.decode()
    assert not ReturnReceipt.objects.exists() and not StockLedgerEntry.objects.exists()


def test_a_serial_tracked_unit_needs_its_serial_scanned(
    client, warehouse_user, phone_order, phone, changed_mind, authorize, node
):
    rma = authorize(phone_order, [(phone, 1, changed_mind)])
    line = rma.lines.get()
    client.force_login(warehouse_user)

    response = client.post(
        reverse("returns:receive", args=[rma.pk]),
        {"node": node.code, f"line_{line.pk}_quantity": "1"},
        **HTMX,
    )

    assert response.context["receipt_form"].errors[f"line_{line.pk}_serials"] == [
        "PHONE is serial-tracked: scan 1 distinct serials."
    ]
    assert not ReceivedItem.objects.exists()


def test_customer_service_cannot_receive_at_the_dock(client, cs_user, node):
    client.force_login(cs_user)

    assert client.get(reverse("returns:dock")).status_code == 403


# --- inspection --------------------------------------------------------------------------------


@pytest.fixture
def received_blenders(shop, node, policy, changed_mind, authorize, warehouse_user):
    blender = SkuFactory(code="BLENDER", product_family="kitchen", unit_cost=Decimal("300.00"))
    order = shipped_order(shop, [ShippedLine(blender, 2, Decimal("400.00"))], location=node)
    rma = authorize(order, [(blender, 2, changed_mind)])
    receive(rma, node, warehouse_user)
    return rma


def inspect_url(rma):
    return reverse("returns:inspect-item", args=[rma.pk, rma.received_items.get().pk])


def test_one_unit_restocked_and_one_disposed_waits_for_a_manager(
    client, warehouse_user, received_blenders, node
):
    rma = received_blenders
    item = rma.received_items.get()
    client.force_login(warehouse_user)
    screen = client.get(reverse("returns:inspect", args=[rma.pk]))
    assert [row["waiting"] for row in screen.context["rows"]] == [2]

    restocked = client.post(
        inspect_url(rma),
        {
            f"item-{item.pk}-quantity": "1",
            f"item-{item.pk}-grade": "like_new",
            f"item-{item.pk}-disposition": "restock",
        },
        **HTMX,
    )
    disposed = client.post(
        inspect_url(rma),
        {
            f"item-{item.pk}-quantity": "1",
            f"item-{item.pk}-grade": "damaged",
            f"item-{item.pk}-disposition": "dispose",
            f"item-{item.pk}-note": "cracked jar",
        },
        **HTMX,
    )

    assert restocked.context["done"] == "1 × BLENDER like new: restocked, sellable now."
    assert disposed.context["done"] == (
        "1 × BLENDER damaged: disposal waiting for manager approval."
    )
    assert disposed.context["rows"] == []
    assert "Waiting for manager approval" in disposed.content.decode()
    assert on_hand(item.sku, node, "sellable") == 1
    assert on_hand(item.sku, node, "inspection") == 1  # until the write-off is approved
    write_off = InventoryAdjustment.objects.get()
    assert write_off.state == "pending_approval" and write_off.requested_by == warehouse_user
    assert ApprovalRequest.objects.get().kind == "inventory_write_off"


def test_restocking_a_damaged_unit_is_refused_under_the_disposition(
    client, warehouse_user, received_blenders
):
    rma = received_blenders
    item = rma.received_items.get()
    client.force_login(warehouse_user)

    response = client.post(
        inspect_url(rma),
        {
            f"item-{item.pk}-quantity": "2",
            f"item-{item.pk}-grade": "damaged",
            f"item-{item.pk}-disposition": "restock",
        },
        **HTMX,
    )

    (row,) = response.context["rows"]
    assert row["form"].errors["disposition"] == [
        "A damaged unit cannot be sold again; refurbish, quarantine or dispose of it."
    ]
    assert not Inspection.objects.exists()
    assert not StockLedgerEntry.objects.filter(kind="status_change").exists()


def test_inspecting_more_than_received_is_refused(client, warehouse_user, received_blenders):
    rma = received_blenders
    item = rma.received_items.get()
    client.force_login(warehouse_user)

    response = client.post(
        inspect_url(rma),
        {
            f"item-{item.pk}-quantity": "3",
            f"item-{item.pk}-grade": "new",
            f"item-{item.pk}-disposition": "restock",
        },
        **HTMX,
    )

    (row,) = response.context["rows"]
    assert row["form"].errors["quantity"] == [
        "2 unit(s) received and not yet inspected here; 3 to inspect."
    ]
    assert not Inspection.objects.exists()


def test_a_unit_already_inspected_is_not_inspected_again(client, warehouse_user, received_blenders):
    rma = received_blenders
    item = rma.received_items.get()
    inspect_return(
        rma_id=rma.pk,
        results=[{"received_item_id": item.pk, "grade": "new", "disposition": "quarantine"}],
        actor=warehouse_user,
    )
    client.force_login(warehouse_user)

    response = client.post(
        inspect_url(rma),
        {
            f"item-{item.pk}-quantity": "1",
            f"item-{item.pk}-grade": "new",
            f"item-{item.pk}-disposition": "restock",
        },
        **HTMX,
    )

    (row,) = response.context["rows"]
    assert row["waiting"] == 0 and row["form"].errors["quantity"]
    assert Inspection.objects.count() == 1


def test_customer_service_cannot_open_the_inspection_bench(client, cs_user, received_blenders):
    client.force_login(cs_user)

    assert client.get(reverse("returns:inspect", args=[received_blenders.pk])).status_code == 403


# --- queues ------------------------------------------------------------------------------------


def queue_rows(client, key):
    response = client.get(reverse("exception-queue", args=[key]))
    assert response.status_code == 200
    return list(response.context["page"].object_list), response.content.decode()


def test_every_returns_queue_renders_its_rows_with_their_actions(
    client, manager, cs_user, warehouse_user, phone_order, phone, changed_mind, authorize, node
):
    waiting = authorize(phone_order, [(phone, 1, changed_mind, {"serials": ["SN-1"]})])
    arrived = authorize(phone_order, [(phone, 1, changed_mind, {"serials": ["SN-2"]})])
    receive(arrived, node, warehouse_user, serials=["SN-1"])  # not the serial expected
    other = shipped_order(
        phone_order.channel,
        [ShippedLine(phone, 1, Decimal("400.00"), serials=["SN-7"])],
        location=node,
    )
    repaired = authorize(other, [(phone, 1, changed_mind)])
    receive(repaired, node, warehouse_user, serials=["SN-7"])
    inspect_return(
        rma_id=repaired.pk,
        results=[{"serial": "SN-7", "grade": "defective", "disposition": "refurbish"}],
        actor=warehouse_user,
    )
    refund = request_refund(rma_id=repaired.pk, actor=cs_user)
    client.force_login(manager)

    rows, body = queue_rows(client, "returns-awaiting-receipt")
    assert rows == [waiting] and f"?scan={waiting.number}" in body
    rows, body = queue_rows(client, "returns-awaiting-inspection")
    assert [row.rma for row in rows] == [arrived]
    assert reverse("returns:inspect", args=[arrived.pk]) in body
    rows, body = queue_rows(client, "refunds-awaiting-approval")
    assert rows == [refund] and "Decide in approvals" in body
    rows, body = queue_rows(client, "returns-repair-queue")
    assert [row.rma for row in rows] == [repaired]
    assert reverse("returns:repair-complete", args=[rows[0].pk]) in body
    rows, body = queue_rows(client, "return-discrepancies")
    assert [row.serial for row in rows] == ["SN-1"] and "Serial not on the RMA" in body


# Session, user, roles, then the queue's count, oldest age and one page of rows.
# Each: session, user, roles, SLA overrides, summary, count, page, the page's claims, the
# people a manager may assign to.
QUEUE_QUERIES = {
    "returns-awaiting-receipt": 9,
    "returns-awaiting-inspection": 9,
    "return-discrepancies": 9,
    "refunds-awaiting-approval": 9,
    "returns-repair-queue": 9,
}


@pytest.mark.parametrize("key", list(QUEUE_QUERIES))
def test_returns_queues_take_the_same_queries_for_one_row_and_many(
    key,
    client,
    manager,
    cs_user,
    warehouse_user,
    shop,
    node,
    policy,
    changed_mind,
    authorize,
    django_assert_num_queries,
):
    phone = SkuFactory(code="PH", serial_tracked=True)

    def add(number):
        serial = f"S{number}"
        order = shipped_order(
            shop, [ShippedLine(phone, 1, Decimal("400.00"), serials=[serial])], location=node
        )
        rma = authorize(order, [(phone, 1, changed_mind, {"serials": [serial]})])
        if key == "returns-awaiting-receipt":
            return
        if key in ("returns-awaiting-inspection", "return-discrepancies"):
            # What arrives is not what was expected: flagged, and awaiting inspection.
            SkuFactory(code=f"X{number}")
            receive_return(
                rma_id=rma.pk,
                location=node,
                unexpected=[{"sku": f"X{number}", "quantity": 1}],
                actor=warehouse_user,
            )
            return
        receive(rma, node, warehouse_user, serials=[serial])
        if key == "refunds-awaiting-approval":
            request_refund(rma_id=rma.pk, actor=cs_user)
        else:
            inspect_return(
                rma_id=rma.pk,
                results=[{"serial": serial, "grade": "defective", "disposition": "refurbish"}],
                actor=warehouse_user,
            )

    add(0)
    client.force_login(manager)
    url = reverse("exception-queue", args=[key])
    client.get(url)
    with django_assert_num_queries(QUEUE_QUERIES[key]):
        client.get(url)
    for number in range(1, 5):
        add(number)
    with django_assert_num_queries(QUEUE_QUERIES[key]):
        response = client.get(url)
    assert len(response.context["page"].object_list) == 5


def test_a_discrepancy_is_resolved_from_its_queue_row(
    client, cs_user, warehouse_user, phone_order, phone, changed_mind, authorize, node
):
    rma = authorize(phone_order, [(phone, 1, changed_mind, {"serials": ["SN-1"]})])
    receive(rma, node, warehouse_user, serials=["SN-2"])
    item = ReceivedItem.objects.get()
    client.force_login(cs_user)
    url = reverse("returns:discrepancy-resolve", args=[item.pk])

    refused = client.post(url, {"resolution": ""}, **HTMX)
    resolved = client.post(url, {"resolution": "customer sent the other phone"}, **HTMX)

    assert refused.context["action_error"] == "Say how it was resolved."
    assert "Resolved" in resolved.content.decode()
    assert "queuesChanged" in resolved["HX-Trigger"]
    item.refresh_from_db()
    assert item.discrepancy_resolved_by == cs_user


def test_a_repair_is_finished_from_its_queue_row(client, warehouse_user, received_blenders, node):
    rma = received_blenders
    inspect_return(
        rma_id=rma.pk,
        results=[
            {
                "rma_line_id": rma.lines.get().pk,
                "quantity": 1,
                "grade": "defective",
                "disposition": "refurbish",
            }
        ],
        actor=warehouse_user,
    )
    repair = RepairOrder.objects.get()
    client.force_login(warehouse_user)

    response = client.post(
        reverse("returns:repair-complete", args=[repair.pk]),
        {"outcome": "restock", "note": "new seal"},
        **HTMX,
    )

    assert response.status_code == 200 and "Repaired and restocked" in response.content.decode()
    repair.refresh_from_db()
    assert repair.state == "restocked"
    assert on_hand(repair.sku, node, "sellable") == 1


# --- figures -----------------------------------------------------------------------------------


def test_the_figures_page_shows_rates_by_sku_channel_and_reason_with_bars(
    client, manager, tee_order, tee, changed_mind, authorize, node, warehouse_user
):
    rma = authorize(tee_order, [(tee, 2, changed_mind)])
    receive(rma, node, warehouse_user)
    inspect_return(
        rma_id=rma.pk,
        results=[
            {
                "rma_line_id": rma.lines.get().pk,
                "quantity": 1,
                "grade": "new",
                "disposition": "restock",
            },
            {
                "rma_line_id": rma.lines.get().pk,
                "quantity": 1,
                "grade": "damaged",
                "disposition": "quarantine",
            },
        ],
        actor=warehouse_user,
    )
    client.force_login(manager)

    response = client.get(reverse("returns:figures"))

    assert response.status_code == 200
    by_sku, by_channel, by_reason = response.context["groups"]
    (tee_row,) = by_sku["rows"]
    assert (tee_row["shipped"], tee_row["returned"], tee_row["return_percent"]) == (
        3,
        2,
        Decimal("66.7"),
    )
    assert (tee_row["recoverable_percent"], tee_row["damage_percent"]) == (
        Decimal("50.0"),
        Decimal("50.0"),
    )
    assert tee_row["return_bar"] == Decimal(100)
    assert [row["key"] for row in by_channel["rows"]] == ["SHOP"]
    assert [row["label"] for row in by_reason["rows"]] == ["Changed mind / no longer needed"]
    body = response.content.decode()
    assert 'aria-label="return rate 66.7 %"' in body and 'class="fill-damage"' in body


def test_the_period_filter_leaves_out_orders_placed_before_it(
    client, manager, tee_order, tee, changed_mind, authorize
):
    authorize(tee_order, [(tee, 1, changed_mind)])
    client.force_login(manager)
    tomorrow = timezone.localdate() + timedelta(days=1)

    response = client.get(
        reverse("returns:figures"), {"since": tomorrow.isoformat(), "until": tomorrow.isoformat()}
    )

    assert response.context["groups"][0]["rows"] == []
    assert response.context["totals"]["shipped"] == 0
    all_time = client.get(reverse("returns:figures"), {"since": "", "until": ""})
    assert all_time.context["totals"]["shipped"] == 3


def test_the_figures_page_takes_the_same_queries_for_one_sku_and_many(
    client, manager, shop, node, policy, changed_mind, authorize, django_assert_num_queries
):
    def returned_sku(code):
        sku = SkuFactory(code=code)
        order = shipped_order(shop, [ShippedLine(sku, 2)], location=node)
        authorize(order, [(sku, 1, changed_mind)])

    returned_sku("ONE")
    client.force_login(manager)
    url = reverse("returns:figures")
    client.get(url)
    with django_assert_num_queries(15):
        client.get(url)
    for number in range(8):
        returned_sku(f"MANY-{number}")
    with django_assert_num_queries(15):
        response = client.get(url)
    assert len(response.context["groups"][0]["rows"]) == 9


def test_figures_are_shown_to_the_roles_that_see_returns(client, manager):
    stranger = UserFactory(username="no-role")
    client.force_login(stranger)

    assert client.get(reverse("returns:figures")).status_code == 403
