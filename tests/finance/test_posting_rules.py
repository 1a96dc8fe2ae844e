"""Each posting rule, driven by its domain event (published by the real service where that
service exists, with the contract's payload where purchasing publishes it), posts exact
amounts, once, linked to its document."""

from decimal import Decimal

import pytest
from django.utils import timezone

from erp import events
from finance.models import JournalEntry
from finance.posting_rules import (
    GOODS_RECEIVED,
    LANDED_COST_APPLIED,
    RTV_SHIPPED,
    SUPPLIER_CREDIT_RECORDED,
)
from fulfillment.models import Shipment
from fulfillment.services.shipping.messages import SHIPMENT_CONFIRMED
from inventory.services import costing
from inventory.services.adjustments import request_adjustment
from inventory.services.movements import receive_stock
from inventory.services.transfers import create_transfer
from returns.services.receiving import receive_return
from returns.services.refunds import request_refund
from tests.factories import ChannelFactory, LocationFactory, SkuFactory, UserFactory
from tests.factories.returns import ShippedLine, shipped_order
from tests.finance.helpers import d, lines_by_role, posted, shipment_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def amazon(node):
    return ChannelFactory(
        code="AMZ", kind="amazon", fee_rate=Decimal("0.15"), eligible_locations=[node]
    )


@pytest.fixture
def mug(node, manager):
    sku = SkuFactory(code="MUG", unit_cost=Decimal("4.00"))
    receive_stock(sku=sku, location=node, quantity=10, actor=manager, reference="OPENING")
    return sku


def entry_shipment_number(order) -> str:
    return Shipment.objects.get(order=order).number


def test_a_manual_receipt_puts_its_value_on_the_inventory_account(node, manager, mug):
    entry = JournalEntry.objects.get(source_kind="stock_receipt", source_ref="OPENING")
    assert lines_by_role(entry) == [
        ("inventory", "", "Dr", d("40.00"), "MUG"),
        ("receipt_clearing", "", "Cr", d("40.00"), "MUG"),
    ]


def test_a_shipment_posts_revenue_tax_shipping_fee_cogs_and_label_cost(amazon, node, mug, manager):
    order = shipped_order(
        amazon,
        [ShippedLine(mug, 2, Decimal("20.00"), tax=Decimal("3.00"), discount=Decimal("2.00"))],
        location=node,
        shipping_total=Decimal("5.00"),
    )
    events.publish(shipment_event(order))

    entry = posted("shipment", Shipment.objects.get(order=order).pk)
    # 2 × 20.00 − 2.00 discount = 38.00; fee 15 % of 38.00 = 5.70 and of 5.00 shipping 0.75;
    # COGS 2 × 4.00; the label 6.50.
    assert lines_by_role(entry) == [
        ("carrier_accrual", "", "Cr", d("6.50"), ""),
        ("cogs", "", "Dr", d("8.00"), "MUG"),
        ("inventory", "", "Cr", d("8.00"), "MUG"),
        ("marketplace_fees", "", "Dr", d("0.75"), ""),
        ("marketplace_fees", "", "Dr", d("5.70"), "MUG"),
        ("receivable", "AMZ", "Cr", d("0.75"), ""),
        ("receivable", "AMZ", "Cr", d("5.70"), "MUG"),
        ("receivable", "AMZ", "Dr", d("46.00"), ""),
        ("revenue", "AMZ", "Cr", d("38.00"), "MUG"),
        ("sales_tax", "", "Cr", d("3.00"), "MUG"),
        ("shipping_expense", "", "Dr", d("6.50"), ""),
        ("shipping_income", "", "Cr", d("5.00"), ""),
    ]
    assert set(entry.lines.values_list("order_id", flat=True)) == {order.pk}
    assert entry.event == SHIPMENT_CONFIRMED and entry.source_ref == entry_shipment_number(order)


def test_cogs_is_the_moving_average_at_the_moment_of_shipping(amazon, node, mug, manager):
    receive_stock(sku=mug, location=node, quantity=10, actor=manager)
    costing.receive_at_cost(
        sku_id=mug.pk, location_id=node.pk, quantity=10, unit_cost="5.00", actor=manager
    )
    order = shipped_order(amazon, [ShippedLine(mug, 3, Decimal("20.00"))], location=node)
    events.publish(shipment_event(order, cost=None))
    entry = posted("shipment", Shipment.objects.get(order=order).pk)
    cogs = entry.lines.get(account__role="cogs")
    assert cogs.debit == d("13.50")  # 3 × (10 × 4.00 + 10 × 5.00) / 20


def test_drop_shipped_units_cost_the_supplier_not_our_inventory(amazon, node, manager):
    sku = SkuFactory(code="BIKE", unit_cost=Decimal("120.00"))
    order = shipped_order(amazon, [ShippedLine(sku, 1, Decimal("300.00"))], location=node)
    events.publish(shipment_event(order, cost=None, dropship=True))
    roles = lines_by_role(posted("shipment", Shipment.objects.get(order=order).pk))
    assert ("purchase_accrual", "", "Cr", d("120.00"), "BIKE") in roles
    assert not [line for line in roles if line[0] == "inventory"]


def test_shipping_income_posts_with_the_first_shipment_only(amazon, node, mug, manager):
    order = shipped_order(
        amazon, [ShippedLine(mug, 1, Decimal("20.00"))], location=node, shipping_total=d("5.00")
    )
    first = Shipment.objects.get(order=order)
    events.publish(shipment_event(order, cost=None))
    second = Shipment.objects.create(
        order=order,
        location=node,
        carrier=Shipment.objects.get(order=order).carrier,
        tracking_number="1Z0000000000000099",
        created_by=manager,
        state="shipped",
    )
    event = shipment_event(order, cost=None, shipment=first)
    event.payload.update(shipment_id=second.pk, shipment=second.number)
    events.publish(event)
    assert posted("shipment", first.pk).lines.filter(account__role="shipping_income").count() == 1
    assert posted("shipment", second.pk).lines.filter(account__role="shipping_income").count() == 0


def test_the_same_shipment_event_twice_posts_once(amazon, node, mug, manager):
    order = shipped_order(amazon, [ShippedLine(mug, 1, Decimal("20.00"))], location=node)
    event = shipment_event(order)
    events.publish(event)
    events.publish(event)
    assert JournalEntry.objects.filter(source_kind="shipment").count() == 1


def test_a_refund_reverses_revenue_and_tax_against_the_receivable(
    tee_order, tee, changed_mind, authorize, node, warehouse_user, cs_user
):
    rma = authorize(tee_order, [(tee, 2, changed_mind)])
    receive_return(
        rma_id=rma.pk,
        location=node,
        lines=[{"rma_line_id": line.pk, "quantity": line.quantity} for line in rma.lines.all()],
        actor=warehouse_user,
    )
    refund = request_refund(rma_id=rma.pk, actor=cs_user)

    # 2 of 3 tees at 20.00 − 4.00 of the discount = 36.00, + 2.00 tax = 38.00 paid back.
    assert lines_by_role(posted("refund", refund.pk)) == [
        ("receivable", "SHOP", "Cr", d("38.00"), ""),
        ("refunds", "", "Dr", d("36.00"), "TEE"),
        ("sales_tax", "", "Dr", d("2.00"), ""),
    ]
    # The two tees came back into inspection: their cost leaves COGS for inventory.
    returned = JournalEntry.objects.get(source_kind="stock_receipt", source_ref=rma.number)
    assert lines_by_role(returned) == [
        ("cogs", "", "Cr", d("16.00"), "TEE"),
        ("inventory", "", "Dr", d("16.00"), "TEE"),
    ]


def test_a_refund_with_a_restocking_fee_and_shipping(
    tee_order, tee, defective, changed_mind, authorize, node, warehouse_user, cs_user, policy
):
    policy.restocking_fee_percent = Decimal("10")
    policy.save()
    rma = authorize(tee_order, [(tee, 1, changed_mind)])
    receive_return(
        rma_id=rma.pk,
        location=node,
        lines=[{"rma_line_id": line.pk, "quantity": 1} for line in rma.lines.all()],
        actor=warehouse_user,
    )
    refund = request_refund(rma_id=rma.pk, actor=cs_user)
    # 18.00 items + 1.00 tax − 1.80 fee = 17.20.
    assert lines_by_role(posted("refund", refund.pk)) == [
        ("receivable", "SHOP", "Cr", d("17.20"), ""),
        ("refunds", "", "Dr", d("18.00"), "TEE"),
        ("restocking_fees", "", "Cr", d("1.80"), ""),
        ("sales_tax", "", "Dr", d("1.00"), ""),
    ]


def test_a_write_off_posts_shrink_and_a_count_gain_posts_the_other_way(node, mug, manager):
    loss = request_adjustment(
        sku=mug, location=node, quantity=-2, reason_code="damage", actor=manager
    )
    gain = request_adjustment(
        sku=mug, location=node, quantity=3, reason_code="found", actor=manager
    )
    assert lines_by_role(posted("adjustment", loss.pk)) == [
        ("inventory", "", "Cr", d("8.00"), "MUG"),
        ("shrink", "", "Dr", d("8.00"), "MUG"),
    ]
    assert lines_by_role(posted("adjustment", gain.pk)) == [
        ("inventory", "", "Dr", d("12.00"), "MUG"),
        ("inventory_gain", "", "Cr", d("12.00"), "MUG"),
    ]


def test_an_adjustment_waiting_for_approval_posts_nothing_until_approved(node, manager):
    from inventory.services.adjustments import decide_adjustment

    lamp = SkuFactory(code="LAMP", unit_cost=Decimal("100.00"))
    receive_stock(sku=lamp, location=node, quantity=10, actor=manager)
    big = request_adjustment(
        sku=lamp, location=node, quantity=-5, reason_code="damage", actor=manager
    )
    assert big.state == "pending_approval"  # 500.00 is above the write-off threshold
    assert not JournalEntry.objects.filter(source_kind="adjustment").exists()
    approver = UserFactory(username="approver", roles=["manager"])
    decide_adjustment(adjustment=big, actor=approver, approve=True)
    assert posted("adjustment", big.pk).lines.get(account__role="shrink").debit == d("500.00")


def test_a_transfer_posts_nothing(node, mug, manager, books_balance):
    before = JournalEntry.objects.count()
    other = LocationFactory(code="WH-B")
    create_transfer(
        from_location=node, to_location=other, lines=[{"sku": mug, "quantity": 2}], actor=manager
    )
    assert JournalEntry.objects.count() == before


def test_goods_received_posts_inventory_against_the_purchase_accrual(node, mug):
    events.publish(
        events.DomainEvent(
            GOODS_RECEIVED,
            {
                "receipt_id": 31,
                "purchase_order_id": 12,
                "supplier_id": 4,
                "lines": [
                    {
                        "sku_id": mug.pk,
                        "location_id": node.pk,
                        "status": "sellable",
                        "quantity": 10,
                        "unit_cost": "4.2500",
                        "amount": "42.50",
                    },
                    {
                        "sku_id": mug.pk,
                        "location_id": node.pk,
                        "status": "inspection",
                        "quantity": 2,
                        "unit_cost": "4.2500",
                        "amount": "8.50",
                    },
                ],
                "total": "51.00",
            },
        )
    )
    entry = posted("goods_receipt", 31)
    assert lines_by_role(entry) == [
        ("inventory", "", "Dr", d("8.50"), "MUG"),
        ("inventory", "", "Dr", d("42.50"), "MUG"),
        ("purchase_accrual", "", "Cr", d("51.00"), ""),
    ]
    assert entry.source_ref == "PO-12"


def test_landed_cost_capitalizes_what_is_on_hand_and_expenses_the_rest():
    events.publish(
        events.DomainEvent(
            LANDED_COST_APPLIED,
            {
                "purchase_order_id": 12,
                "charge_ids": [5, 6],
                "capitalized": "70.00",
                "expensed": "10.00",
                "total": "80.00",
            },
        )
    )
    assert lines_by_role(posted("landed_cost", 5)) == [
        ("cogs", "", "Dr", d("10.00"), ""),
        ("inventory", "", "Dr", d("70.00"), ""),
        ("landed_cost_accrual", "", "Cr", d("80.00"), ""),
    ]


def test_a_return_to_vendor_moves_inventory_to_the_supplier_credit(node, mug):
    events.publish(
        events.DomainEvent(
            RTV_SHIPPED,
            {
                "rtv_id": 9,
                "supplier_id": 4,
                "lines": [
                    {
                        "sku_id": mug.pk,
                        "location_id": node.pk,
                        "quantity": 2,
                        "unit_cost": "4.50",
                        "amount": "9.00",
                    }
                ],
                "total": "9.00",
            },
        )
    )
    # Valued at 4.00 in stock, claimed at 4.50: the extra 1.00 reduces COGS.
    assert lines_by_role(posted("rtv", 9)) == [
        ("cogs", "", "Cr", d("1.00"), ""),
        ("inventory", "", "Cr", d("8.00"), "MUG"),
        ("supplier_credit", "", "Dr", d("9.00"), ""),
    ]
    events.publish(
        events.DomainEvent(
            SUPPLIER_CREDIT_RECORDED,
            {"rtv_id": 9, "supplier_id": 4, "amount": "9.00", "credit_note_ref": "CN-77"},
        )
    )
    credit_note = JournalEntry.objects.get(event=SUPPLIER_CREDIT_RECORDED)
    assert lines_by_role(credit_note) == [
        ("payable", "", "Dr", d("9.00"), ""),
        ("supplier_credit", "", "Cr", d("9.00"), ""),
    ]


def test_an_event_for_a_closed_month_posts_in_the_open_period(node, mug, finance_user):
    from tests.factories.finance import closed_period

    last_month = timezone.localdate().replace(day=1) - timezone.timedelta(days=1)
    closed_period(last_month.year, last_month.month, finance_user)
    events.publish(
        events.DomainEvent(
            SUPPLIER_CREDIT_RECORDED,
            {"rtv_id": 3, "supplier_id": 4, "amount": "5.00", "credit_note_ref": "CN-1"},
            occurred_at=timezone.now().replace(day=1) - timezone.timedelta(days=1),
        )
    )
    entry = JournalEntry.objects.get(event=SUPPLIER_CREDIT_RECORDED)
    assert entry.period.status == "open" and entry.date == timezone.localdate()
