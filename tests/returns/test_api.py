"""Returns API: RMAs, receipts, inspections, refunds and figures over HTTP."""

import pytest

from erp.models import ApprovalRequest
from inventory.models import StockLedgerEntry
from returns.models import Inspection, Refund, Rma
from tests.conftest import token_client
from tests.factories.returns import ShippedLine, shipped_order
from tests.returns.conftest import line_of, on_hand

pytestmark = pytest.mark.django_db

RMAS = "/api/v1/returns/rmas/"


def _errors(response):
    return {(e["field"], e["code"]) for e in response.json()["errors"]}


@pytest.fixture
def cs_api(cs_user):
    return token_client(cs_user)


@pytest.fixture
def dock_api(warehouse_user):
    return token_client(warehouse_user)


@pytest.fixture
def manager_api(manager):
    return token_client(manager)


def rma_body(order, sku, quantity=1, **extra):
    return {
        "channel": order.channel.code,
        "order_external_id": order.external_id,
        "lines": [
            {
                "external_line_id": line_of(order, sku).external_line_id,
                "quantity": quantity,
                "reason": "changed_mind",
            }
        ],
        **extra,
    }


def test_a_channel_creates_an_rma_and_reads_it_back(api, tee_order, tee, changed_mind):
    response = api.post(
        RMAS,
        rma_body(tee_order, tee, 2, external_reference="5318877221", return_label_reference="9202"),
        format="json",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["state"], body["source"], body["channel"], body["order_external_id"]) == (
        "authorized",
        "channel_api",
        "SHOP",
        tee_order.external_id,
    )
    assert [(line["sku"], line["quantity"], line["reason"]) for line in body["lines"]] == [
        ("TEE", 2, "changed_mind")
    ]
    detail = api.get(f"{RMAS}{body['id']}/").json()
    assert detail["number"] == body["number"] == Rma.objects.get().number
    listed = api.get(RMAS, {"channel": "SHOP", "state": "authorized", "sku": "TEE"}).json()
    assert [(row["number"], row["units"]) for row in listed["results"]] == [(body["number"], 2)]
    assert api.get(RMAS, {"state": "closed"}).json()["results"] == []


def test_an_idempotent_retry_returns_the_first_rma(api, tee_order, tee, changed_mind):
    headers = {"HTTP_IDEMPOTENCY_KEY": "rma-1"}
    first = api.post(RMAS, rma_body(tee_order, tee), format="json", **headers)
    again = api.post(RMAS, rma_body(tee_order, tee), format="json", **headers)

    assert first.status_code == again.status_code == 201
    assert again.json()["number"] == first.json()["number"] and Rma.objects.count() == 1


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"quantity": 4}, ("lines[0].quantity", "more_than_shipped")),
        ({"quantity": 0}, ("lines[0].quantity", "min_value")),
        ({"reason": "nope"}, ("lines[0].reason", "does_not_exist")),
        ({"external_line_id": "nope"}, ("lines[0].external_line_id", "not_on_order")),
        ({"colour": "red"}, ("lines[0].colour", "unknown_field")),
    ],
)
def test_bad_rmas_are_400_and_write_nothing(api, tee_order, tee, changed_mind, change, expected):
    body = rma_body(tee_order, tee)
    body["lines"][0].update(change)

    response = api.post(RMAS, body, format="json")

    assert response.status_code == 400
    assert expected in _errors(response)
    assert not Rma.objects.exists()


def test_a_return_outside_the_window_without_a_reason_is_400(
    api, shop, node, policy, tee, changed_mind
):
    late = shipped_order(shop, [ShippedLine(tee, 1)], location=node, shipped_days_ago=40)

    response = api.post(RMAS, rma_body(late, tee), format="json")

    assert response.status_code == 400
    assert _errors(response) == {("override_reason", "outside_window")}
    ok = api.post(RMAS, rma_body(late, tee, override_reason="carrier lost it"), format="json")
    assert ok.status_code == 201


def test_a_serial_never_shipped_on_the_order_is_400(api, phone_order, phone, changed_mind):
    body = rma_body(phone_order, phone)
    body["lines"][0]["serials"] = ["SN-404"]

    response = api.post(RMAS, body, format="json")

    assert response.status_code == 400
    assert _errors(response) == {("lines[0].serials", "serial_not_shipped")}


def test_an_unknown_order_is_404(api, shop, changed_mind):
    response = api.post(
        RMAS,
        {
            "channel": "SHOP",
            "order_external_id": "missing",
            "lines": [{"order_line_id": 1, "quantity": 1, "reason": "changed_mind"}],
        },
        format="json",
    )
    assert response.status_code == 404


def test_a_marketplace_refund_is_recorded_with_the_rma(api, tee_order, tee, changed_mind):
    response = api.post(
        RMAS,
        rma_body(
            tee_order,
            tee,
            source="marketplace_initiated",
            external_refund={"amount": "19.00", "reference": "R-77"},
        ),
        format="json",
    )

    assert response.status_code == 201, response.json()
    (refund,) = response.json()["refunds"]
    assert (refund["state"], refund["amount"], refund["external_reference"]) == (
        "posted_on_channel",
        "19.00",
        "R-77",
    )


@pytest.fixture
def rma(api, tee_order, tee, changed_mind):
    return Rma.objects.get(
        pk=api.post(RMAS, rma_body(tee_order, tee, 2), format="json").json()["id"]
    )


def test_the_dock_receives_and_inspects_over_the_api(dock_api, rma, tee, node):
    line_id = rma.lines.get().pk

    received = dock_api.post(
        f"{RMAS}{rma.pk}/receipts/",
        {"location": "RET-A", "lines": [{"rma_line_id": line_id, "quantity": 2}]},
        format="json",
    )

    assert received.status_code == 201, received.json()
    assert received.json()["state"] == "received"
    (item,) = received.json()["received_items"]
    assert (item["quantity"], item["units_inspected"], item["location"]) == (2, 0, "RET-A")
    assert on_hand(tee, node, "inspection") == 2

    inspected = dock_api.post(
        f"{RMAS}{rma.pk}/inspections/",
        {
            "results": [
                {
                    "received_item_id": item["id"],
                    "quantity": 1,
                    "grade": "new",
                    "disposition": "restock",
                },
                {
                    "received_item_id": item["id"],
                    "quantity": 1,
                    "grade": "damaged",
                    "disposition": "dispose",
                },
            ]
        },
        format="json",
    )

    assert inspected.status_code == 201, inspected.json()
    body = inspected.json()
    assert body["state"] == "inspected"
    assert [
        (i["disposition"], i["write_off"] and i["write_off"]["state"]) for i in body["inspections"]
    ] == [
        ("restock", None),
        ("dispose", "posted"),
    ]
    assert (on_hand(tee, node, "sellable"), on_hand(tee, node, "inspection")) == (1, 0)


def test_inspecting_a_unit_not_received_is_400_and_writes_nothing(dock_api, rma, node):
    response = dock_api.post(
        f"{RMAS}{rma.pk}/inspections/",
        {
            "results": [
                {"rma_line_id": rma.lines.get().pk, "grade": "new", "disposition": "restock"}
            ]
        },
        format="json",
    )

    assert response.status_code == 400
    assert _errors(response) == {("results[0].rma_line_id", "not_received")}
    assert not Inspection.objects.exists() and not StockLedgerEntry.objects.exists()


def test_customer_service_cannot_receive_over_the_api(cs_api, rma):
    response = cs_api.post(
        f"{RMAS}{rma.pk}/receipts/",
        {"location": "RET-A", "lines": [{"rma_line_id": rma.lines.get().pk, "quantity": 1}]},
        format="json",
    )
    assert response.status_code == 403


@pytest.fixture
def received_phone(api, dock_api, phone_order, phone, changed_mind):
    created = api.post(RMAS, rma_body(phone_order, phone), format="json").json()
    dock_api.post(
        f"{RMAS}{created['id']}/receipts/",
        {
            "location": "RET-A",
            "lines": [
                {"rma_line_id": created["lines"][0]["id"], "quantity": 1, "serials": ["SN-1"]}
            ],
        },
        format="json",
    )
    return Rma.objects.get(pk=created["id"])


def test_refunds_are_quoted_requested_and_approved_by_a_manager(
    cs_api, manager_api, received_phone, other_manager
):
    quote = cs_api.get(f"{RMAS}{received_phone.pk}/refund-quote/").json()
    assert (quote["amount"], quote["remaining_paid"], quote["capped"]) == (
        "400.00",
        "800.00",
        False,
    )

    requested = cs_api.post(
        f"{RMAS}{received_phone.pk}/refunds/", {"note": "dead pixel"}, format="json"
    )
    assert requested.status_code == 201, requested.json()
    refund = requested.json()
    assert (refund["state"], refund["amount"]) == ("pending_approval", "400.00")

    assert (
        cs_api.post(
            f"/api/v1/returns/refunds/{refund['id']}/approve/", {}, format="json"
        ).status_code
        == 403
    )
    approved = manager_api.post(
        f"/api/v1/returns/refunds/{refund['id']}/approve/", {"note": "ok"}, format="json"
    )
    assert approved.status_code == 200, approved.json()
    assert approved.json()["state"] == "posted"
    listed = cs_api.get("/api/v1/returns/refunds/", {"state": "posted"}).json()["results"]
    assert [row["number"] for row in listed] == [refund["number"]]


def test_approving_your_own_refund_is_403(manager_api, received_phone):
    refund = manager_api.post(f"{RMAS}{received_phone.pk}/refunds/", {}, format="json").json()

    response = manager_api.post(
        f"/api/v1/returns/refunds/{refund['id']}/approve/", {}, format="json"
    )

    assert response.status_code == 403
    assert _errors(response) == {(None, "own_request")}
    assert ApprovalRequest.objects.get().state == "pending"


def test_a_refund_above_what_was_paid_is_400(cs_api, received_phone):
    response = cs_api.post(
        f"{RMAS}{received_phone.pk}/refunds/", {"amount": "800.01"}, format="json"
    )

    assert response.status_code == 400
    assert _errors(response) == {("amount", "exceeds_paid")}
    assert not Refund.objects.exists()


def test_rejecting_a_refund_needs_a_note(cs_api, manager_api, received_phone):
    refund = cs_api.post(f"{RMAS}{received_phone.pk}/refunds/", {}, format="json").json()
    url = f"/api/v1/returns/refunds/{refund['id']}/reject/"

    assert manager_api.post(url, {}, format="json").status_code == 400
    rejected = manager_api.post(url, {"note": "used, not defective"}, format="json")
    assert rejected.json()["state"] == "rejected"


def test_closing_and_cancelling_over_the_api(cs_api, rma):
    closed = cs_api.post(f"{RMAS}{rma.pk}/close/", {}, format="json")
    assert closed.status_code == 400 and _errors(closed) == {("note", "required")}

    cancelled = cs_api.post(f"{RMAS}{rma.pk}/cancel/", {"reason": "opened twice"}, format="json")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"


def test_figures_and_reasons(cs_api, rma):
    figures = cs_api.get("/api/v1/returns/figures/", {"by": "channel"}).json()
    assert figures["rows"][0]["key"] == "SHOP" and figures["rows"][0]["return_rate"] == "0.6667"
    assert figures["cycle_time"] == {"count": 0, "average_hours": None, "longest_hours": None}
    assert cs_api.get("/api/v1/returns/figures/", {"by": "colour"}).status_code == 400

    reasons = cs_api.get("/api/v1/returns/reasons/", {"active": "true"}).json()
    assert "changed_mind" in {reason["code"] for reason in reasons}


def test_the_rma_list_takes_the_same_queries_for_one_rma_and_for_many(
    cs_api, api, tee_order, tee, changed_mind, django_assert_num_queries
):
    api.post(RMAS, rma_body(tee_order, tee), format="json")
    cs_api.get(RMAS)  # warm the token and permission caches

    with django_assert_num_queries(1):
        assert len(cs_api.get(RMAS).json()["results"]) == 1
    api.post(RMAS, rma_body(tee_order, tee), format="json")
    api.post(RMAS, rma_body(tee_order, tee), format="json")
    with django_assert_num_queries(1):
        assert len(cs_api.get(RMAS).json()["results"]) == 3


def test_the_rma_detail_takes_the_same_queries_for_one_unit_and_for_many(
    cs_api, dock_api, rma, django_assert_num_queries
):
    line_id = rma.lines.get().pk

    def one_more_unit_back_and_refunded():
        dock_api.post(
            f"{RMAS}{rma.pk}/receipts/",
            {"location": "RET-A", "lines": [{"rma_line_id": line_id, "quantity": 1}]},
            format="json",
        )
        dock_api.post(
            f"{RMAS}{rma.pk}/inspections/",
            {"results": [{"rma_line_id": line_id, "grade": "new", "disposition": "restock"}]},
            format="json",
        )
        cs_api.post(f"{RMAS}{rma.pk}/refunds/", {}, format="json")

    one_more_unit_back_and_refunded()
    cs_api.get(f"{RMAS}{rma.pk}/")
    # RMA, lines, received items, inspections, refunds, refund lines (token cached)
    with django_assert_num_queries(6):
        cs_api.get(f"{RMAS}{rma.pk}/")
    one_more_unit_back_and_refunded()
    with django_assert_num_queries(6):
        detail = cs_api.get(f"{RMAS}{rma.pk}/").json()
    assert (len(detail["received_items"]), len(detail["inspections"]), len(detail["refunds"])) == (
        2,
        2,
        2,
    )


def test_the_openapi_schema_describes_the_returns_api(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    schema = response.json()
    assert {
        "/api/v1/returns/rmas/",
        "/api/v1/returns/rmas/{id}/receipts/",
        "/api/v1/returns/rmas/{id}/inspections/",
        "/api/v1/returns/rmas/{id}/refunds/",
        "/api/v1/returns/refunds/{id}/approve/",
        "/api/v1/returns/figures/",
    } <= set(schema["paths"])
    assert {"RmaStateEnum", "RefundStateEnum"} <= set(schema["components"]["schemas"])
