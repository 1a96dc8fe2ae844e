"""Replenishment: demand from constructed ledger shipments, with answers worked by hand."""

import math
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from erp import roles
from erp.errors import Conflict, NotPermitted, ValidationFailed
from inventory.models import MovementKind, StockStatus
from inventory.services.ledger import Movement, post_movements
from purchasing.models import (
    Proposal,
    ProposalLine,
    PurchaseOrder,
    PurchaseOrderState,
    ReplenishmentSettings,
)
from purchasing.services import purchase_orders, replenishment
from tests.factories import LocationFactory, SkuFactory, UserFactory
from tests.factories.purchasing import SupplierFactory, SupplierItemFactory
from tests.purchasing.planning import NOW, run, ship_weekly, stock

# --- the arithmetic ------------------------------------------------------------------------


def test_velocity_weights_recent_weeks_and_sigma_comes_from_the_weekly_totals(
    planner, node, vendor
):
    tee, mug = SkuFactory(code="TEE-V"), SkuFactory(code="MUG-V")
    ship_weekly(tee, node, [7, 14, 21, 28], planner)
    ship_weekly(mug, node, [14, 14, 14, 14], planner)
    weighted = replenishment.Parameters(28, 1.65, 7, 2.0)
    figures = {
        sku: (velocity, sigma)
        for sku, _node, velocity, sigma in replenishment.demand(as_of=NOW, params=weighted)
    }
    velocity, sigma = figures[tee.pk]
    # weights 1, 4/3, 5/3, 2 (sum 6): (7 + 56/3 + 35 + 56) / 6 = 19.444… per week
    assert velocity == pytest.approx((7 + 56 / 3 + 35 + 56) / 6 / 7)
    # weekly sample σ of 7,14,21,28 = √(245/3) = 9.04; daily σ = that / √7
    assert sigma == pytest.approx(math.sqrt(245 / 3) / math.sqrt(7))
    assert figures[mug.pk] == (pytest.approx(2.0), pytest.approx(0.0))
    flat = replenishment.Parameters(28, 1.65, 7, 1.0)
    figures = {row[0]: row[2] for row in replenishment.demand(as_of=NOW, params=flat)}
    assert figures[tee.pk] == pytest.approx(70 / 28)


def test_reorder_point_safety_stock_order_up_to_and_pack_rounding():
    params = replenishment.Parameters(28, 2.0, 7, 1.0)
    plan = replenishment.plan_quantity(
        demand=replenishment.Demand(velocity=3.0, sigma=1.5),
        lead_time_days=9,
        moq=10,
        pack_multiple=12,
        on_hand=20,
        on_order=5,
        in_transit=4,
        params=params,
    )
    # safety = ⌈2 × 1.5 × √9⌉ = 9; ROP = 3×9 + 9 = 36; S = 3×16 + 9 = 57
    assert (plan.safety_stock, plan.reorder_point, plan.order_up_to) == (9, 36, 57)
    assert plan.position == 29 and plan.raw_quantity == 28
    assert plan.quantity == 36  # 28 → packs of 12
    assert "rounded up to packs of 12" in plan.reason
    assert plan.cover_days == pytest.approx(29 / 3)


def test_nothing_is_ordered_above_the_reorder_point_and_the_moq_lifts_small_orders():
    params = replenishment.Parameters(28, 0.0, 7, 1.0)
    above = replenishment.plan_quantity(
        demand=replenishment.Demand(2.0, 0.0),
        lead_time_days=5,
        moq=1,
        pack_multiple=1,
        on_hand=11,
        on_order=0,
        in_transit=0,
        params=params,
    )
    assert above.reorder_point == 10 and above.quantity == 0
    small = replenishment.plan_quantity(
        demand=replenishment.Demand(1.0, 0.0),
        lead_time_days=5,
        moq=50,
        pack_multiple=5,
        on_hand=4,
        on_order=0,
        in_transit=0,
        params=params,
    )
    assert small.raw_quantity == 8 and small.quantity == 50
    assert "raised to the MOQ 50" in small.reason


# --- the run over the ledger -----------------------------------------------------------------


def test_a_run_proposes_from_ledger_shipments_with_known_figures(planner, node, vendor):
    ReplenishmentSettings.objects.update_or_create(
        pk=1,
        defaults=dict(
            window_days=28,
            service_level_z=Decimal("1.00"),
            review_period_days=7,
            recent_weight=Decimal("1.00"),
        ),
    )
    tee = SkuFactory(code="TEE-R")
    SupplierItemFactory(
        supplier=vendor, sku=tee, lead_time_days=4, moq=1, pack_multiple=10, preferred=True
    )
    ship_weekly(tee, node, [14, 14, 21, 7], planner)  # 56 in 28 days: 2/day
    stock(tee, node, 3, planner)
    # on hand 3 (+ what stayed after shipping: nothing); an old shipment outside the window
    post_movements(
        movements=[Movement(tee.pk, node.pk, StockStatus.SELLABLE, 10)],
        kind=MovementKind.RECEIPT,
        actor=planner,
        occurred_at=NOW - timedelta(days=90),
    )
    post_movements(
        movements=[Movement(tee.pk, node.pk, StockStatus.SELLABLE, -10)],
        kind=MovementKind.SHIPMENT,
        actor=planner,
        occurred_at=NOW - timedelta(days=40),
    )
    result = run(planner)
    line = ProposalLine.objects.get(proposal__run=result, sku=tee)
    # weekly 14,14,21,7: mean 14, sample σ = √(98/3) = 5.715; daily σ = 2.160
    assert line.velocity == Decimal("2.000")
    assert line.sigma == Decimal("2.160")
    # safety ⌈1 × 2.160 × √4⌉ = 5; ROP = 2×4 + 5 = 13; S = 2×11 + 5 = 27; position 3
    assert (line.safety_stock, line.reorder_point, line.order_up_to) == (5, 13, 27)
    assert line.position == 3 and line.raw_quantity == 24
    assert line.suggested_quantity == line.quantity == 30  # packs of 10
    assert line.cover_days == Decimal("1.5")
    assert line.proposal.supplier == vendor and line.proposal.destination == node
    assert result.pairs_evaluated == 1 and result.lines_proposed == 1


def test_open_pos_and_in_transit_count_and_received_units_do_not(planner, node, vendor):
    tee = SkuFactory(code="TEE-P")
    item = SupplierItemFactory(supplier=vendor, sku=tee, lead_time_days=7, preferred=True)
    ship_weekly(tee, node, [70, 70, 70, 70], planner)  # 10/day, σ 0
    stock(tee, node, 6, planner, status=StockStatus.IN_TRANSIT)
    po = purchase_orders.create_purchase_order(
        supplier=vendor, destination=node, actor=planner, lines=[{"sku": tee, "quantity": 40}]
    )
    PurchaseOrder.objects.filter(pk=po.pk).update(state=PurchaseOrderState.PARTIALLY_RECEIVED)
    po.lines.update(quantity_received=15)
    cancelled = purchase_orders.create_purchase_order(
        supplier=vendor, destination=node, actor=planner, lines=[{"sku": tee, "quantity": 500}]
    )
    purchase_orders.cancel_purchase_order(purchase_order=cancelled, actor=planner, reason="x")
    line = ProposalLine.objects.get(proposal__run=run(planner), sku=tee)
    assert (line.on_hand, line.on_order, line.in_transit, line.position) == (0, 25, 6, 31)
    # ROP = 10 × 7 = 70 (σ 0 → no safety stock), S = 10 × 14 = 140 → order 109
    assert (line.reorder_point, line.order_up_to, line.quantity) == (70, 140, 109)
    assert line.supplier_item == item


def test_the_preferred_supplier_wins_and_nodes_get_their_own_proposals(planner, vendor):
    east, west = LocationFactory(code="WH-E"), LocationFactory(code="WH-W")
    other = SupplierFactory(code="OTHER")
    mug = SkuFactory(code="MUG-R")
    SupplierItemFactory(supplier=other, sku=mug, lead_time_days=2)
    SupplierItemFactory(supplier=vendor, sku=mug, lead_time_days=20, preferred=True)
    ship_weekly(mug, east, [7, 7, 7, 7], planner)
    ship_weekly(mug, west, [14, 14, 14, 14], planner)
    result = run(planner)
    proposals = list(Proposal.objects.filter(run=result).order_by("destination__code"))
    assert [(p.supplier.code, p.destination.code) for p in proposals] == [
        ("VEND", "WH-E"),
        ("VEND", "WH-W"),
    ]
    assert [p.lines.get().lead_time_days for p in proposals] == [20, 20]
    assert [p.lines.get().quantity for p in proposals] == [27, 54]  # 1/day × 27, 2/day × 27


def test_the_run_reads_the_ledger_set_based(planner, vendor):
    """Queries do not grow with the number of SKUs × nodes."""
    nodes = [LocationFactory(code=f"WH-Q{n}") for n in range(2)]

    def seed(count, start):
        for n in range(start, start + count):
            sku = SkuFactory(code=f"Q-{n}")
            SupplierItemFactory(supplier=vendor, sku=sku, preferred=True)
            for node in nodes:
                ship_weekly(sku, node, [7, 7, 7, 7], planner)

    seed(2, 0)
    run(planner)  # the settings row exists and there are proposals to supersede from now on
    with CaptureQueriesContext(connection) as small:
        run(planner)
    seed(6, 2)
    with CaptureQueriesContext(connection) as large:
        bigger = run(planner)
    assert bigger.lines_proposed == 16
    assert len(large.captured_queries) == len(small.captured_queries)


def test_a_new_run_supersedes_the_open_proposals(planner, node, vendor):
    tee = SkuFactory(code="TEE-S")
    SupplierItemFactory(supplier=vendor, sku=tee, preferred=True)
    ship_weekly(tee, node, [7, 7, 7, 7], planner)
    first = run(planner)
    second = run(planner)
    assert Proposal.objects.get(run=first).state == Proposal.State.SUPERSEDED
    assert Proposal.objects.get(run=second).state == Proposal.State.OPEN


def test_a_sku_without_a_supplier_is_counted_not_proposed(planner, node):
    orphan = SkuFactory(code="ORPHAN")
    ship_weekly(orphan, node, [7, 7, 7, 7], planner)
    result = run(planner)
    assert result.lines_proposed == 0 and result.without_supplier == 1


# --- the planner's review -------------------------------------------------------------------


@pytest.fixture
def proposal(planner, node, vendor):
    tee = SkuFactory(code="TEE-A")
    mug = SkuFactory(code="MUG-A")
    SupplierItemFactory(supplier=vendor, sku=tee, preferred=True, unit_cost=Decimal("2.00"))
    SupplierItemFactory(
        supplier=vendor, sku=mug, preferred=True, moq=12, pack_multiple=6, unit_cost=Decimal("1")
    )
    ship_weekly(tee, node, [7, 7, 7, 7], planner)
    ship_weekly(mug, node, [14, 14, 14, 14], planner)
    return Proposal.objects.get(run=run(planner))


def test_accepting_makes_a_draft_po_with_the_edited_quantities(proposal, planner):
    mug = proposal.lines.get(sku__code="MUG-A")
    replenishment.set_line_quantity(line=mug, quantity=48, actor=planner)
    po = replenishment.accept_proposal(proposal=proposal, actor=planner)
    assert po.state == PurchaseOrderState.DRAFT and po.supplier == proposal.supplier
    assert {(line.sku.code, line.quantity_ordered) for line in po.lines.all()} == {
        ("TEE-A", proposal.lines.get(sku__code="TEE-A").quantity),
        ("MUG-A", 48),
    }
    proposal.refresh_from_db()
    assert proposal.state == Proposal.State.ACCEPTED and proposal.purchase_order == po
    assert proposal.decided_by == planner
    assert set(proposal.lines.values_list("state", flat=True)) == {ProposalLine.State.ACCEPTED}
    with pytest.raises(Conflict):
        replenishment.accept_proposal(proposal=proposal, actor=planner)


def test_a_dropped_line_stays_out_of_the_po(proposal, planner):
    replenishment.drop_line(line=proposal.lines.get(sku__code="TEE-A"), actor=planner)
    po = replenishment.accept_proposal(proposal=proposal, actor=planner)
    assert list(po.lines.values_list("sku__code", flat=True)) == ["MUG-A"]


def test_dropping_every_line_drops_the_proposal(proposal, planner):
    for line in proposal.lines.all():
        replenishment.drop_line(line=line, actor=planner)
    proposal.refresh_from_db()
    assert proposal.state == Proposal.State.DROPPED
    with pytest.raises(Conflict):
        replenishment.accept_proposal(proposal=proposal, actor=planner)


def test_a_quantity_off_the_pack_is_refused_and_nothing_changes(proposal, planner):
    mug = proposal.lines.get(sku__code="MUG-A")
    before = mug.quantity
    with pytest.raises(ValidationFailed) as refused:
        replenishment.set_line_quantity(line=mug, quantity=50, actor=planner)
    assert refused.value.errors[0].field == "quantity"
    assert refused.value.errors[0].code == "not_pack_multiple"
    with pytest.raises(ValidationFailed):
        replenishment.set_line_quantity(line=mug, quantity=0, actor=planner)
    mug.refresh_from_db()
    assert mug.quantity == before


def test_the_po_service_validates_accepted_lines(proposal, planner):
    """A SKU made inactive after the run is refused by the PO service; nothing is written."""
    tee = proposal.lines.get(sku__code="TEE-A").sku
    tee.active = False
    tee.save()
    with pytest.raises(ValidationFailed) as refused:
        replenishment.accept_proposal(proposal=proposal, actor=planner)
    assert refused.value.errors[0].code == "inactive"
    assert not PurchaseOrder.objects.exists()
    proposal.refresh_from_db()
    assert proposal.state == Proposal.State.OPEN


def test_warehouse_staff_may_not_accept_and_only_managers_tune(proposal, planner, manager):
    clerk = UserFactory(username="clerk", roles=[roles.WAREHOUSE])
    with pytest.raises(NotPermitted):
        replenishment.accept_proposal(proposal=proposal, actor=clerk)
    with pytest.raises(NotPermitted):
        replenishment.update_settings(actor=planner, window_days=56)
    updated = replenishment.update_settings(actor=manager, window_days=56)
    assert updated.window_days == 56
    with pytest.raises(ValidationFailed) as refused:
        replenishment.update_settings(actor=manager, service_level_z=Decimal("9"))
    assert refused.value.errors[0].field == "service_level_z"
    assert ReplenishmentSettings.current().service_level_z == Decimal("1.65")


def test_the_nightly_task_runs_without_a_user(planner, node, vendor):
    from purchasing.tasks import run_nightly_replenishment

    tee = SkuFactory(code="TEE-N")
    SupplierItemFactory(supplier=vendor, sku=tee, preferred=True)
    ship_weekly(tee, node, [7, 7, 7, 7], planner)
    assert run_nightly_replenishment() == 1
    assert Proposal.objects.get().run.trigger == "nightly"
