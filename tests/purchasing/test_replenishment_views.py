"""The planner's review queue and the settings page, through HTTP."""

import pytest
from django.urls import reverse

from purchasing.models import Proposal, PurchaseOrder, ReplenishmentSettings
from tests.factories import SkuFactory
from tests.factories.purchasing import SupplierFactory, SupplierItemFactory
from tests.purchasing.planning import run, ship_weekly


def _proposals(planner, node, suppliers: int):
    for n in range(suppliers):
        vendor = SupplierFactory(code=f"V{n}")
        for m in range(2):
            sku = SkuFactory(code=f"S{n}-{m}")
            SupplierItemFactory(supplier=vendor, sku=sku, preferred=True, moq=6, pack_multiple=6)
            ship_weekly(sku, node, [7, 7, 7, 7], planner)
    return run(planner)


def test_the_queue_groups_by_supplier_and_queries_do_not_grow(
    client, planner, node, django_assert_max_num_queries
):
    client.force_login(planner)
    _proposals(planner, node, 1)
    url = reverse("purchasing:proposal-queue")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    _proposals(planner, node, 4)
    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get(url)
    html = response.content.decode()
    for n in range(4):
        assert f'data-supplier="V{n}"' in html
    assert "reorder point" in html and "Accept → draft PO" in html


def test_a_quantity_off_the_pack_is_refused_inline(client, planner, node):
    client.force_login(planner)
    _proposals(planner, node, 1)
    line = Proposal.objects.get(state="open").lines.first()
    response = client.post(
        reverse("purchasing:proposal-line-quantity", args=[line.pk]), {"quantity": "7"}
    )
    assert response.status_code == 400
    assert "packs of 6" in response.content.decode()
    line.refresh_from_db()
    assert line.quantity == line.suggested_quantity
    response = client.post(
        reverse("purchasing:proposal-line-quantity", args=[line.pk]), {"quantity": "abc"}
    )
    assert response.status_code == 400


def test_accepting_in_the_queue_makes_a_draft_po(client, planner, node):
    client.force_login(planner)
    _proposals(planner, node, 1)
    proposal = Proposal.objects.get(state="open")
    response = client.post(reverse("purchasing:proposal-accept", args=[proposal.pk]))
    assert response.status_code == 302
    po = PurchaseOrder.objects.get()
    assert po.state == "draft" and po.lines.count() == 2
    assert "accepted" in client.get(response.url).content.decode()


def test_run_now_and_settings_are_for_planners_and_managers(client, planner, manager, node):
    client.force_login(planner)
    assert client.post(reverse("purchasing:replenishment-run")).status_code == 302
    url = reverse("purchasing:replenishment-settings")
    assert client.get(url).status_code == 200
    assert client.post(url, {"window_days": "56"}).status_code == 403
    client.force_login(manager)
    bad = client.post(
        url,
        {
            "window_days": "3",
            "service_level_z": "1.65",
            "review_period_days": "7",
            "recent_weight": "2",
        },
    )
    assert bad.status_code == 400
    ok = client.post(
        url,
        {
            "window_days": "56",
            "service_level_z": "2.33",
            "review_period_days": "14",
            "recent_weight": "1.5",
        },
    )
    assert ok.status_code == 302
    current = ReplenishmentSettings.current()
    assert (current.window_days, str(current.service_level_z)) == (56, "2.33")
    assert current.history.first().history_user == manager


@pytest.fixture
def warehouse_clerk(role_groups):
    from erp import roles
    from tests.factories import UserFactory

    return UserFactory(username="wh-clerk", roles=[roles.WAREHOUSE])


def test_warehouse_staff_cannot_accept(client, warehouse_clerk, planner, node):
    _proposals(planner, node, 1)
    client.force_login(warehouse_clerk)
    proposal = Proposal.objects.get(state="open")
    response = client.post(reverse("purchasing:proposal-accept", args=[proposal.pk]))
    assert response.status_code == 403
    assert not PurchaseOrder.objects.exists()
