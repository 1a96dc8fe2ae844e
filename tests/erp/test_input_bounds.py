"""Input the database cannot hold is refused at the edge with a field error, never a 500:
timestamps with offsets beyond ±15:59, NUL characters, non-numeric ids in paths, text
longer than its column, integers beyond their column. One test per class, through HTTP,
plus the structural checks that keep every filter, form and serializer on the shared base."""

import inspect
from datetime import UTC, datetime

import pytest
from django import forms
from django.urls import get_resolver, reverse

from erp.api.filters import FilterSet
from erp.forms import BoundedFieldsMixin
from erp.models import Channel
from inventory.models import InventoryAdjustment, StockBalance, StockLedgerEntry, Transfer
from inventory.services.movements import receive_stock
from inventory.services.transfers import create_transfer
from orders.models import IngestionError
from tests.conftest import token_client
from tests.factories import (
    ChannelFactory,
    LocationFactory,
    OrderFactory,
    SkuFactory,
)

pytestmark = pytest.mark.django_db

BEYOND_POSTGRES_OFFSET = "2026-01-01T00:00:00+16:00"


def _errors(response) -> set[tuple[str | None, str]]:
    return {(error["field"], error["code"]) for error in response.json()["errors"]}


# --- timestamps --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v1/orders/", "placed_after"),
        ("/api/v1/orders/", "placed_before"),
        ("/api/v1/returns/rmas/", "authorized_after"),
        ("/api/v1/shipments/", "shipped_after"),
        ("/api/v1/stock/ledger/", "occurred_after"),
        ("/api/v1/skus/", "updated_since"),
        ("/api/v1/listings/", "updated_since"),
        ("/api/v1/returns/figures/", "since"),
        ("/api/v1/channels/WEB/availability/", "changed_since"),
    ],
)
def test_a_timestamp_offset_postgres_cannot_store_is_a_400_on_that_filter(api, path, parameter):
    ChannelFactory(code="WEB")

    response = api.get(path, {parameter: BEYOND_POSTGRES_OFFSET})

    assert response.status_code == 400, response.content
    assert _errors(response) == {(parameter, "invalid_offset")}


def test_a_timestamp_filter_compares_the_same_instant_whatever_its_offset(api):
    order = OrderFactory(placed_at=datetime(2026, 1, 1, 0, 0, tzinfo=UTC))

    # 14:00 at +15:00 is 23:00 UTC the day before: the order was placed after it.
    found = api.get("/api/v1/orders/", {"placed_after": "2026-01-01T14:00:00+15:00"})
    later = api.get("/api/v1/orders/", {"placed_after": "2026-01-01T16:00:00+15:00"})

    assert [row["id"] for row in found.json()["results"]] == [order.pk]
    assert later.json()["results"] == []


def test_a_timestamp_in_a_body_with_an_offset_postgres_cannot_store_is_a_400(api):
    response = api.post(
        "/api/v1/returns/rmas/",
        {
            "order_id": 1,
            "expected_by": BEYOND_POSTGRES_OFFSET,
            "lines": [{"order_line_id": 1, "quantity": 1, "reason": "defective"}],
        },
        format="json",
    )

    assert response.status_code == 400
    assert ("expected_by", "invalid_offset") in _errors(response)


# --- NUL characters ----------------------------------------------------------------------------


def test_a_nul_in_a_body_field_is_a_400_naming_the_field_and_changes_nothing(manager):
    LocationFactory(code="WH-A")

    response = token_client(manager).post(
        "/api/v1/channels/",
        {"code": "NEW", "name": "New", "kind": "manual", "eligible_locations": ["\u0000"]},
        format="json",
    )

    assert response.status_code == 400
    assert _errors(response) == {("eligible_locations[0]", "null_characters_not_allowed")}
    assert not Channel.objects.filter(code="NEW").exists()


def test_a_nul_in_a_form_field_name_is_a_400_that_the_idempotency_record_can_keep(manager):
    response = token_client(manager).post(
        "/api/v1/stock/transfers/",
        {"a\u0000b": "x"},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="nul-name",
    )

    assert response.status_code == 400
    assert _errors(response) == {("a\\u0000b", "null_characters_not_allowed")}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/skus/?q=%00",
        "/api/v1/orders/?channel=a%00b",
        "/api/v1/returns/figures/?channel=%00",
    ],
)
def test_a_nul_in_a_query_parameter_is_a_400_on_that_parameter(api, path):
    response = api.get(path)

    assert response.status_code == 400
    assert {field for field, _ in _errors(response)} == {path.split("?")[1].split("=")[0]}


def test_a_nul_in_a_path_is_a_400(api):
    response = api.get("/api/v1/skus/A%00B/")

    assert response.status_code == 400
    assert _errors(response) == {("path", "null_characters_not_allowed")}


def test_a_nul_in_a_back_office_form_is_a_400(client, warehouse_user):
    client.force_login(warehouse_user)

    response = client.post(reverse("stock-receive"), {"sku": "\u0000", "quantity": "1"})

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        (b'{"id": 1, "email": "a\\u0000b"}', "email", "null_characters_not_allowed"),
        (b'{"id": 1}\x00', None, "parse_error"),
    ],
)
def test_a_nul_in_an_order_payload_is_refused_and_kept_for_customer_service(api, body, field, code):
    ChannelFactory(code="SHOP", kind="shopify")

    response = api.post("/api/v1/channels/SHOP/orders/", body, content_type="application/json")

    assert response.status_code == 400
    assert _errors(response) == {(field, code)}
    kept = IngestionError.objects.get()
    assert (kept.code, "\x00" in kept.raw_body) == (code, False)


# --- ids in paths ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/returns/rmas/abc/close/",
        "/api/v1/returns/rmas/abc/",
        "/api/v1/stock/transfers/1.5/close/",
        "/api/v1/orders/-1/",
        "/api/v1/returns/rmas/99999999999999999999/",
        "/api/v1/returns/rmas/9999999999999999999/close/",
    ],
)
def test_an_id_in_a_path_that_is_no_record_is_a_json_404(api, path):
    response = api.post(path, {"note": "x"}, format="json") if "close" in path else api.get(path)

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_a_cursor_the_list_did_not_give_out_is_a_400_on_cursor(api):
    forged = "cD1hYmM="  # base64 of p=abc: a position that is no id

    for cursor in ["not-a-cursor", forged]:
        response = api.get("/api/v1/orders/", {"cursor": cursor})

        assert response.status_code == 400
        assert _errors(response) == {("cursor", "invalid")}


def test_a_huge_page_size_is_capped(api):
    OrderFactory()

    response = api.get("/api/v1/orders/", {"page_size": "99999999999999999999"})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


# --- text longer than its column ---------------------------------------------------------------


@pytest.fixture
def shipped_transfer(manager):
    sku = SkuFactory(code="TEE")
    source, target = LocationFactory(code="WH-A"), LocationFactory(code="WH-B")
    receive_stock(sku=sku, location=source, quantity=5, actor=manager)
    return create_transfer(
        from_location=source,
        to_location=target,
        lines=[{"sku": sku, "quantity": 2}],
        actor=manager,
    )


def test_a_transfer_close_note_longer_than_the_change_reason_is_refused_in_the_api(
    manager, shipped_transfer
):
    response = token_client(manager).post(
        f"/api/v1/stock/transfers/{shipped_transfer.pk}/close/", {"note": "x" * 101}, format="json"
    )

    assert response.status_code == 400
    assert _errors(response) == {("note", "max_length")}
    shipped_transfer.refresh_from_db()
    assert shipped_transfer.closed_at is None


def test_a_transfer_close_note_longer_than_the_change_reason_is_refused_in_the_back_office(
    client, manager, shipped_transfer
):
    client.force_login(manager)

    response = client.post(
        reverse("transfer-close", args=[shipped_transfer.pk]), {"note": "x" * 101}
    )

    assert response.status_code == 200
    assert response.context["close_form"].errors["note"] == [
        "Ensure this value has at most 100 characters (it has 101)."
    ]
    shipped_transfer.refresh_from_db()
    assert shipped_transfer.state == Transfer.State.IN_TRANSIT


def test_a_rejection_note_longer_than_the_change_reason_is_refused_by_the_approvals(
    manager, other_manager
):
    sku = SkuFactory(code="DEAR", unit_cost="400.00")
    node = LocationFactory(code="WH-A")
    receive_stock(sku=sku, location=node, quantity=3, actor=manager)
    created = token_client(manager).post(
        "/api/v1/stock/adjustments/",
        {"sku": "DEAR", "location": "WH-A", "quantity": -1, "reason_code": "damage"},
        format="json",
    )
    adjustment_id = created.json()["id"]

    response = token_client(other_manager).post(
        f"/api/v1/stock/adjustments/{adjustment_id}/reject/", {"note": "n" * 101}, format="json"
    )

    assert response.status_code == 400
    assert InventoryAdjustment.objects.get(pk=adjustment_id).state == created.json()["state"]


def test_a_serial_longer_than_its_column_is_refused_by_the_back_office_receipt(
    client, warehouse_user
):
    sku = SkuFactory(code="PHONE", serial_tracked=True)
    node = LocationFactory(code="WH-A")
    client.force_login(warehouse_user)

    response = client.post(
        reverse("stock-receive"),
        {
            "sku": sku.code,
            "location": node.code,
            "status": "sellable",
            "quantity": "1",
            "serials": "S" * 129,
        },
    )

    assert response.status_code == 200
    assert "serials" in response.context["form"].errors
    assert not StockLedgerEntry.objects.exists()


# --- integers beyond their column ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/api/v1/stock/receipts/",
            {"sku": "TEE", "location": "WH-A", "quantity": 99999999999},
            "quantity",
        ),
        (
            "/api/v1/stock/adjustments/",
            {"sku": "TEE", "location": "WH-A", "quantity": -99999999999, "reason_code": "damage"},
            "quantity",
        ),
        (
            "/api/v1/stock/reservations/",
            {
                "sku": "TEE",
                "location": "WH-A",
                "channel": "WEB",
                "quantity": 2**31,
                "line_reference": "L1",
            },
            "quantity",
        ),
        (
            "/api/v1/returns/rmas/",
            {
                "order_id": 2**63,
                "lines": [{"order_line_id": 1, "quantity": 1, "reason": "defective"}],
            },
            "order_id",
        ),
    ],
)
def test_an_integer_beyond_its_column_is_a_400_in_the_api(manager, path, body, field):
    SkuFactory(code="TEE")
    ChannelFactory(code="WEB", eligible_locations=[LocationFactory(code="WH-A")])

    response = token_client(manager).post(path, body, format="json")

    assert response.status_code == 400, response.content
    assert field in {name for name, _ in _errors(response)}
    assert not StockLedgerEntry.objects.exists()


def test_a_decimal_beyond_its_digits_is_a_400_in_the_api(manager):
    response = token_client(manager).post(
        "/api/v1/skus/", {"code": "BIG", "name": "Big", "unit_cost": "1e20"}, format="json"
    )

    assert response.status_code == 400
    assert {field for field, _ in _errors(response)} == {"unit_cost"}


@pytest.mark.parametrize("quantity", ["99999999999", "-99999999999"])
def test_an_integer_beyond_its_column_is_an_inline_error_in_the_back_office(
    client, warehouse_user, quantity
):
    sku = SkuFactory(code="TEE")
    node = LocationFactory(code="WH-A")
    client.force_login(warehouse_user)

    response = client.post(
        reverse("stock-receive"),
        {"sku": sku.code, "location": node.code, "status": "sellable", "quantity": quantity},
    )

    assert response.status_code == 200
    assert "quantity" in response.context["form"].errors
    assert not StockLedgerEntry.objects.exists()


def test_an_adjustment_beyond_the_column_is_an_inline_error_in_the_back_office(client, manager):
    sku = SkuFactory(code="TEE")
    node = LocationFactory(code="WH-A")
    client.force_login(manager)

    response = client.post(
        reverse("adjustment-create"),
        {
            "sku": sku.code,
            "location": node.code,
            "status": "sellable",
            "quantity": "-99999999999",
            "reason_code": "damage",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["quantity"] == [
        "Ensure this value is greater than or equal to -2147483648."
    ]
    assert not InventoryAdjustment.objects.exists()


def test_a_balance_never_grows_beyond_its_column(manager):
    sku, node = SkuFactory(code="TEE"), LocationFactory(code="WH-A")
    receive_stock(sku=sku, location=node, quantity=2**31 - 1, actor=manager)

    response = token_client(manager).post(
        "/api/v1/stock/receipts/",
        {"sku": "TEE", "location": "WH-A", "quantity": 1},
        format="json",
    )

    assert response.status_code == 400
    assert _errors(response) == {("quantity", "max_value")}
    assert StockBalance.objects.get(sku=sku).on_hand == 2**31 - 1


# --- every filter, form and input serializer stands on the shared base ---------------------------


def _api_views():
    for pattern in get_resolver().url_patterns:
        yield from _views_under(pattern)


def _views_under(pattern):
    if hasattr(pattern, "url_patterns"):
        for inner in pattern.url_patterns:
            yield from _views_under(inner)
    else:
        view = getattr(pattern.callback, "cls", None)
        if view is not None:
            yield view


def test_every_api_filterset_is_built_on_the_shared_filterset():
    filtersets = {
        view.filterset_class for view in _api_views() if getattr(view, "filterset_class", None)
    }

    assert filtersets
    assert [f for f in filtersets if not issubclass(f, FilterSet)] == []


def test_every_back_office_form_is_built_on_the_bounded_base():
    import erp.forms
    import fulfillment.forms
    import inventory.forms
    import orders.forms
    import returns.forms

    unbounded = [
        cls
        for module in (erp.forms, fulfillment.forms, inventory.forms, orders.forms, returns.forms)
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, forms.BaseForm)
        and cls.__module__ == module.__name__
        and not issubclass(cls, BoundedFieldsMixin)
    ]

    assert unbounded == []


def test_every_integer_the_schema_accepts_is_bounded(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    unbounded = [
        f"{name}.{field}"
        for name, component in schema["components"]["schemas"].items()
        if name.endswith("Request")
        for field, prop in component.get("properties", {}).items()
        for item in [prop, prop.get("items", {})]
        if item.get("type") == "integer" and ("minimum" not in item or "maximum" not in item)
    ]

    assert unbounded == []


def test_an_adjustment_worth_more_than_its_value_column_is_refused(manager):
    SkuFactory(code="GOLD", unit_cost="99999999.0000")
    LocationFactory(code="WH-A")

    response = token_client(manager).post(
        "/api/v1/stock/adjustments/",
        {"sku": "GOLD", "location": "WH-A", "quantity": 2**31 - 1, "reason_code": "found"},
        format="json",
    )

    assert response.status_code == 400, response.content
    assert _errors(response) == {("quantity", "max_value")}
    assert not InventoryAdjustment.objects.exists()
