from decimal import Decimal

import pytest

from inventory.models import InventoryAdjustment, StockLedgerEntry
from tests.conftest import token_client
from tests.factories import AllocationRuleFactory, ChannelListingFactory, SkuFactory
from tests.inventory.conftest import balance

pytestmark = pytest.mark.django_db


def _errors(response):
    return {(e["field"], e["code"]) for e in response.json()["errors"]}


def test_receive_over_the_api_and_read_balances_and_ledger(api, sku, node):
    response = api.post(
        "/api/v1/stock/receipts/",
        {"sku": "TEE", "location": "WH-A", "quantity": 8, "reference": "ASN-9"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["entries"][0]["quantity"] == 8
    balances = api.get("/api/v1/stock/balances/", {"sku": "TEE"}).json()["results"]
    assert [(b["location"], b["status"], b["on_hand"]) for b in balances] == [
        ("WH-A", "sellable", 8)
    ]
    ledger = api.get("/api/v1/stock/ledger/", {"kind": "receipt", "location": "WH-A"}).json()[
        "results"
    ]
    assert ledger[0]["reference"] == "ASN-9" and ledger[0]["actor"] == "integration-user"


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"sku": "TEE", "location": "WH-A", "quantity": 0}, ("quantity", "min_value")),
        ({"sku": "TEE", "location": "WH-A", "quantity": -3}, ("quantity", "min_value")),
        ({"sku": "NOPE", "location": "WH-A", "quantity": 1}, ("sku", "does_not_exist")),
        ({"sku": "TEE", "location": "NOWHERE", "quantity": 1}, ("location", "does_not_exist")),
        (
            {"sku": "TEE", "location": "WH-A", "quantity": 1, "colour": "red"},
            ("colour", "unknown_field"),
        ),
    ],
)
def test_bad_receipts_are_400_and_write_nothing(api, sku, node, body, expected):
    response = api.post("/api/v1/stock/receipts/", body, format="json")

    assert response.status_code == 400
    assert expected in _errors(response)
    assert not StockLedgerEntry.objects.exists()


def test_moving_more_than_on_hand_is_409(api, sku, node, stocked):
    stocked(sku, node, 2)

    response = api.post(
        "/api/v1/stock/status-changes/",
        {
            "sku": "TEE",
            "location": "WH-A",
            "quantity": 3,
            "from_status": "sellable",
            "to_status": "damaged",
            "reason": "dropped",
        },
        format="json",
    )

    assert response.status_code == 409
    assert ("quantity", "insufficient_stock") in _errors(response)
    assert StockLedgerEntry.objects.count() == 1


def test_transfer_then_partial_receipt(api, sku, node, second_node, stocked):
    stocked(sku, node, 5)

    created = api.post(
        "/api/v1/stock/transfers/",
        {"from_location": "WH-A", "to_location": "WH-B", "lines": [{"sku": "TEE", "quantity": 4}]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    transfer = created.json()
    line_id = transfer["lines"][0]["id"]

    received = api.post(
        f"/api/v1/stock/transfers/{transfer['id']}/receive/",
        {"lines": [{"line": line_id, "quantity": 3}]},
        format="json",
    )

    assert received.status_code == 200
    assert received.json()["state"] == "partially_received"
    assert received.json()["lines"][0]["outstanding"] == 1
    assert balance(sku, second_node).on_hand == 3


def test_adjustment_approval_by_another_manager(api, node, manager, other_manager, stocked):
    dear = SkuFactory(code="DEAR", unit_cost=Decimal("400.00"))
    stocked(dear, node, 3)
    requester = token_client(manager)

    created = requester.post(
        "/api/v1/stock/adjustments/",
        {"sku": "DEAR", "location": "WH-A", "quantity": -1, "reason_code": "damage"},
        format="json",
    )
    assert created.status_code == 201 and created.json()["state"] == "pending_approval"
    adjustment_id = created.json()["id"]

    own = requester.post(f"/api/v1/stock/adjustments/{adjustment_id}/approve/", {}, format="json")
    assert own.status_code == 403
    assert own.json()["errors"][0]["code"] == "own_request"

    approved = token_client(other_manager).post(
        f"/api/v1/stock/adjustments/{adjustment_id}/approve/",
        {"note": "seen the photo"},
        format="json",
    )
    assert approved.status_code == 200 and approved.json()["state"] == "posted"
    assert balance(dear, node).on_hand == 2


def test_a_warehouse_user_approving_a_write_off_is_403(node, manager, warehouse_user, stocked):
    dear = SkuFactory(code="DEAR", unit_cost=Decimal("400.00"))
    stocked(dear, node, 3)
    created = token_client(manager).post(
        "/api/v1/stock/adjustments/",
        {"sku": "DEAR", "location": "WH-A", "quantity": -1, "reason_code": "damage"},
        format="json",
    )

    response = token_client(warehouse_user).post(
        f"/api/v1/stock/adjustments/{created.json()['id']}/approve/", {}, format="json"
    )

    assert response.status_code == 403
    assert InventoryAdjustment.objects.get().state == "pending_approval"


def test_reserving_more_than_reservable_is_409(api, sku, node, channel, stocked):
    stocked(sku, node, 2)

    response = api.post(
        "/api/v1/stock/reservations/",
        {
            "sku": "TEE",
            "location": "WH-A",
            "channel": "WEB",
            "quantity": 3,
            "line_reference": "O-1/1",
        },
        format="json",
    )

    assert response.status_code == 409
    assert balance(sku, node).reserved == 0


def test_channel_availability_full_and_changed_since(api, sku, node, channel, stocked):
    ChannelListingFactory(channel=channel, sku=sku, channel_sku="web-tee")
    AllocationRuleFactory(channel=channel, buffer=1)
    stocked(sku, node, 6)

    full = api.get("/api/v1/channels/WEB/availability/").json()["results"]
    assert full == [
        {
            "sku": "TEE",
            "channel_sku": "web-tee",
            "available": 5,
            "pool": 6,
            "reservable": 6,
            "rule": "channel",
        }
    ]

    from inventory.services.availability import publish_availability

    publish_availability()
    changed = api.get(
        "/api/v1/channels/WEB/availability/", {"changed_since": "2000-01-01T00:00:00Z"}
    ).json()
    assert [(row["channel_sku"], row["available"]) for row in changed["results"]] == [
        ("web-tee", 5)
    ]
    bad = api.get("/api/v1/channels/WEB/availability/", {"changed_since": "yesterday"})
    assert bad.status_code == 400


def test_allocation_rules_are_validated_and_unique(api, channel):
    ok = api.post(
        "/api/v1/allocation-rules/", {"channel": "WEB", "buffer": 2, "cap": "0.9"}, format="json"
    )
    again = api.post("/api/v1/allocation-rules/", {"channel": "WEB", "buffer": 1}, format="json")
    bad_cap = api.post(
        "/api/v1/allocation-rules/", {"channel": "WEB", "sku": None, "cap": "1.5"}, format="json"
    )

    assert ok.status_code == 201, ok.json()
    assert again.status_code == 400 and ("sku", "unique") in _errors(again)
    assert bad_cap.status_code == 400


@pytest.mark.parametrize("rows", [1, 30])
def test_ledger_list_costs_the_same_queries_for_one_row_or_many(
    api, node, manager, rows, django_assert_num_queries
):
    from inventory.services.movements import receive_stock

    for n in range(rows):
        receive_stock(sku=SkuFactory(code=f"Q{n}"), location=node, quantity=1, actor=manager)

    with django_assert_num_queries(4):
        response = api.get("/api/v1/stock/ledger/")

    assert len(response.json()["results"]) == rows


def test_a_token_without_inventory_roles_cannot_post_movements(db, sku, node):
    from tests.factories import UserFactory

    response = token_client(UserFactory()).post(
        "/api/v1/stock/receipts/", {"sku": "TEE", "location": "WH-A", "quantity": 1}, format="json"
    )

    assert response.status_code == 403


def test_customer_service_can_read_but_not_move_stock(cs_user, sku, node):
    client = token_client(cs_user)

    assert client.get("/api/v1/stock/balances/").status_code == 200
    assert (
        client.post(
            "/api/v1/stock/receipts/",
            {"sku": "TEE", "location": "WH-A", "quantity": 1},
            format="json",
        ).status_code
        == 403
    )


def test_unknown_channel_availability_is_404(api):
    assert api.get("/api/v1/channels/NOPE/availability/").status_code == 404
