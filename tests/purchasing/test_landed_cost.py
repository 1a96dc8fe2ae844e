from decimal import Decimal

import pytest

from erp import events
from erp.errors import Conflict, ValidationFailed
from inventory.services import costing
from purchasing.events import LANDED_COST_APPLIED
from purchasing.models import LandedCharge, LandedChargeAllocation
from purchasing.services.landed_cost import add_landed_charge, allocate
from tests.purchasing.conftest import line_of


@pytest.fixture
def received(sent_po, tee, mug, receive):
    receive(sent_po, tee, 10)  # value 40, weight 2000 g
    receive(sent_po, mug, 12)  # value 36, weight 7200 g
    return sent_po


def _shares(charge):
    return {
        a.purchase_order_line.sku.code: a.amount
        for a in LandedChargeAllocation.objects.filter(charge=charge).select_related(
            "purchase_order_line__sku"
        )
    }


def test_allocation_keeps_every_cent():
    assert allocate(Decimal("10.00"), {1: Decimal(1), 2: Decimal(1), 3: Decimal(1)}) == {
        1: Decimal("3.34"),
        2: Decimal("3.33"),
        3: Decimal("3.33"),
    }


def test_freight_by_value(received, finance_user):
    charge = add_landed_charge(
        purchase_order=received, kind="freight", amount="76.00", actor=finance_user
    )
    assert _shares(charge) == {"TEE": Decimal("40.00"), "MUG": Decimal("36.00")}
    assert charge.capitalized == Decimal("76.00") and charge.expensed == 0


def test_duty_by_quantity_raises_the_unit_cost(received, tee, finance_user):
    charge = add_landed_charge(
        purchase_order=received, kind="duty", amount="22.00", basis="quantity", actor=finance_user
    )
    assert _shares(charge) == {"TEE": Decimal("10.00"), "MUG": Decimal("12.00")}
    assert costing.unit_costs([tee.pk])[tee.pk] == Decimal("5.0000")
    assert line_of(received, tee).landed_cost == Decimal("10.00")


def test_freight_by_weight(received, finance_user):
    charge = add_landed_charge(
        purchase_order=received, kind="freight", amount="92.00", basis="weight", actor=finance_user
    )
    assert _shares(charge) == {"TEE": Decimal("20.00"), "MUG": Decimal("72.00")}


def test_the_event_carries_capitalized_and_expensed(received, finance_user):
    heard = []
    listener = events.subscribe(LANDED_COST_APPLIED)(heard.append)
    try:
        charge = add_landed_charge(
            purchase_order=received, kind="other", amount="7.60", actor=finance_user
        )
    finally:
        events.unsubscribe(LANDED_COST_APPLIED, listener)
    assert heard[0].payload == {
        "purchase_order_id": received.pk,
        "charge_ids": [charge.pk],
        "capitalized": "7.60",
        "expensed": "0.00",
        "total": "7.60",
    }


def test_a_negative_charge_is_refused_and_nothing_written(received, finance_user):
    with pytest.raises(ValidationFailed) as refused:
        add_landed_charge(purchase_order=received, kind="freight", amount="-5", actor=finance_user)
    assert refused.value.errors[0].field == "amount"
    assert not LandedCharge.objects.exists()


def test_charges_wait_until_goods_arrive(sent_po, finance_user):
    with pytest.raises(Conflict):
        add_landed_charge(purchase_order=sent_po, kind="freight", amount="5", actor=finance_user)
    assert not LandedCharge.objects.exists()


def test_weight_allocation_needs_weights(received, tee, mug, finance_user):
    type(tee).objects.filter(pk__in=[tee.pk, mug.pk]).update(weight_grams=0)
    with pytest.raises(ValidationFailed) as refused:
        add_landed_charge(
            purchase_order=received, kind="freight", amount="5", basis="weight", actor=finance_user
        )
    assert refused.value.errors[0].code == "no_weights"


def test_a_charge_on_goods_already_gone_is_expensed(
    sent_po, tee, dock, receive, finance_user, manager
):
    from inventory.services.adjustments import request_adjustment

    receive(sent_po, tee, 10)
    request_adjustment(
        sku=tee,
        location=dock,
        quantity=-10,
        reason_code="data_correction",
        actor=manager,
        note="gone",
    )
    charge = add_landed_charge(
        purchase_order=sent_po, kind="freight", amount="8", actor=finance_user
    )
    assert (charge.capitalized, charge.expensed) == (Decimal("0"), Decimal("8.00"))
