from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from erp.errors import Conflict, NotPermitted, ValidationFailed
from erp.models import ApprovalPolicy, ApprovalRequest, OutboxMessage
from erp.services import approvals
from purchasing.models import PurchaseOrder, PurchaseOrderEvent, PurchaseOrderState
from purchasing.services import escalation, purchase_orders
from purchasing.services.sending import ORDER_EMAIL_TOPIC, ORDER_TOPIC
from tests.factories import EndpointFactory, SkuFactory, UserFactory

S = PurchaseOrderState


def _create(supplier, dock, buyer, lines, **kwargs):
    return purchase_orders.create_purchase_order(
        supplier=supplier, destination=dock, actor=buyer, lines=lines, **kwargs
    )


def test_a_draft_expects_each_line_after_its_lead_time(supplier, dock, tee_item, buyer):
    po = _create(supplier, dock, buyer, [{"sku": tee_item.sku, "quantity": 5}])
    line = po.lines.get()
    assert po.state == S.DRAFT and po.number == f"PO-{po.pk:06d}"
    assert line.unit_cost == Decimal("4.00")
    assert line.expected_date == timezone.localdate() + timedelta(days=10)
    assert po.expected_date == line.expected_date and po.currency == "USD"


def test_an_inactive_sku_is_refused_and_nothing_is_written(supplier, dock, tee_item, buyer):
    tee_item.sku.active = False
    tee_item.sku.save()
    with pytest.raises(ValidationFailed) as refused:
        _create(supplier, dock, buyer, [{"sku": tee_item.sku, "quantity": 5}])
    assert refused.value.errors[0].field == "lines[0].sku"
    assert refused.value.errors[0].code == "inactive"
    assert not PurchaseOrder.objects.exists()


def test_a_quantity_not_a_multiple_of_the_pack_is_refused(supplier, dock, mug_item, buyer):
    with pytest.raises(ValidationFailed) as refused:
        _create(supplier, dock, buyer, [{"sku": mug_item.sku, "quantity": 14}])
    assert refused.value.errors[0].code == "not_pack_multiple"
    assert "packs of 6" in refused.value.message
    assert not PurchaseOrder.objects.exists()


def test_a_quantity_below_the_moq_is_refused(supplier, dock, mug_item, buyer):
    with pytest.raises(ValidationFailed) as refused:
        _create(supplier, dock, buyer, [{"sku": mug_item.sku, "quantity": 6}])
    assert refused.value.errors[0].code == "below_moq"


def test_every_bad_line_is_reported_at_once(supplier, dock, tee_item, mug_item, buyer):
    stranger = SkuFactory(code="NOT-SOLD")
    with pytest.raises(ValidationFailed) as refused:
        _create(
            supplier,
            dock,
            buyer,
            [
                {"sku": tee_item.sku, "quantity": 0},
                {"sku": mug_item.sku, "quantity": 12, "unit_cost": Decimal("-1")},
                {"sku": stranger, "quantity": 1},
            ],
        )
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("lines[0].quantity", "min_value"),
        ("lines[1].unit_cost", "min_value"),
        ("lines[2].sku", "not_supplied"),
    ]


def test_a_foreign_currency_supplier_needs_an_exchange_rate(supplier, dock, tee_item, buyer):
    supplier.currency = "EUR"
    supplier.save()
    with pytest.raises(ValidationFailed) as refused:
        _create(supplier, dock, buyer, [{"sku": tee_item.sku, "quantity": 5}])
    assert refused.value.errors[0].field == "exchange_rate"
    po = _create(
        supplier, dock, buyer, [{"sku": tee_item.sku, "quantity": 5}], exchange_rate="1.10"
    )
    assert po.currency == "EUR" and po.exchange_rate == Decimal("1.10")
    assert purchase_orders.base_value(po) == Decimal("22.00")


def test_warehouse_staff_cannot_raise_purchase_orders(supplier, dock, tee_item, warehouse_user):
    with pytest.raises(NotPermitted):
        _create(supplier, dock, warehouse_user, [{"sku": tee_item.sku, "quantity": 5}])


def test_under_the_threshold_a_submitted_po_is_approved_and_emailed(sent_po):
    assert sent_po.state == S.SENT and sent_po.sent_at and sent_po.approval is None
    message = OutboxMessage.objects.get()
    assert message.topic == ORDER_EMAIL_TOPIC and message.endpoint.code == "supplier-mail"
    assert message.dedupe_key == f"{ORDER_TOPIC}:{sent_po.number}:sent"
    assert message.payload["to"] == "orders@acme.example.com"
    assert [line["sku"] for line in message.payload["purchase_order"]["lines"]] == ["TEE", "MUG"]
    states = list(
        PurchaseOrderEvent.objects.filter(purchase_order=sent_po, kind="state").values_list(
            "to_state", flat=True
        )
    )
    assert states == [S.SUBMITTED, S.APPROVED, S.SENT]


def test_a_supplier_webhook_gets_the_po_itself(supplier, dock, tee_item, buyer):
    supplier.order_endpoint = EndpointFactory(code="acme-orders")
    supplier.save()
    po = _create(supplier, dock, buyer, [{"sku": tee_item.sku, "quantity": 5}])
    purchase_orders.submit_purchase_order(purchase_order=po, actor=buyer)
    message = OutboxMessage.objects.get()
    assert message.topic == ORDER_TOPIC and message.endpoint.code == "acme-orders"
    assert message.payload["number"] == po.number and message.payload["total"] == "20.00"


def test_without_endpoint_or_email_an_approved_po_waits_to_be_sent_by_file(
    supplier, dock, tee_item, buyer
):
    supplier.order_email = ""
    supplier.save()
    po = _create(supplier, dock, buyer, [{"sku": tee_item.sku, "quantity": 5}])
    purchase_orders.submit_purchase_order(purchase_order=po, actor=buyer)
    po.refresh_from_db()
    assert po.state == S.APPROVED and not OutboxMessage.objects.exists()
    with pytest.raises(ValidationFailed):
        purchase_orders.resend_purchase_order(purchase_order=po, actor=buyer)
    purchase_orders.mark_sent_by_file(purchase_order=po, actor=buyer)
    po.refresh_from_db()
    assert po.state == S.SENT


@pytest.fixture
def large_po(supplier, dock, tee_item, buyer):
    po = _create(supplier, dock, buyer, [{"sku": tee_item.sku, "quantity": 2000}])
    purchase_orders.submit_purchase_order(purchase_order=po, actor=buyer)
    po.refresh_from_db()
    return po


def test_above_the_threshold_a_po_waits_for_a_manager(large_po):
    assert large_po.state == S.SUBMITTED
    request = large_po.approval
    assert request.kind == "purchase_order" and request.state == ApprovalRequest.State.PENDING
    assert request.amount == Decimal("8000.00")
    assert not OutboxMessage.objects.exists()


def test_the_threshold_is_the_approval_policys(supplier, dock, tee_item, buyer):
    approvals.policy_for("purchase_order")
    ApprovalPolicy.objects.filter(kind="purchase_order").update(threshold=Decimal("10"))
    po = _create(supplier, dock, buyer, [{"sku": tee_item.sku, "quantity": 5}])
    purchase_orders.submit_purchase_order(purchase_order=po, actor=buyer)
    po.refresh_from_db()
    assert po.state == S.SUBMITTED


def test_a_manager_approves_and_the_po_is_sent(large_po, manager):
    purchase_orders.decide_purchase_order(purchase_order=large_po, actor=manager, approve=True)
    large_po.refresh_from_db()
    assert large_po.state == S.SENT and large_po.approved_by == manager
    assert OutboxMessage.objects.filter(topic=ORDER_EMAIL_TOPIC).count() == 1


def test_approving_your_own_po_is_refused(supplier, dock, tee_item, manager):
    po = _create(supplier, dock, manager, [{"sku": tee_item.sku, "quantity": 2000}])
    purchase_orders.submit_purchase_order(purchase_order=po, actor=manager)
    with pytest.raises(NotPermitted):
        purchase_orders.decide_purchase_order(purchase_order=po, actor=manager, approve=True)
    po.refresh_from_db()
    assert po.state == S.SUBMITTED and not OutboxMessage.objects.exists()


def test_the_creator_cannot_approve_a_po_someone_else_submitted(
    supplier, dock, tee_item, manager, other_manager
):
    po = _create(supplier, dock, manager, [{"sku": tee_item.sku, "quantity": 2000}])
    purchase_orders.submit_purchase_order(purchase_order=po, actor=other_manager)
    with pytest.raises(NotPermitted):
        purchase_orders.decide_purchase_order(purchase_order=po, actor=manager, approve=True)
    po.refresh_from_db()
    assert po.state == S.SUBMITTED
    assert po.approval.state == ApprovalRequest.State.PENDING


def test_a_buyer_cannot_approve(large_po, role_groups):
    other_buyer = UserFactory(username="buyer-two", roles=["buyer"])
    with pytest.raises(NotPermitted):
        purchase_orders.decide_purchase_order(
            purchase_order=large_po, actor=other_buyer, approve=True
        )


def test_a_rejected_po_returns_to_draft(large_po, manager):
    purchase_orders.decide_purchase_order(
        purchase_order=large_po, actor=manager, approve=False, note="Order half."
    )
    large_po.refresh_from_db()
    assert large_po.state == S.DRAFT


def test_cancel_needs_a_reason_and_withdraws_the_approval(large_po, buyer):
    with pytest.raises(ValidationFailed):
        purchase_orders.cancel_purchase_order(purchase_order=large_po, actor=buyer, reason=" ")
    purchase_orders.cancel_purchase_order(purchase_order=large_po, actor=buyer, reason="Price up")
    large_po.refresh_from_db()
    assert large_po.state == S.CANCELLED and large_po.cancel_reason == "Price up"
    assert large_po.approval.state == ApprovalRequest.State.CANCELLED


def test_cancelling_a_sent_po_tells_the_supplier(sent_po, buyer):
    purchase_orders.cancel_purchase_order(purchase_order=sent_po, actor=buyer, reason="Not needed")
    keys = set(OutboxMessage.objects.values_list("dedupe_key", flat=True))
    assert f"{ORDER_TOPIC}:{sent_po.number}:cancelled" in keys


def test_only_drafts_can_be_edited(sent_po, tee_item, buyer):
    with pytest.raises(Conflict):
        purchase_orders.update_draft(
            purchase_order=sent_po, actor=buyer, lines=[{"sku": tee_item.sku, "quantity": 1}]
        )


def test_editing_a_draft_replaces_its_lines(supplier, dock, tee_item, mug_item, buyer):
    po = _create(supplier, dock, buyer, [{"sku": tee_item.sku, "quantity": 5}])
    purchase_orders.update_draft(
        purchase_order=po, actor=buyer, lines=[{"sku": mug_item.sku, "quantity": 24}]
    )
    assert list(po.lines.values_list("sku__code", "quantity_ordered")) == [("MUG", 24)]


def test_overdue_pos_escalate_once_into_inbound_delayed(sent_po):
    from purchasing.selectors import inbound_delayed

    today = timezone.localdate()
    assert escalation.escalate_overdue_purchase_orders(today=today) == 0
    later = sent_po.expected_date + timedelta(days=1)
    assert escalation.escalate_overdue_purchase_orders(today=later) == 1
    assert escalation.escalate_overdue_purchase_orders(today=later) == 0
    assert list(inbound_delayed()) == [sent_po]
    assert PurchaseOrderEvent.objects.filter(purchase_order=sent_po, kind="escalated").count() == 1
