"""The approvals inbox: every pending request of every kind in one place, decided by
someone who may decide it and is not the requester."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from erp.models import ApprovalRequest
from erp.services.approvals import request_approval
from inventory.models import InventoryAdjustment, StockBalance
from inventory.services.adjustments import request_adjustment
from inventory.services.movements import receive_stock
from tests.factories import LocationFactory, OrderFactory, SkuFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def node(db):
    return LocationFactory(code="WH-A")


@pytest.fixture
def laptop(node, manager):
    sku = SkuFactory(code="LAPTOP", unit_cost=Decimal("300.00"))
    receive_stock(sku=sku, location=node, quantity=20, actor=manager)
    return sku


def on_hand(sku, node) -> int:
    return StockBalance.objects.get(sku=sku, location=node, status="sellable").on_hand


def write_off(laptop, node, actor, quantity=-1, reason="damage") -> InventoryAdjustment:
    return request_adjustment(
        sku=laptop,
        location=node,
        quantity=quantity,
        reason_code=reason,
        actor=actor,
        note="forklift",
    )


def age(approval: ApprovalRequest, hours: int) -> None:
    ApprovalRequest.objects.filter(pk=approval.pk).update(
        requested_at=timezone.now() - timedelta(hours=hours)
    )


def test_the_inbox_lists_every_pending_kind_oldest_first_with_amount_requester_and_age(
    client, manager, warehouse_user, laptop, node
):
    damaged = write_off(laptop, node, warehouse_user)
    counted = write_off(laptop, node, warehouse_user, quantity=-2, reason="count_variance")
    split = request_approval(
        kind="order_split",
        subject=OrderFactory(),
        amount=Decimal("18.40"),
        requested_by=warehouse_user,
        summary="Split order EXT-1 — 18.40 extra shipping",
    )
    age(ApprovalRequest.objects.get(subject_id=damaged.pk, kind="inventory_write_off"), 30)
    age(split, 5)
    client.force_login(manager)

    response = client.get(reverse("approval-inbox"))

    rows = response.context["rows"]
    assert [row["label"] for row in rows] == [
        "Write-off",
        "Costly split shipment",
        "Inventory adjustment",
    ]
    assert rows[0]["age"] == "30 h 00 min"
    assert rows[0]["url"] == reverse("inventoryadjustment-detail", args=[damaged.pk])
    assert rows[2]["url"] == reverse("inventoryadjustment-detail", args=[counted.pk])
    assert all(row["can_decide"] for row in rows)
    content = response.content.decode()
    assert "300.00" in content and "600.00" in content and "18.40" in content
    assert warehouse_user.username in content
    assert response.context["stats"]["count"] == 3


def test_the_inbox_filters_by_kind_over_htmx(client, manager, warehouse_user, laptop, node):
    write_off(laptop, node, warehouse_user)
    write_off(laptop, node, warehouse_user, quantity=-2, reason="count_variance")
    client.force_login(manager)

    response = client.get(reverse("approval-inbox"), {"kind": "inventory_adjustment"}, **HTMX)

    assert response.content.decode().lstrip().startswith('<div id="approval-results"')
    assert "HX-Request" in response["Vary"]
    assert [row["approval"].kind for row in response.context["rows"]] == ["inventory_adjustment"]


def test_the_inbox_runs_the_same_queries_for_one_request_and_for_many(
    client, manager, warehouse_user, laptop, node, django_assert_num_queries
):
    write_off(laptop, node, warehouse_user)
    client.force_login(manager)
    url = reverse("approval-inbox")
    client.get(url)

    # session, user, roles, count, page (with requesters and subject
    # types), the write-off policy (asked once for all its rows), stats
    with django_assert_num_queries(7):
        client.get(url)
    for _ in range(12):
        write_off(laptop, node, warehouse_user)
    with django_assert_num_queries(7):
        client.get(url)


def test_a_manager_approves_a_write_off_and_the_stock_drops(
    client, manager, warehouse_user, laptop, node
):
    adjustment = write_off(laptop, node, warehouse_user, quantity=-3)
    approval = ApprovalRequest.objects.get()
    client.force_login(manager)

    response = client.post(
        reverse("approval-decide", args=[approval.pk]),
        {"decision": "approve", "note": "photos attached"},
        **HTMX,
    )

    assert response.status_code == 200
    assert "queuesChanged" in json.loads(response["HX-Trigger"])
    content = response.content.decode()
    assert content.lstrip().startswith(f'<tr id="approval-{approval.pk}" class="row-resolved"')
    assert "Approved" in content and "photos attached" in content
    approval.refresh_from_db()
    adjustment.refresh_from_db()
    assert (approval.state, approval.decided_by) == ("approved", manager)
    assert adjustment.state == "posted"
    assert on_hand(laptop, node) == 17


def test_rejecting_without_a_note_shows_the_error_in_the_row_and_changes_nothing(
    client, manager, warehouse_user, laptop, node
):
    write_off(laptop, node, warehouse_user)
    approval = ApprovalRequest.objects.get()
    client.force_login(manager)

    response = client.post(
        reverse("approval-decide", args=[approval.pk]), {"decision": "reject", "note": " "}, **HTMX
    )

    assert "HX-Trigger" not in response
    content = response.content.decode()
    assert "Say why the request is rejected." in content
    assert "Reject</button>" in content  # the buttons stay for a second try
    approval.refresh_from_db()
    assert approval.state == "pending"
    assert on_hand(laptop, node) == 20


def test_rejecting_with_a_note_closes_the_adjustment_and_keeps_the_stock(
    client, manager, warehouse_user, laptop, node
):
    adjustment = write_off(laptop, node, warehouse_user)
    approval = ApprovalRequest.objects.get()
    client.force_login(manager)

    client.post(
        reverse("approval-decide", args=[approval.pk]),
        {"decision": "reject", "note": "found it on the shelf"},
        **HTMX,
    )

    adjustment.refresh_from_db()
    assert adjustment.state == "rejected"
    assert on_hand(laptop, node) == 20


def test_the_requester_sees_their_request_without_buttons_and_cannot_decide_it(
    client, manager, other_manager, laptop, node
):
    write_off(laptop, node, manager)
    approval = ApprovalRequest.objects.get()
    client.force_login(manager)

    page = client.get(reverse("approval-inbox"))
    response = client.post(
        reverse("approval-decide", args=[approval.pk]), {"decision": "approve"}, **HTMX
    )

    [row] = page.context["rows"]
    assert (row["mine"], row["can_decide"]) == (True, False)
    assert "Approve</button>" not in page.content.decode()
    assert "Your request: another manager decides" in page.content.decode()
    assert response.status_code == 403
    client.force_login(other_manager)
    assert client.get(reverse("approval-inbox")).context["rows"][0]["can_decide"]


def test_warehouse_staff_see_only_their_own_requests_and_may_not_decide_write_offs(
    client, warehouse_user, manager, laptop, node
):
    write_off(laptop, node, warehouse_user)
    write_off(laptop, node, manager, quantity=-2)
    theirs = ApprovalRequest.objects.get(requested_by=manager)
    client.force_login(warehouse_user)

    page = client.get(reverse("approval-inbox"))
    response = client.post(
        reverse("approval-decide", args=[theirs.pk]), {"decision": "approve"}, **HTMX
    )

    assert [row["approval"].requested_by for row in page.context["rows"]] == [warehouse_user]
    assert "Approve</button>" not in page.content.decode()
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.state == "pending"
    assert on_hand(laptop, node) == 20


def test_a_request_decided_meanwhile_says_so_in_its_row(
    client, manager, other_manager, warehouse_user, laptop, node
):
    write_off(laptop, node, warehouse_user)
    approval = ApprovalRequest.objects.get()
    client.force_login(other_manager)
    client.post(reverse("approval-decide", args=[approval.pk]), {"decision": "approve"}, **HTMX)
    client.force_login(manager)

    response = client.post(
        reverse("approval-decide", args=[approval.pk]), {"decision": "approve"}, **HTMX
    )

    assert "This request is already approved." in response.content.decode()
    assert on_hand(laptop, node) == 19


def test_without_htmx_a_decision_redirects_to_the_inbox_with_a_message(
    client, manager, warehouse_user, laptop, node
):
    write_off(laptop, node, warehouse_user)
    approval = ApprovalRequest.objects.get()
    client.force_login(manager)

    response = client.post(
        reverse("approval-decide", args=[approval.pk]), {"decision": "approve"}, follow=True
    )

    assert response.redirect_chain == [(reverse("approval-inbox"), 302)]
    assert "approved" in response.content.decode()


def test_an_unknown_request_is_not_found(client, manager):
    client.force_login(manager)

    response = client.post(reverse("approval-decide", args=[999]), {"decision": "approve"})

    assert response.status_code == 404


def test_the_pending_count_reloads_with_the_inbox_filters(
    client, manager, warehouse_user, laptop, node
):
    write_off(laptop, node, warehouse_user)
    write_off(laptop, node, warehouse_user, quantity=-2, reason="count_variance")
    client.force_login(manager)

    response = client.get(reverse("approval-stats"), {"kind": "inventory_write_off"}, **HTMX)

    assert response.context["stats"]["count"] == 1
    assert 'hx-trigger="queuesChanged from:body"' in response.content.decode()


def test_the_inbox_asks_strangers_to_sign_in(client):
    response = client.get(reverse("approval-inbox"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_someone_without_any_role_sees_an_empty_inbox(client, manager, laptop, node):
    write_off(laptop, node, manager)
    client.force_login(UserFactory(username="no-role"))

    response = client.get(reverse("approval-inbox"))

    assert response.context["rows"] == []
    assert "You have no request waiting for approval." in response.content.decode()


def test_every_signed_in_person_finds_the_inbox_in_the_navigation(client, cs_user):
    client.force_login(cs_user)

    assert reverse("approval-inbox") in client.get(reverse("dashboard")).content.decode()
