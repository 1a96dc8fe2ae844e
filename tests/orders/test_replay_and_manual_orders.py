"""Refused payloads replayed into the order they should have been (once), and orders
customer service keys in (phone, B2B, replacement) through the same ingestion."""

import json

import pytest
from django.urls import reverse

from erp.errors import Conflict, ValidationFailed
from orders.models import IngestionError, Order, OrderOrigin
from orders.services.ingestion_errors import replay_ingestion_error
from orders.services.manual_orders import ManualLine, create_manual_order
from tests.conftest import token_client
from tests.factories import ChannelFactory, ChannelListingFactory, SkuFactory

pytestmark = pytest.mark.django_db

ADDRESS = {
    "name": "Ada Buyer",
    "line1": "1 Main St",
    "city": "Chicago",
    "region": "IL",
    "postal_code": "60601",
    "country": "US",
}


@pytest.fixture
def b2b(east, rates, stock):
    channel = ChannelFactory(code="B2B", kind="b2b", currency="USD", eligible_locations=[east])
    for code in ("TEE-1", "MUG-1"):
        sku = SkuFactory(code=f"OUR-{code}")
        ChannelListingFactory(channel=channel, sku=sku, channel_sku=code)
        stock(sku, east, 10)
    return channel


@pytest.fixture
def phone_channel(east, b2b):
    channel = ChannelFactory(code="PHONE", kind="manual", currency="USD", eligible_locations=[east])
    for listing in b2b.listings.select_related("sku"):
        ChannelListingFactory(channel=channel, sku=listing.sku, channel_sku=listing.sku.code)
    return channel


def payload(external_id="PO-1", **changes) -> dict:
    body = {
        "external_id": external_id,
        "placed_at": "2026-11-20T09:30:00Z",
        "currency": "USD",
        "payment_status": "captured",
        "ship_to": ADDRESS,
        "lines": [{"sku": "TEE-1", "quantity": 2, "unit_price": "10.00"}],
    }
    body.update(changes)
    return body


def refused(api, body) -> IngestionError:
    response = api.post(
        "/api/v1/channels/B2B/orders/", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400, response.json()
    return IngestionError.objects.latest("pk")


# --- replay -------------------------------------------------------------------------------


def test_a_corrected_payload_replays_into_its_order_once(api, b2b, cs_user):
    error = refused(api, payload(lines=[{"sku": "TEE-1", "quantity": 0, "unit_price": "10.00"}]))

    with pytest.raises(ValidationFailed):  # as received it is still refused
        replay_ingestion_error(error_id=error.pk, actor=cs_user)
    assert not Order.objects.exists()

    result = replay_ingestion_error(error_id=error.pk, actor=cs_user, body=json.dumps(payload()))

    order = result.order
    assert result.outcome == "created" and order.state == "released"
    assert (order.origin, order.entered_by) == (OrderOrigin.REPLAY, cs_user)
    error.refresh_from_db()
    assert error.resolved_at and error.replayed_by == cs_user and error.order == order
    with pytest.raises(Conflict):
        replay_ingestion_error(error_id=error.pk, actor=cs_user, body=json.dumps(payload()))
    assert Order.objects.count() == 1


def test_replaying_after_the_channel_was_fixed_needs_no_edit(api, b2b, cs_user):
    b2b.currency = "EUR"
    b2b.save()
    error = refused(api, payload())  # the channel was set up in the wrong currency
    b2b.currency = "USD"
    b2b.save()  # saving a channel bumps the cached configuration

    result = replay_ingestion_error(error_id=error.pk, actor=cs_user)

    assert result.order.external_id == "PO-1"


def test_a_replay_of_what_is_now_a_duplicate_is_refused_and_writes_nothing(api, b2b, cs_user):
    error = refused(api, payload(currency="XXX"))
    api.post("/api/v1/channels/B2B/orders/", json.dumps(payload()), content_type="application/json")
    order = Order.objects.get()
    version = order.history.count()

    with pytest.raises(Conflict) as refusal:
        replay_ingestion_error(
            error_id=error.pk, actor=cs_user, body=json.dumps(payload(payment_status="authorized"))
        )

    assert refusal.value.errors[0].code == "duplicate"
    assert f"order #{order.pk}" in refusal.value.message
    assert Order.objects.count() == 1 and order.history.count() == version
    error.refresh_from_db()
    assert error.resolved_at is None and error.order is None


def test_the_replay_page_shows_json_errors_inline_and_opens_the_new_order(
    client, api, b2b, cs_user
):
    error = refused(api, payload(currency=None))
    client.force_login(cs_user)
    url = reverse("orders:ingestion-error-replay", args=[error.pk])

    bad = client.post(url, {"body": '{"external_id": "PO-1",'})
    assert bad.status_code == 400
    assert "Not valid JSON" in bad.content.decode()
    still = client.post(url, {"body": json.dumps(payload(currency=None))})
    assert still.status_code == 400 and "currency" in still.content.decode()
    assert not Order.objects.exists()

    done = client.post(url, {"body": json.dumps(payload())})

    order = Order.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse("orders:detail", args=[order.pk])
    page = client.get(reverse("orders:ingestion-error", args=[error.pk])).content.decode()
    assert "Replayed by" in page and order.order_number in page


def test_the_api_replays_a_corrected_payload(api, b2b, cs_user):
    error = refused(api, payload(currency="XXX"))
    client = token_client(cs_user)

    response = client.post(
        f"/api/v1/ingestion-errors/{error.pk}/replay/", {"payload": payload()}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert response.json()["outcome"] == "created"
    again = client.post(f"/api/v1/ingestion-errors/{error.pk}/replay/", {}, format="json")
    assert again.status_code == 409


def test_a_warehouse_user_cannot_replay(client, api, b2b, warehouse_user):
    error = refused(api, payload(currency="XXX"))
    client.force_login(warehouse_user)

    response = client.post(
        reverse("orders:ingestion-error-replay", args=[error.pk]), {"body": "{}"}
    )

    assert response.status_code == 403
    assert not Order.objects.exists()


# --- manual orders ------------------------------------------------------------------------


def test_a_phone_order_is_validated_and_routed_like_a_channel_order(phone_channel, cs_user):
    result = create_manual_order(
        channel_code="PHONE",
        kind="phone",
        lines=[ManualLine("OUR-TEE-1", 2, "24.99")],
        ship_to=ADDRESS,
        actor=cs_user,
    )

    order = result.order
    assert order.state == "released"
    assert (order.origin, order.entered_by, order.payment_status) == ("phone", cs_user, "captured")
    line = order.lines.get()
    assert (line.sku.code, line.quantity, str(line.unit_price)) == ("OUR-TEE-1", 2, "24.99")


def test_a_manual_order_without_an_address_is_held_as_a_channel_order_would_be(
    phone_channel, cs_user
):
    order = create_manual_order(
        channel_code="PHONE",
        kind="phone",
        lines=[ManualLine("OUR-TEE-1", 1, "5")],
        ship_to={**ADDRESS, "line1": ""},
        actor=cs_user,
    ).order

    assert order.state == "on_hold"
    assert order.holds.filter(reason="address_invalid").exists()


def test_bad_manual_order_lines_are_each_named_and_nothing_is_written(phone_channel, cs_user):
    with pytest.raises(ValidationFailed) as refusal:
        create_manual_order(
            channel_code="PHONE",
            kind="phone",
            lines=[
                ManualLine("NO-SUCH", 1, "5"),
                ManualLine("OUR-TEE-1", 0, "5"),
                ManualLine("OUR-MUG-1", 1, "-1"),
                ManualLine("OUR-MUG-1", "two", "1.999"),
            ],
            ship_to=ADDRESS,
            actor=cs_user,
        )

    fields = [error.field for error in refusal.value.errors]
    assert fields == [
        "lines[0].sku",
        "lines[1].quantity",
        "lines[2].unit_price",
        "lines[3].quantity",
        "lines[3].unit_price",
    ]
    assert not Order.objects.exists()


def test_a_manual_order_on_a_marketplace_channel_or_without_lines_is_refused(
    shop, phone_channel, cs_user
):
    with pytest.raises(ValidationFailed) as refusal:
        create_manual_order(
            channel_code="SHOP", kind="phone", lines=[], ship_to=ADDRESS, actor=cs_user
        )

    assert {error.field for error in refusal.value.errors} == {"channel", "lines"}
    assert not Order.objects.exists()


def test_a_replacement_charges_nothing_and_names_its_rma(phone_channel, cs_user):
    with pytest.raises(ValidationFailed) as refusal:
        create_manual_order(
            channel_code="PHONE",
            kind="replacement",
            lines=[ManualLine("TEE-1", 1)],
            ship_to=ADDRESS,
            actor=cs_user,
        )
    assert refusal.value.errors[0].field == "replaces_rma"

    order = create_manual_order(
        channel_code="PHONE",
        kind="replacement",
        lines=[ManualLine("OUR-TEE-1", 1, "99.00")],
        ship_to=ADDRESS,
        replaces_rma="RMA-000042",
        actor=cs_user,
    ).order

    assert order.total == 0 and order.lines.get().unit_price == 0
    assert (order.origin, order.replaces_rma, order.state) == (
        "replacement",
        "RMA-000042",
        "released",
    )


def test_the_same_reference_twice_is_one_order(phone_channel, cs_user):
    values = {
        "channel_code": "PHONE",
        "kind": "b2b",
        "lines": [ManualLine("OUR-MUG-1", 1, "3.50")],
        "ship_to": ADDRESS,
        "reference": "PO-777",
        "actor": cs_user,
    }
    create_manual_order(**values)

    with pytest.raises(Conflict):
        create_manual_order(**values)
    assert Order.objects.count() == 1


def test_the_back_office_form_puts_each_error_under_its_row(client, phone_channel, cs_user):
    client.force_login(cs_user)
    url = reverse("orders:create")
    form = client.get(url)
    reference = form.context["form"].initial["reference"]
    data = {
        "channel": "PHONE",
        "kind": "phone",
        "reference": reference,
        **{f"ship_to.{name}": value for name, value in ADDRESS.items()},
        "lines[0].sku": "OUR-TEE-1",
        "lines[0].quantity": "1",
        "lines[0].unit_price": "5.00",
        "lines[2].sku": "NOPE",
        "lines[2].quantity": "1",
        "lines[2].unit_price": "5.00",
    }

    refused_page = client.post(url, data)

    assert refused_page.status_code == 400
    assert refused_page.context["form"].errors["lines[2].sku"] == [
        "NOPE is not an active SKU on PHONE."
    ]
    assert not Order.objects.exists()

    data["lines[2].sku"] = "OUR-MUG-1"
    created = client.post(url, data)

    order = Order.objects.get()
    assert created["Location"] == reverse("orders:detail", args=[order.pk])
    assert order.order_number == reference and order.lines.count() == 2
    page = client.get(created["Location"]).content.decode()
    assert "Phone order" in page


def test_the_api_creates_a_manual_order_and_refuses_bad_lines(phone_channel, cs_user):
    client = token_client(cs_user)
    body = {
        "channel": "PHONE",
        "kind": "phone",
        "ship_to": ADDRESS,
        "lines": [{"sku": "OUR-TEE-1", "quantity": 1, "unit_price": "5.00"}],
    }

    created = client.post("/api/v1/manual-orders/", body, format="json")
    assert created.status_code == 201, created.json()

    bad = client.post(
        "/api/v1/manual-orders/",
        {**body, "lines": [{"sku": "NO-SUCH", "quantity": 1, "unit_price": "5.00"}]},
        format="json",
    )
    assert bad.status_code == 400
    assert "lines[0].sku" in json.dumps(bad.json())
    zero = client.post(
        "/api/v1/manual-orders/",
        {**body, "lines": [{"sku": "OUR-TEE-1", "quantity": 0}]},
        format="json",
    )
    assert zero.status_code == 400
    assert Order.objects.count() == 1
