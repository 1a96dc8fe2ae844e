"""The inventory back office: stock pages, movement forms, adjustments, availability and
its rules, cycle counts and transfers, through HTTP as a browser (or HTMX) sends it."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from erp.models import ApprovalRequest
from inventory.models import (
    AllocationRule,
    CycleCount,
    InventoryAdjustment,
    Lot,
    SafetyStock,
    SerialNumber,
    StockLedgerEntry,
    Transfer,
)
from inventory.services.adjustments import decide_adjustment, request_adjustment
from inventory.services.counts import close_count, create_count, record_count
from inventory.services.movements import change_status
from inventory.services.reservations import reserve_stock
from inventory.services.rules import create_allocation_rule
from inventory.services.transfers import create_transfer
from tests.factories import (
    ChannelListingFactory,
    LocationFactory,
    LotFactory,
    SkuFactory,
    UserFactory,
)
from tests.inventory.conftest import balance

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def triggered(response) -> set[str]:
    return set(json.loads(response["HX-Trigger"])) if "HX-Trigger" in response else set()


@pytest.fixture
def sku(db):
    """As in the inventory conftest, with the unit cost read back as a Decimal."""
    return SkuFactory(code="TEE", unit_cost=Decimal("10.00"))


@pytest.fixture
def dear(db):
    """A SKU whose write-offs of a unit or more need approval (threshold 250)."""
    return SkuFactory(code="LAPTOP", unit_cost=Decimal("300.00"), barcode="0777000000017")


@pytest.fixture
def pending_write_off(dear, node, warehouse_user, stocked):
    stocked(dear, node, 5)
    return request_adjustment(
        sku=dear,
        location=node,
        quantity=-2,
        reason_code="damage",
        actor=warehouse_user,
        note="dropped at the dock",
    )


# --- stock search ------------------------------------------------------------------------------


def test_stock_search_finds_a_sku_by_barcode_and_answers_htmx_with_the_results_only(
    client, warehouse_user, sku, node, stocked
):
    other = SkuFactory(code="MUG", barcode="0400000000999")
    stocked(other, node, 3)
    stocked(sku, node, 10)
    client.force_login(warehouse_user)

    response = client.get(reverse("stock-search"), {"q": other.barcode}, **HTMX)

    content = response.content.decode()
    assert content.lstrip().startswith('<div id="stock-results"')
    assert "<html" not in content
    assert [row.code for row in response.context["page"].object_list] == ["MUG"]
    assert "HX-Request" in response["Vary"]


def test_the_stock_page_sums_each_sku_over_its_nodes_and_lists_the_nodes(
    client, warehouse_user, sku, node, second_node, stocked
):
    stocked(sku, node, 10)
    stocked(sku, second_node, 4)
    stocked(sku, node, 2, status="damaged")
    client.force_login(warehouse_user)

    response = client.get(reverse("stock-search"))

    row = response.context["page"].object_list[0]
    assert (row.sellable, row.held, row.free, row.nodes) == (14, 2, 14, 2)
    nodes = {node.code: node for node in response.context["nodes"]}
    assert (nodes["WH-A"].sellable, nodes["WH-A"].held, nodes["WH-A"].skus) == (10, 2, 1)
    assert reverse("stock-node", args=["WH-A"]) in response.content.decode()


def test_the_stock_search_runs_the_same_queries_for_one_sku_and_for_many(
    client, warehouse_user, node, stocked, django_assert_num_queries
):
    stocked(SkuFactory(), node, 1)
    client.force_login(warehouse_user)
    url = reverse("stock-search")
    client.get(url)

    # session, user, roles, count, page of SKUs with sums, node overview
    with django_assert_num_queries(6):
        client.get(url)
    for _ in range(12):
        stocked(SkuFactory(), node, 3)
    with django_assert_num_queries(6):
        client.get(url)


def test_stock_pages_need_the_stock_permission(client, sku, node):
    client.force_login(UserFactory(username="no-role"))

    assert client.get(reverse("stock-search")).status_code == 403
    assert client.get(reverse("stock-sku", args=[sku.code])).status_code == 403
    assert client.get(reverse("stock-node", args=[node.code])).status_code == 403


# --- stock by SKU ------------------------------------------------------------------------------


def test_the_sku_page_shows_balances_per_node_and_status_the_ledger_and_channel_figures(
    client, warehouse_user, manager, sku, node, second_node, channel, stocked
):
    stocked(sku, node, 10)
    stocked(sku, second_node, 4)
    change_status(
        sku=sku,
        location=node,
        quantity=3,
        from_status="sellable",
        to_status="quarantine",
        actor=manager,
        reason="smells odd",
    )
    reserve_stock(
        sku=sku, location=node, channel=channel, quantity=2, line_reference="O-1", actor=manager
    )
    ChannelListingFactory(channel=channel, sku=sku, channel_sku="WEB-TEE")
    create_allocation_rule(actor=manager, data={"channel": channel, "buffer": 1})
    client.force_login(warehouse_user)

    response = client.get(reverse("stock-sku", args=[sku.code]))

    nodes = {row.code: row for row in response.context["nodes"]}
    assert (nodes["WH-A"].sellable, nodes["WH-A"].reserved, nodes["WH-A"].quarantine) == (7, 2, 3)
    assert nodes["WH-A"].available == 5
    assert response.context["totals"]["available"] == 9
    [figure] = response.context["channels"]
    assert (figure.availability.pool, figure.availability.available) == (9, 8)
    assert figure.availability.rule.source == "channel"
    entries = list(response.context["ledger"])
    assert entries[0].kind == "status_change" and entries[0].reason == "smells odd"
    content = response.content.decode()
    assert "WEB-TEE" in content and "smells odd" in content and "channel rule" in content


def test_a_lot_tracked_sku_shows_its_lots_first_expiring_first(
    client, warehouse_user, node, stocked
):
    cheese = SkuFactory(code="CHEESE", lot_tracked=True, expiry_tracked=True)
    late = LotFactory(sku=cheese, code="LATE", expires_on=date.today() + timedelta(days=90))
    soon = LotFactory(sku=cheese, code="SOON", expires_on=date.today() + timedelta(days=9))
    stocked(cheese, node, 4, lot=late)
    stocked(cheese, node, 6, lot=soon)
    client.force_login(warehouse_user)

    response = client.get(reverse("stock-sku", args=[cheese.code]))

    assert [(b.lot.code, b.on_hand) for b in response.context["lots"]] == [("SOON", 6), ("LATE", 4)]
    assert "first-expiring first" in response.content.decode()


def test_an_unknown_sku_code_is_not_found(client, warehouse_user):
    client.force_login(warehouse_user)

    assert client.get(reverse("stock-sku", args=["NOPE"])).status_code == 404


# --- stock by node -----------------------------------------------------------------------------


def test_the_node_page_lists_each_sku_per_status_with_the_node_accuracy(
    client, manager, sku, node, stocked
):
    other = SkuFactory(code="MUG")
    stocked(sku, node, 10)
    stocked(other, node, 5)
    stocked(other, node, 1, status="inspection")
    SafetyStock.objects.create(sku=other, location=node, quantity=2)
    count = create_count(location=node, scope="all", actor=manager, tolerance=0)
    for code, counted in (("TEE", 10), ("MUG", 4)):
        record_count(count_id=count.pk, sku_code_or_barcode=code, counted=counted, actor=manager)
    close_count(count_id=count.pk, actor=manager)
    client.force_login(manager)

    response = client.get(reverse("stock-node", args=[node.code]))

    rows = {row.code: row for row in response.context["page"].object_list}
    assert (rows["MUG"].sellable, rows["MUG"].safety, rows["MUG"].available) == (4, 2, 2)
    assert rows["MUG"].inspection == 1
    assert response.context["accuracy"] == 0.5
    assert "50%" in response.content.decode()


def test_the_node_search_answers_htmx_with_the_results_only(
    client, warehouse_user, sku, node, stocked
):
    stocked(sku, node, 10)
    stocked(SkuFactory(code="MUG"), node, 5)
    client.force_login(warehouse_user)

    response = client.get(reverse("stock-node", args=[node.code]), {"q": "mug"}, **HTMX)

    assert response.content.decode().lstrip().startswith('<div id="node-results"')
    assert [row.code for row in response.context["page"].object_list] == ["MUG"]
    assert "accuracy" not in response.context


def test_the_node_page_runs_the_same_queries_for_one_sku_and_for_many(
    client, warehouse_user, node, stocked, django_assert_num_queries
):
    stocked(SkuFactory(), node, 1)
    client.force_login(warehouse_user)
    url = reverse("stock-node", args=[node.code])
    client.get(url)

    # session, user, roles, node, count, page, accuracy
    with django_assert_num_queries(7):
        client.get(url)
    for _ in range(12):
        stocked(SkuFactory(), node, 2)
    with django_assert_num_queries(7):
        client.get(url)


# --- receiving and status changes -----------------------------------------------------------------


def test_a_warehouse_user_receives_stock_and_is_sent_to_the_sku_page(
    client, warehouse_user, sku, node
):
    client.force_login(warehouse_user)

    response = client.post(
        reverse("stock-receive"),
        {
            "sku": sku.barcode,
            "location": node.code,
            "status": "sellable",
            "quantity": "12",
            "reference": "ASN-7",
        },
        **HTMX,
    )

    assert response["HX-Redirect"] == reverse("stock-sku", args=[sku.code])
    assert "queuesChanged" in triggered(response)
    assert balance(sku, node).on_hand == 12
    entry = StockLedgerEntry.objects.get()
    assert (entry.kind, entry.reference, entry.actor) == ("receipt", "ASN-7", warehouse_user)


def test_receiving_zero_shows_the_error_inline_and_writes_nothing(
    client, warehouse_user, sku, node
):
    client.force_login(warehouse_user)

    response = client.post(
        reverse("stock-receive"),
        {"sku": sku.code, "location": node.code, "status": "sellable", "quantity": "0"},
        **HTMX,
    )

    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<form id="movement-form"')
    assert response.context["form"].errors["quantity"] == [
        "Quantity must be a whole number above zero."
    ]
    assert not StockLedgerEntry.objects.exists()


def test_an_unknown_sku_is_refused_by_the_form(client, warehouse_user, node):
    client.force_login(warehouse_user)

    response = client.post(
        reverse("stock-receive"),
        {"sku": "GHOST", "location": node.code, "status": "sellable", "quantity": "1"},
    )

    assert response.context["form"].errors["sku"] == ["No SKU has this code or barcode."]
    assert "Nothing was written" in response.content.decode()


def test_the_receive_form_shows_the_tracking_fields_the_sku_needs(client, warehouse_user, sku):
    SkuFactory(code="CHEESE", lot_tracked=True, expiry_tracked=True)
    SkuFactory(code="PHONE", serial_tracked=True)
    client.force_login(warehouse_user)

    def fields_for(code):
        response = client.get(reverse("stock-receive"), {"sku": code}, **HTMX)
        return {field.name for field in response.context["form"].tracking()}

    assert fields_for("CHEESE") == {"lot", "expires_on"}
    assert fields_for("PHONE") == {"serials"}
    assert fields_for(sku.code) == set()


def test_receiving_into_a_new_lot_records_the_lot_and_its_expiry(client, warehouse_user, node):
    cheese = SkuFactory(code="CHEESE", lot_tracked=True, expiry_tracked=True)
    client.force_login(warehouse_user)

    client.post(
        reverse("stock-receive"),
        {
            "sku": "CHEESE",
            "location": node.code,
            "status": "sellable",
            "quantity": "8",
            "lot": "L-2031",
            "expires_on": "2031-03-01",
        },
    )

    lot = Lot.objects.get(sku=cheese)
    assert (lot.code, lot.expires_on) == ("L-2031", date(2031, 3, 1))
    assert lot.balances.get().on_hand == 8


def test_a_refused_receipt_leaves_no_new_lot_behind(client, warehouse_user, node):
    SkuFactory(code="CHEESE", lot_tracked=True)
    client.force_login(warehouse_user)

    response = client.post(
        reverse("stock-receive"),
        {
            "sku": "CHEESE",
            "location": node.code,
            "status": "sellable",
            "quantity": "-1",
            "lot": "L-1",
        },
    )

    assert "quantity" in response.context["form"].errors
    assert not Lot.objects.exists()
    assert not StockLedgerEntry.objects.exists()


def test_receiving_a_serial_tracked_sku_needs_one_serial_per_unit(client, warehouse_user, node):
    phone = SkuFactory(code="PHONE", serial_tracked=True)
    client.force_login(warehouse_user)
    data = {"sku": "PHONE", "location": node.code, "status": "sellable", "quantity": "2"}

    refused = client.post(reverse("stock-receive"), {**data, "serials": "SN-1"})
    assert refused.context["form"].errors["serials"] == [
        "PHONE is serial-tracked: give 2 distinct serials."
    ]
    assert not SerialNumber.objects.exists()

    client.post(reverse("stock-receive"), {**data, "serials": "SN-1\nSN-2\n"})
    assert sorted(SerialNumber.objects.filter(sku=phone).values_list("serial", flat=True)) == [
        "SN-1",
        "SN-2",
    ]


def test_customer_service_may_look_at_stock_but_not_move_it(client, cs_user, sku, node):
    client.force_login(cs_user)

    assert client.get(reverse("stock-search")).status_code == 200
    assert client.get(reverse("stock-receive")).status_code == 403
    response = client.post(
        reverse("stock-receive"),
        {"sku": sku.code, "location": node.code, "status": "sellable", "quantity": "1"},
    )
    assert response.status_code == 403
    assert client.post(reverse("stock-status-change"), {}).status_code == 403
    assert client.post(reverse("adjustment-create"), {}).status_code == 403
    assert not StockLedgerEntry.objects.exists()


def test_a_status_change_moves_units_and_must_say_why(client, warehouse_user, sku, node, stocked):
    stocked(sku, node, 10)
    client.force_login(warehouse_user)
    data = {
        "sku": sku.code,
        "location": node.code,
        "quantity": "4",
        "from_status": "sellable",
        "to_status": "damaged",
    }

    refused = client.post(reverse("stock-status-change"), data)
    assert refused.context["form"].errors["reason"] == ["Say why the stock changes status."]
    assert balance(sku, node).on_hand == 10

    client.post(reverse("stock-status-change"), {**data, "reason": "crushed carton"})
    assert (balance(sku, node).on_hand, balance(sku, node, "damaged").on_hand) == (6, 4)


def test_moving_more_than_on_hand_is_refused_inline(client, warehouse_user, sku, node, stocked):
    stocked(sku, node, 2)
    client.force_login(warehouse_user)

    response = client.post(
        reverse("stock-status-change"),
        {
            "sku": sku.code,
            "location": node.code,
            "quantity": "5",
            "from_status": "sellable",
            "to_status": "quarantine",
            "reason": "recall",
        },
    )

    assert "Only 2 on hand" in response.context["form"].errors["quantity"][0]
    assert balance(sku, node).on_hand == 2


# --- adjustments ----------------------------------------------------------------------------------


def test_a_small_adjustment_posts_at_once_and_the_page_says_so(
    client, warehouse_user, sku, node, stocked
):
    stocked(sku, node, 10)
    client.force_login(warehouse_user)

    response = client.post(
        reverse("adjustment-create"),
        {
            "sku": sku.code,
            "location": node.code,
            "status": "sellable",
            "quantity": "-1",
            "reason_code": "count_variance",
        },
        follow=True,
    )

    adjustment = InventoryAdjustment.objects.get()
    assert adjustment.state == "posted"
    assert response.redirect_chain[-1][0] == reverse(
        "inventoryadjustment-detail", args=[adjustment.pk]
    )
    assert "posted: the stock changed at once" in response.content.decode()
    assert balance(sku, node).on_hand == 9


def test_a_large_write_off_waits_for_approval_and_the_page_says_so(
    client, warehouse_user, dear, node, stocked
):
    stocked(dear, node, 5)
    client.force_login(warehouse_user)

    response = client.post(
        reverse("adjustment-create"),
        {
            "sku": dear.code,
            "location": node.code,
            "status": "sellable",
            "quantity": "-2",
            "reason_code": "damage",
        },
        follow=True,
    )

    content = response.content.decode()
    assert "waits for a manager&#x27;s approval" in content
    assert "You requested this adjustment" in content
    assert InventoryAdjustment.objects.get().state == "pending_approval"
    assert balance(dear, node).on_hand == 5


def test_an_adjustment_without_a_reason_shows_the_error_and_writes_nothing(
    client, warehouse_user, sku, node, stocked
):
    stocked(sku, node, 10)
    client.force_login(warehouse_user)

    response = client.post(
        reverse("adjustment-create"),
        {"sku": sku.code, "location": node.code, "status": "sellable", "quantity": "-1"},
        **HTMX,
    )

    assert response.context["form"].errors["reason_code"] == ["Choose a reason code."]
    assert not InventoryAdjustment.objects.exists()


def test_the_adjustment_list_filters_by_state(
    client, manager, pending_write_off, sku, node, stocked
):
    stocked(sku, node, 10)
    request_adjustment(sku=sku, location=node, quantity=1, reason_code="found", actor=manager)
    client.force_login(manager)

    response = client.get(reverse("adjustment-list"), {"state": "pending_approval"}, **HTMX)

    assert response.content.decode().lstrip().startswith('<div id="adjustment-results"')
    assert [a.pk for a in response.context["page"].object_list] == [pending_write_off.pk]


def test_the_adjustment_list_runs_the_same_queries_for_one_row_and_for_many(
    client, manager, sku, node, stocked, django_assert_num_queries
):
    stocked(sku, node, 50)
    request_adjustment(sku=sku, location=node, quantity=-1, reason_code="shrink", actor=manager)
    client.force_login(manager)
    url = reverse("adjustment-list")
    client.get(url)

    # session, user, roles, count, page (with SKU, node, lot, requester)
    with django_assert_num_queries(5):
        client.get(url)
    for _ in range(10):
        request_adjustment(sku=sku, location=node, quantity=-1, reason_code="shrink", actor=manager)
    with django_assert_num_queries(5):
        client.get(url)


def test_the_requester_sees_no_decision_buttons_and_cannot_decide(
    client, warehouse_user, manager, pending_write_off
):
    url = reverse("inventoryadjustment-detail", args=[pending_write_off.pk])
    client.force_login(manager)
    assert "Approve and post" in client.get(url).content.decode()

    # The same manager requested this one: no buttons, and a POST is refused.
    own = request_adjustment(
        sku=pending_write_off.sku,
        location=pending_write_off.location,
        quantity=-1,
        reason_code="shrink",
        actor=manager,
    )
    page = client.get(reverse("inventoryadjustment-detail", args=[own.pk]))
    assert "Approve and post" not in page.content.decode()
    response = client.post(
        reverse("adjustment-decide", args=[own.pk]), {"decision": "approve"}, **HTMX
    )
    assert response.status_code == 403
    own.refresh_from_db()
    assert own.state == "pending_approval"


def test_a_warehouse_user_cannot_approve_a_write_off(
    client, warehouse_user, other_manager, dear, node, stocked
):
    stocked(dear, node, 5)
    write_off = request_adjustment(
        sku=dear, location=node, quantity=-1, reason_code="damage", actor=other_manager
    )
    client.force_login(warehouse_user)

    page = client.get(reverse("inventoryadjustment-detail", args=[write_off.pk]))
    response = client.post(
        reverse("adjustment-decide", args=[write_off.pk]), {"decision": "approve"}
    )

    assert "Approve and post" not in page.content.decode()
    assert response.status_code == 403
    assert balance(dear, node).on_hand == 5


def test_a_manager_approves_a_write_off_and_its_history_shows_who_did_what(
    client, manager, warehouse_user, pending_write_off, dear, node
):
    client.force_login(manager)

    response = client.post(
        reverse("adjustment-decide", args=[pending_write_off.pk]),
        {"decision": "approve", "note": "photos checked"},
        **HTMX,
    )

    assert response["HX-Redirect"] == reverse(
        "inventoryadjustment-detail", args=[pending_write_off.pk]
    )
    assert "queuesChanged" in triggered(response)
    assert balance(dear, node).on_hand == 3
    page = client.get(reverse("inventoryadjustment-detail", args=[pending_write_off.pk]))
    entries = page.context["history"].entries
    assert entries[0].record.history_user == manager
    assert [(c.label, c.old, c.new) for c in entries[0].changes if c.label == "State"] == [
        ("State", "Waiting for approval", "Posted")
    ]
    assert entries[-1].record.history_user == warehouse_user
    assert "photos checked" in page.content.decode()


def test_rejecting_without_a_note_shows_the_error_and_changes_nothing(
    client, manager, pending_write_off, dear, node
):
    client.force_login(manager)

    response = client.post(
        reverse("adjustment-decide", args=[pending_write_off.pk]), {"decision": "reject"}, **HTMX
    )

    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section id="adjustment-decision"')
    assert "Say why the request is rejected." in response.content.decode()
    pending_write_off.refresh_from_db()
    assert pending_write_off.state == "pending_approval"
    assert ApprovalRequest.objects.get().state == "pending"


# --- availability --------------------------------------------------------------------------------------


def test_the_availability_page_shows_each_listing_and_the_rule_that_shaped_it(
    client, warehouse_user, manager, sku, node, channel, stocked
):
    mug = SkuFactory(code="MUG")
    stocked(sku, node, 10)
    stocked(mug, node, 10)
    ChannelListingFactory(channel=channel, sku=sku)
    ChannelListingFactory(channel=channel, sku=mug)
    create_allocation_rule(actor=manager, data={"channel": channel, "buffer": 2})
    create_allocation_rule(actor=manager, data={"channel": channel, "sku": mug, "max_units": 3})
    client.force_login(warehouse_user)

    response = client.get(reverse("stock-availability", args=[channel.code]))

    figures = {listing.sku.code: figure for listing, figure, _ in response.context["rows"]}
    assert (figures["TEE"].available, figures["TEE"].rule.source) == (8, "channel")
    assert (figures["MUG"].available, figures["MUG"].rule.source) == (3, "sku")
    content = response.content.decode()
    assert "SKU rule" in content and "channel rule" in content
    assert 'id="allocation-rules"' in content
    assert "Add rule" not in content  # warehouse staff read the rules, managers edit them


def test_the_availability_page_runs_the_same_queries_for_one_listing_and_for_many(
    client, manager, node, channel, stocked, django_assert_num_queries
):
    def listed():
        sku = SkuFactory()
        stocked(sku, node, 4)
        ChannelListingFactory(channel=channel, sku=sku)

    listed()
    client.force_login(manager)
    url = reverse("stock-availability", args=[channel.code])
    client.get(url, **HTMX)

    # session, user, roles, channel and its nodes (2), count, page of
    # listings with SKUs, then one pool, rules, active channels and published figures query
    with django_assert_num_queries(11):
        client.get(url, **HTMX)
    for _ in range(12):
        listed()
    with django_assert_num_queries(11):
        client.get(url, **HTMX)


def test_a_manager_creates_edits_and_deletes_a_channel_rule(client, manager, channel):
    client.force_login(manager)

    created = client.post(
        reverse("allocation-rule-create", args=[channel.pk]),
        {"rule-buffer": "2", "rule-protected": "0", "rule-cap": "0.9", "rule-threshold": "1"},
        **HTMX,
    )
    rule = AllocationRule.objects.get()
    assert (rule.sku, rule.buffer, rule.cap) == (None, 2, Decimal("0.9000"))
    assert created.content.decode().lstrip().startswith('<section id="allocation-rules"')
    assert {"availabilityChanged", "queuesChanged"} <= triggered(created)

    form = client.get(reverse("allocation-rule-edit", args=[rule.pk]), **HTMX)
    assert form.context["editing"] == rule
    client.post(
        reverse("allocation-rule-edit", args=[rule.pk]),
        {"rule-buffer": "5", "rule-protected": "0", "rule-cap": "1", "rule-threshold": "0"},
        **HTMX,
    )
    rule.refresh_from_db()
    assert rule.buffer == 5

    deleted = client.post(reverse("allocation-rule-delete", args=[rule.pk]), **HTMX)
    assert "Rule for all SKUs deleted." in deleted.content.decode()
    assert not AllocationRule.objects.exists()


def test_a_rule_the_service_refuses_shows_inline_errors_and_writes_nothing(
    client, manager, channel
):
    client.force_login(manager)

    response = client.post(
        reverse("allocation-rule-create", args=[channel.pk]),
        {"rule-buffer": "0", "rule-protected": "0", "rule-cap": "1.5", "rule-threshold": "0"},
        **HTMX,
    )

    assert "cap" in response.context["rule_form"].errors
    assert "Nothing was saved" in response.content.decode()
    assert not AllocationRule.objects.exists()


def test_a_second_channel_wide_rule_is_refused_inline(client, manager, channel):
    create_allocation_rule(actor=manager, data={"channel": channel, "buffer": 1})
    client.force_login(manager)

    response = client.post(
        reverse("allocation-rule-create", args=[channel.pk]),
        {"rule-buffer": "3", "rule-protected": "0", "rule-cap": "1", "rule-threshold": "0"},
        **HTMX,
    )

    assert response.context["rule_form"].errors["sku"] == ["WEB already has a rule for all SKUs."]
    assert AllocationRule.objects.get().buffer == 1


def test_warehouse_staff_cannot_change_rules_or_safety_stock(
    client, warehouse_user, manager, channel, sku, node
):
    rule = create_allocation_rule(actor=manager, data={"channel": channel, "buffer": 1})
    client.force_login(warehouse_user)
    data = {"rule-buffer": "9", "rule-protected": "0", "rule-cap": "1", "rule-threshold": "0"}

    assert (
        client.post(reverse("allocation-rule-create", args=[channel.pk]), data).status_code == 403
    )
    assert client.post(reverse("allocation-rule-edit", args=[rule.pk]), data).status_code == 403
    assert client.post(reverse("allocation-rule-delete", args=[rule.pk])).status_code == 403
    safety = {"safety-sku": sku.code, "safety-location": node.code, "safety-quantity": "3"}
    assert client.post(reverse("safety-stock-set", args=[channel.pk]), safety).status_code == 403
    rule.refresh_from_db()
    assert rule.buffer == 1
    assert not SafetyStock.objects.exists()


def test_a_manager_sets_safety_stock_at_a_channel_node(client, manager, channel, sku, node):
    client.force_login(manager)

    response = client.post(
        reverse("safety-stock-set", args=[channel.pk]),
        {"safety-sku": sku.code, "safety-location": node.code, "safety-quantity": "3"},
        **HTMX,
    )

    assert SafetyStock.objects.get(sku=sku, location=node).quantity == 3
    assert "availabilityChanged" in triggered(response)
    assert "Safety stock of TEE at WH-A set to 3." in response.content.decode()


def test_a_node_the_channel_does_not_sell_from_is_refused_for_safety_stock(
    client, manager, channel, sku
):
    elsewhere = LocationFactory(code="WH-Z")
    client.force_login(manager)

    response = client.post(
        reverse("safety-stock-set", args=[channel.pk]),
        {"safety-sku": sku.code, "safety-location": elsewhere.code, "safety-quantity": "3"},
        **HTMX,
    )

    assert "location" in response.context["safety_form"].errors
    assert not SafetyStock.objects.exists()


def test_the_availability_index_lists_active_channels(client, warehouse_user, channel):
    client.force_login(warehouse_user)

    response = client.get(reverse("availability-index"))

    assert reverse("stock-availability", args=[channel.code]) in response.content.decode()


# --- cycle counts -------------------------------------------------------------------------------------


@pytest.fixture
def open_count(manager, sku, node, stocked):
    """A count of two SKUs expecting 613 and 587 units."""
    stocked(sku, node, 613)
    stocked(SkuFactory(code="MUG", barcode="0400000000555"), node, 587)
    return create_count(location=node, scope="all", actor=manager, tolerance=1)


def test_a_count_is_opened_from_the_form(client, warehouse_user, sku, node, stocked):
    stocked(sku, node, 5)
    client.force_login(warehouse_user)

    response = client.post(
        reverse("count-create"), {"location": node.code, "scope": "all", "tolerance": "0"}, **HTMX
    )

    count = CycleCount.objects.get()
    assert response["HX-Redirect"] == reverse("count-detail", args=[count.pk])
    assert count.lines.count() == 1


def test_a_family_count_without_a_family_shows_the_error_and_opens_nothing(
    client, warehouse_user, node
):
    client.force_login(warehouse_user)

    response = client.post(
        reverse("count-create"), {"location": node.code, "scope": "family", "tolerance": "0"}
    )

    assert response.context["form"].errors["product_family"] == [
        "Choose the product family to count."
    ]
    assert not CycleCount.objects.exists()


def test_counting_is_blind(client, warehouse_user, open_count):
    client.force_login(warehouse_user)

    content = client.get(reverse("count-detail", args=[open_count.pk])).content.decode()

    assert 'class="scan-input"' in content and "autofocus" in content
    assert "613" not in content and "587" not in content
    assert "Expected</th>" not in content


def test_a_scan_and_its_quantity_return_a_fresh_scan_form_and_the_updated_lines(
    client, warehouse_user, open_count
):
    client.force_login(warehouse_user)

    response = client.post(
        reverse("count-record", args=[open_count.pk]),
        {"code": "0400000000555", "counted": "21"},
        **HTMX,
    )

    content = response.content.decode()
    assert content.lstrip().startswith('<form id="scan-form"')
    assert '<section id="count-lines" class="panel" hx-swap-oob="true">' in content
    assert "Counted <strong>21</strong>" in content
    assert "587" not in content  # still blind
    line = open_count.lines.get(sku__code="MUG")
    assert (line.counted, line.counted_by) == (21, warehouse_user)
    assert response.context["scan_form"]["code"].value() in (None, "")


def test_a_scan_that_is_not_on_the_count_shows_an_error_and_records_nothing(
    client, warehouse_user, open_count
):
    client.force_login(warehouse_user)

    response = client.post(
        reverse("count-record", args=[open_count.pk]), {"code": "9999", "counted": "4"}, **HTMX
    )

    assert response.context["scan_form"].errors["code"] == ["9999 is not on this count."]
    assert 'class="scan-form has-errors scan-failed"' in response.content.decode()
    assert not open_count.lines.filter(counted__isnull=False).exists()


def test_the_scan_lookup_names_the_sku_or_says_it_is_not_on_the_count(
    client, warehouse_user, open_count
):
    client.force_login(warehouse_user)
    url = reverse("count-lookup", args=[open_count.pk])

    hit = client.get(url, {"code": "0400000000555"}, **HTMX).content.decode()
    miss = client.get(url, {"code": "0000"}, **HTMX).content.decode()

    assert "scan-ok" in hit and "MUG" in hit and "587" not in hit
    assert "scan-miss" in miss and "0000 is not on this count." in miss


def test_closing_a_count_with_uncounted_lines_is_refused_inline(client, manager, open_count):
    client.force_login(manager)

    response = client.post(reverse("count-close", args=[open_count.pk]), **HTMX)

    assert response.content.decode().lstrip().startswith('<div id="count-close"')
    assert "2 lines are not counted yet" in response.content.decode()
    open_count.refresh_from_db()
    assert open_count.state == "open"


def test_closing_turns_variances_into_adjustments_only_managers_see(
    client, manager, warehouse_user, open_count, sku, node
):
    record_count(
        count_id=open_count.pk, sku_code_or_barcode="TEE", counted=611, actor=warehouse_user
    )
    record_count(
        count_id=open_count.pk, sku_code_or_barcode="MUG", counted=587, actor=warehouse_user
    )
    client.force_login(manager)

    response = client.post(reverse("count-close", args=[open_count.pk]), follow=True)

    assert "1 variance(s) became adjustments" in response.content.decode()
    adjustment = InventoryAdjustment.objects.get()
    assert (adjustment.quantity, adjustment.state) == (-2, "posted")
    assert balance(sku, node).on_hand == 611
    assert response.context["show_variances"]
    assert f"ADJ-{adjustment.pk}" in response.content.decode()
    client.force_login(warehouse_user)
    blind = client.get(reverse("count-detail", args=[open_count.pk]))
    assert not blind.context["show_variances"]
    assert "613" not in blind.content.decode()


def test_customer_service_cannot_enter_counts(client, cs_user, open_count):
    client.force_login(cs_user)

    page = client.get(reverse("count-detail", args=[open_count.pk]))
    response = client.post(
        reverse("count-record", args=[open_count.pk]), {"code": "TEE", "counted": "1"}
    )

    assert 'class="scan-input"' not in page.content.decode()
    assert response.status_code == 403
    assert client.post(reverse("count-close", args=[open_count.pk])).status_code == 403


def test_the_count_list_runs_the_same_queries_for_one_count_and_for_many(
    client, manager, sku, node, stocked, django_assert_num_queries
):
    stocked(sku, node, 3)
    create_count(location=node, scope="all", actor=manager)
    client.force_login(manager)
    url = reverse("count-list")
    client.get(url)

    # session, user, roles, count, page (with node, creator, line tallies)
    with django_assert_num_queries(5):
        client.get(url)
    for _ in range(8):
        create_count(location=node, scope="all", actor=manager)
    with django_assert_num_queries(5):
        client.get(url)


# --- transfers ----------------------------------------------------------------------------------------


def line_data(*lines, extra=1) -> dict:
    data = {"lines-TOTAL_FORMS": str(len(lines) + extra), "lines-INITIAL_FORMS": "0"}
    for index, (sku, quantity) in enumerate(lines):
        data[f"lines-{index}-sku"] = sku
        data[f"lines-{index}-quantity"] = str(quantity)
    return data


def test_a_transfer_is_shipped_from_the_form(
    client, warehouse_user, sku, node, second_node, stocked
):
    stocked(sku, node, 10)
    client.force_login(warehouse_user)

    response = client.post(
        reverse("transfer-create"),
        {"from_location": node.code, "to_location": second_node.code, **line_data((sku.code, 4))},
        **HTMX,
    )

    transfer = Transfer.objects.get()
    assert response["HX-Redirect"] == reverse("transfer-detail", args=[transfer.pk])
    assert balance(sku, node).on_hand == 6
    assert balance(sku, second_node, "in_transit").on_hand == 4


def test_shipping_more_than_on_hand_is_refused_and_nothing_is_written(
    client, warehouse_user, sku, node, second_node, stocked
):
    stocked(sku, node, 2)
    client.force_login(warehouse_user)

    response = client.post(
        reverse("transfer-create"),
        {"from_location": node.code, "to_location": second_node.code, **line_data((sku.code, 3))},
        **HTMX,
    )

    assert response.content.decode().lstrip().startswith('<form id="transfer-form"')
    assert "Only 2 on hand" in response.content.decode()
    assert not Transfer.objects.exists()
    assert balance(sku, node).on_hand == 2


def test_a_line_quantity_error_goes_under_that_line(
    client, warehouse_user, sku, node, second_node, stocked
):
    stocked(sku, node, 5)
    client.force_login(warehouse_user)

    response = client.post(
        reverse("transfer-create"),
        {
            "from_location": node.code,
            "to_location": second_node.code,
            **line_data((sku.code, 1), (sku.code, 0)),
        },
    )

    assert response.context["lines"].forms[1].errors["quantity"] == [
        "Quantity must be a whole number above zero."
    ]
    assert not Transfer.objects.exists()


def test_a_transfer_is_received_in_part_then_closed_with_a_discrepancy(
    client, warehouse_user, sku, node, second_node, stocked
):
    stocked(sku, node, 10)
    transfer = create_transfer(
        from_location=node,
        to_location=second_node,
        lines=[{"sku": sku, "quantity": 6}],
        actor=warehouse_user,
    )
    line = transfer.lines.get()
    client.force_login(warehouse_user)

    client.post(reverse("transfer-receive", args=[transfer.pk]), {f"line_{line.pk}": "4"}, **HTMX)
    transfer.refresh_from_db()
    assert transfer.state == "partially_received"
    assert balance(sku, second_node).on_hand == 4

    refused = client.post(reverse("transfer-close", args=[transfer.pk]), {"note": ""}, **HTMX)
    assert refused.content.decode().lstrip().startswith('<section id="transfer-close"')
    assert "Describe the discrepancy." in refused.content.decode()

    client.post(reverse("transfer-close", args=[transfer.pk]), {"note": "2 lost"}, **HTMX)
    transfer.refresh_from_db()
    line.refresh_from_db()
    assert (transfer.state, line.quantity_missing) == ("closed_with_discrepancy", 2)
    page = client.get(reverse("transfer-detail", args=[transfer.pk]))
    assert "Closed with discrepancy" in page.content.decode()
    assert page.context["history"].entries[0].record.history_change_reason == "2 lost"


def test_receiving_more_than_is_in_transit_is_refused_under_the_line(
    client, warehouse_user, sku, node, second_node, stocked
):
    stocked(sku, node, 10)
    transfer = create_transfer(
        from_location=node,
        to_location=second_node,
        lines=[{"sku": sku, "quantity": 3}],
        actor=warehouse_user,
    )
    line = transfer.lines.get()
    client.force_login(warehouse_user)

    response = client.post(
        reverse("transfer-receive", args=[transfer.pk]), {f"line_{line.pk}": "5"}, **HTMX
    )

    assert response.context["receive_form"].errors[f"line_{line.pk}"] == [
        "Only 3 of TEE are still in transit."
    ]
    assert balance(sku, second_node).on_hand == 0


def test_the_transfer_list_runs_the_same_queries_for_one_transfer_and_for_many(
    client, warehouse_user, sku, node, second_node, stocked, django_assert_num_queries
):
    stocked(sku, node, 50)

    def ship():
        create_transfer(
            from_location=node,
            to_location=second_node,
            lines=[{"sku": sku, "quantity": 1}],
            actor=warehouse_user,
        )

    ship()
    client.force_login(warehouse_user)
    url = reverse("transfer-list")
    client.get(url)

    # session, user, roles, count, page (with nodes, creator, line sums)
    with django_assert_num_queries(5):
        client.get(url)
    for _ in range(8):
        ship()
    with django_assert_num_queries(5):
        client.get(url)


# --- exception queues ------------------------------------------------------------------------------------


def test_the_inventory_queues_show_their_rows(
    client, manager, pending_write_off, sku, node, second_node, stocked
):
    stocked(sku, node, 5)
    transfer = create_transfer(
        from_location=node,
        to_location=second_node,
        lines=[{"sku": sku, "quantity": 1}],
        actor=manager,
    )
    Transfer.objects.filter(pk=transfer.pk).update(
        shipped_at=transfer.shipped_at - timedelta(days=9)
    )
    client.force_login(manager)

    adjustments = client.get(reverse("exception-queue", args=["adjustments-awaiting-approval"]))
    transfers = client.get(reverse("exception-queue", args=["overdue-transfers"]))

    assert f'id="adjustment-{pending_write_off.pk}"' in adjustments.content.decode()
    assert (
        reverse("inventoryadjustment-detail", args=[pending_write_off.pk])
        in adjustments.content.decode()
    )
    assert f'id="transfer-{transfer.pk}"' in transfers.content.decode()


def test_navigation_offers_the_inventory_screens_by_permission(client, warehouse_user):
    client.force_login(UserFactory(username="no-role"))
    bare = client.get(reverse("dashboard")).content.decode()
    client.force_login(warehouse_user)
    floor = client.get(reverse("dashboard")).content.decode()

    for name in ("stock-search", "count-list", "transfer-list", "availability-index"):
        assert reverse(name) not in bare
        assert reverse(name) in floor


def test_decide_adjustment_through_the_service_keeps_the_page_consistent(
    client, manager, pending_write_off
):
    decide_adjustment(adjustment=pending_write_off, actor=manager, approve=False, note="no photos")
    client.force_login(manager)

    page = client.get(reverse("inventoryadjustment-detail", args=[pending_write_off.pk]))

    assert "Approve and post" not in page.content.decode()
    assert "no photos" in page.content.decode()
