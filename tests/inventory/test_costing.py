"""Moving-average cost: receipts average, landed cost raises, everything else is valued at it."""

from decimal import Decimal

import pytest
from django.test import override_settings

from inventory.models import SkuCost
from inventory.selectors import valuation_unit_cost
from inventory.services import costing
from inventory.services.movements import receive_stock
from tests.factories import LocationFactory, SkuFactory

pytestmark = pytest.mark.django_db


def receive(manager, sku, node, quantity, unit_cost):
    receive_stock(sku=sku, location=node, quantity=quantity, actor=manager)
    return costing.receive_at_cost(
        sku_id=sku.pk, location_id=node.pk, quantity=quantity, unit_cost=unit_cost, actor=manager
    )


def test_a_first_receipt_into_an_empty_node_costs_at_the_receipt_price(manager, sku, node):
    assert receive(manager, sku, node, 10, "12.00") == Decimal("12.0000")
    assert costing.unit_costs([sku.pk]) == {sku.pk: Decimal("12.0000")}


def test_receipts_average_by_units_on_hand(manager, sku, node, second_node):
    receive(manager, sku, node, 10, "10.00")
    # 10 @ 10 + 30 @ 14 = 520 / 40 = 13.00; company-wide, so the other node counts too
    assert receive(manager, sku, second_node, 30, "14.00") == Decimal("13.0000")
    assert SkuCost.objects.get(sku=sku, location=None).average_cost == Decimal("13.0000")


def test_a_sku_never_received_at_cost_is_valued_at_its_master_cost(sku):
    assert costing.unit_costs([sku.pk]) == {sku.pk: Decimal("10.0000")}


def test_landed_cost_spreads_over_the_units_on_hand(manager, sku, node):
    receive(manager, sku, node, 3, "10.00")
    result = costing.add_landed_cost(
        sku_id=sku.pk, location_id=node.pk, amount="10.00", actor=manager
    )
    # 10 / 3 = 3.3333 per unit: the stock's value rises 9.9999 → 10.00, nothing expensed
    assert costing.unit_costs([sku.pk])[sku.pk] == Decimal("13.3333")
    assert result == costing.LandedCostResult(Decimal("10.00"), Decimal("0.00"))
    [row] = costing.valuation()
    assert (row.on_hand, row.value) == (3, Decimal("40.00"))


def test_landed_cost_on_stock_already_gone_is_expensed(manager, sku, node):
    result = costing.add_landed_cost(
        sku_id=sku.pk, location_id=node.pk, amount="7.50", actor=manager
    )
    assert result == costing.LandedCostResult(Decimal("0.00"), Decimal("7.50"))


def test_negative_figures_are_refused_and_change_nothing(manager, sku, node):
    with pytest.raises(ValueError):
        costing.add_landed_cost(sku_id=sku.pk, location_id=node.pk, amount="-1", actor=manager)
    with pytest.raises(ValueError):
        costing.receive_at_cost(
            sku_id=sku.pk, location_id=node.pk, quantity=1, unit_cost="-1", actor=manager
        )
    assert not SkuCost.objects.exists()


@override_settings(INVENTORY_COST_SCOPE="node")
def test_node_scope_keeps_one_average_per_node(manager, sku, node, second_node):
    receive(manager, sku, node, 10, "10.00")
    receive(manager, sku, second_node, 10, "20.00")
    assert costing.unit_costs([sku.pk], location_id=node.pk)[sku.pk] == Decimal("10.0000")
    assert costing.unit_costs([sku.pk], location_id=second_node.pk)[sku.pk] == Decimal("20.0000")
    values = {row.location_id: row.value for row in costing.valuation()}
    assert values == {node.pk: Decimal("100.00"), second_node.pk: Decimal("200.00")}


def test_valuation_reports_every_status_at_cost_in_two_queries(
    manager, sku, node, django_assert_num_queries
):
    other = SkuFactory(code="MUG", unit_cost="4.00")
    receive(manager, sku, node, 5, "10.00")
    receive_stock(sku=other, location=node, quantity=2, actor=manager, status="quarantine")
    with django_assert_num_queries(3):
        rows = costing.valuation(location_id=node.pk)
    assert {(row.sku_id, row.on_hand, row.value) for row in rows} == {
        (sku.pk, 5, Decimal("50.00")),
        (other.pk, 2, Decimal("8.00")),
    }


def test_write_off_approval_value_never_falls_below_the_moving_average(manager, node):
    sku = SkuFactory(code="LAMP", unit_cost="5.00")
    receive(manager, sku, node, 4, "30.00")
    sku.unit_cost = Decimal("0.01")
    sku.save()
    assert valuation_unit_cost(sku=sku) == Decimal("30.0000")


def test_the_cost_history_names_who_moved_it(manager, sku, node):
    receive(manager, sku, node, 2, "11.00")
    created, averaged = SkuCost.history.order_by("history_id")
    assert (created.average_cost, averaged.average_cost) == (Decimal("10.0000"), Decimal("11.0000"))
    assert created.history_user == averaged.history_user == manager


@pytest.mark.parametrize("scope", ["company", "node"])
def test_receipts_at_other_nodes_do_not_leak_across_scopes(manager, scope, sku, node):
    far = LocationFactory(code="WH-FAR")
    with override_settings(INVENTORY_COST_SCOPE=scope):
        receive(manager, sku, node, 1, "10.00")
        receive(manager, sku, far, 1, "30.00")
        near_cost = costing.unit_costs([sku.pk], location_id=node.pk)[sku.pk]
    assert near_cost == (Decimal("20.0000") if scope == "company" else Decimal("10.0000"))
