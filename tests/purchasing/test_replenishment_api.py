"""Proposals through the API: list with their explanation, edit, accept into a draft PO."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from erp import roles
from purchasing.models import Proposal, PurchaseOrder
from tests.conftest import token_client
from tests.factories import SkuFactory, UserFactory
from tests.factories.purchasing import SupplierFactory, SupplierItemFactory
from tests.purchasing.planning import run, ship_weekly

URL = "/api/v1/purchasing/proposals/"


def _seed(planner, node, suppliers=1):
    for n in range(suppliers):
        vendor = SupplierFactory(code=f"API{n}")
        for m in range(2):
            sku = SkuFactory(code=f"A{n}-{m}")
            SupplierItemFactory(supplier=vendor, sku=sku, preferred=True, moq=6, pack_multiple=6)
            ship_weekly(sku, node, [7, 7, 7, 7], planner)
    return run(planner)


def test_list_explains_each_line_and_queries_do_not_grow(planner, node):
    api = token_client(planner)
    _seed(planner, node)
    api.get(URL)  # token and permissions looked up once
    with CaptureQueriesContext(connection) as one:
        response = api.get(URL, {"state": "open"})
    assert response.status_code == 200
    proposal = response.json()["results"][0]
    line = proposal["lines"][0]
    assert proposal["supplier"] == "API0" and proposal["destination"] == "WH-PLAN"
    assert line["velocity"] == "1.000" and line["reorder_point"] == 10  # 1/day × 10-day lead
    assert line["quantity"] == 18 and "packs of 6" in line["reason"]  # 17 → 18
    Proposal.objects.all().delete()
    _seed(planner, node, suppliers=4)
    with CaptureQueriesContext(connection) as four:
        response = api.get(URL, {"state": "open"})
    assert len(response.json()["results"]) == 4
    assert len(four.captured_queries) == len(one.captured_queries)


def test_edit_drop_and_accept_into_a_draft_po(planner, node):
    api = token_client(planner)
    _seed(planner, node)
    proposal = Proposal.objects.get(state="open")
    first, second = proposal.lines.order_by("sku__code")
    refused = api.post(f"{URL}{proposal.pk}/lines/", {"line": first.pk, "quantity": 7})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "quantity"
    assert (
        api.post(f"{URL}{proposal.pk}/lines/", {"line": first.pk, "quantity": 24}).status_code
        == 200
    )
    assert (
        api.post(f"{URL}{proposal.pk}/lines/", {"line": second.pk, "drop": True}).status_code == 200
    )
    accepted = api.post(f"{URL}{proposal.pk}/accept/", {}, headers={"Idempotency-Key": "k-1"})
    assert accepted.status_code == 200
    body = accepted.json()
    assert body["state"] == "draft" and [
        (line["sku"], line["quantity_ordered"]) for line in body["lines"]
    ] == [(first.sku.code, 24)]
    again = api.post(f"{URL}{proposal.pk}/accept/", {}, headers={"Idempotency-Key": "k-1"})
    assert again.json() == body and PurchaseOrder.objects.count() == 1
    conflict = api.post(f"{URL}{proposal.pk}/accept/", {})
    assert conflict.status_code == 409


def test_run_now_and_who_may(planner, node):
    _seed(planner, node)
    created = token_client(planner).post(f"{URL}run/", {})
    assert created.status_code == 201 and created.json()["lines_proposed"] == 2
    clerk = token_client(UserFactory(username="api-clerk", roles=[roles.WAREHOUSE]))
    proposal = Proposal.objects.get(state="open")
    assert clerk.post(f"{URL}{proposal.pk}/accept/", {}).status_code == 403
    assert not PurchaseOrder.objects.exists()
