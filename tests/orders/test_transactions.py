"""Transactions say what they are: an entry-point service is its own durable transaction
(called inside another transaction it refuses, instead of silently joining it), and the
address validator, which may call out, never runs inside one.

Django's TestCase (and `django_db` without transaction=True) disables the durability
check, so these tests use real transactions."""

import pytest
from django.db import connection, transaction

from erp.services.approvals import decide_approval
from fulfillment.services.shipping import confirm_external_shipment, confirm_shipment
from inventory.services.counts import record_count
from orders.models import ChannelOrderPolicy, OrderState
from orders.services.cancellation import cancel_line, cancel_order
from orders.services.evaluation import reroute_order
from orders.services.holds import hold_order, release_order
from orders.services.ingestion import ingest_order
from orders.services.ship_to import edit_ship_to
from returns.services.refunds import record_channel_refund, request_refund, withdraw_refund
from returns.services.rmas import create_rma
from tests.factories import ChannelFactory, ChannelListingFactory, LocationFactory, SkuFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ENTRY_POINTS = {
    "cancel_order": lambda u: cancel_order(order_id=0, actor=u, reason="x"),
    "cancel_line": lambda u: cancel_line(line_id=0, actor=u, quantity=1, reason="x"),
    "hold_order": lambda u: hold_order(order_id=0, actor=u, note="x"),
    "release_order": lambda u: release_order(order_id=0, actor=u),
    "reroute_order": lambda u: reroute_order(order_id=0, actor=u),
    "edit_ship_to": lambda u: edit_ship_to(order_id=0, actor=u, address={"ship_city": "X"}),
    "confirm_shipment": lambda u: confirm_shipment(shipment_id=0, actor=u),
    "confirm_external_shipment": lambda u: confirm_external_shipment(
        order_id=0,
        location_code="X",
        carrier_code="UPS",
        service_code="",
        tracking_number="1",
        lines=[],
        actor=u,
    ),
    "record_count": lambda u: record_count(count_id=0, sku_code_or_barcode="X", counted=1, actor=u),
    "decide_approval": lambda u: decide_approval(request_id=0, actor=u, approve=True),
    "create_rma": lambda u: create_rma(order_id=0, lines=[], actor=u),
    "request_refund": lambda u: request_refund(rma_id=0, actor=u),
    "record_channel_refund": lambda u: record_channel_refund(rma_id=0, actor=u, amount="1"),
    "withdraw_refund": lambda u: withdraw_refund(refund_id=0, actor=u, note="x"),
}


def test_entry_points_refuse_to_run_inside_another_transaction(manager):
    joined = []
    for name, call in ENTRY_POINTS.items():
        try:
            with transaction.atomic():
                call(manager)
        except RuntimeError as error:
            assert "durable" in str(error), name
        except Exception as error:  # noqa: BLE001  ran inside the caller's transaction
            joined.append(f"{name}: {type(error).__name__}")
        else:
            joined.append(name)
    assert joined == []


def test_ingestion_is_durable(integration_user, b2b):
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        ingest_order(channel=b2b, payload=order_payload(), actor=integration_user)


CALLS = []


def recording_validator(order) -> str | None:
    """An address service: records whether it was called inside a transaction."""
    CALLS.append((order.ship_city, connection.in_atomic_block))
    return "Unknown street." if order.ship_city == "Nowhere" else None


@pytest.fixture
def validator(settings):
    settings.ORDERS_ADDRESS_VALIDATOR = "tests.orders.test_transactions.recording_validator"
    CALLS.clear()
    yield CALLS
    CALLS.clear()


@pytest.fixture
def b2b(manager):
    node = LocationFactory(code="EAST", region="us-east")
    channel = ChannelFactory(code="B2B", kind="b2b", currency="USD", eligible_locations=[node])
    ChannelOrderPolicy.objects.create(channel=channel, require_captured_payment=False)
    sku = SkuFactory(code="OUR-TEE")
    ChannelListingFactory(channel=channel, sku=sku, channel_sku="TEE")
    from inventory.services.movements import receive_stock

    receive_stock(sku=sku, location=node, quantity=10, actor=manager)
    return channel


def order_payload(city: str = "Columbus") -> dict:
    return {
        "external_id": "PO-7",
        "placed_at": "2026-11-20T09:30:00Z",
        "updated_at": "2026-11-20T09:30:00Z",
        "currency": "USD",
        "payment_status": "authorized",
        "ship_to": {
            "name": "Ada Buyer",
            "line1": "1 Main St",
            "city": city,
            "region": "OH",
            "postal_code": "43215",
            "country": "US",
        },
        "lines": [{"line_id": "1", "sku": "TEE", "quantity": 2, "unit_price": "10.00"}],
    }


def test_the_address_validator_runs_outside_every_transaction(
    validator, b2b, integration_user, cs_user
):
    order = ingest_order(
        channel=b2b, payload=order_payload("Nowhere"), actor=integration_user
    ).order
    assert order.state == OrderState.ON_HOLD
    assert order.holds.get().detail == "Unknown street."

    edit_ship_to(order_id=order.pk, actor=cs_user, address={"ship_city": "Columbus"})

    order.refresh_from_db()
    assert order.state == OrderState.RELEASED
    assert validator == [("Nowhere", False), ("Columbus", False)]


def test_release_checks_the_address_before_its_transaction(
    validator, b2b, integration_user, cs_user
):
    payload = order_payload() | {"risk_score": "95"}
    order = ingest_order(channel=b2b, payload=payload, actor=integration_user).order
    assert order.state == OrderState.ON_HOLD
    validator.clear()

    release_order(order_id=order.pk, actor=cs_user, note="known customer")

    order.refresh_from_db()
    assert order.state == OrderState.RELEASED
    assert validator == [("Columbus", False)]
