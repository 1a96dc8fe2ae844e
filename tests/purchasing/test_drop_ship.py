"""Drop-ship end to end: an order line routed to a supplier's drop-ship node becomes a
line on a drop-ship PO that goes out through the outbox; the supplier's shipment
confirmation (fulfillment's external-shipment service) ships the order line, receives the
PO line and closes the PO."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from erp import events
from erp.models import Location, OutboxMessage
from fulfillment.services.shipping import confirm_external_shipment
from inventory.models import StockLedgerEntry
from orders.models import DropshipSource, OrderState
from orders.services.routing import DROP_SHIP_LINE_ROUTED
from purchasing.models import PurchaseOrder, PurchaseOrderState
from purchasing.services import drop_ship
from purchasing.services.sending import ORDER_EMAIL_TOPIC
from tests.factories import ChannelFactory, LocationFactory, SkuFactory
from tests.factories.fulfillment import (
    BoxFactory,
    CarrierFactory,
    CarrierServiceFactory,
    ChannelFulfillmentPolicyFactory,
    released_order,
)
from tests.factories.purchasing import SupplierFactory, SupplierItemFactory

S = PurchaseOrderState


@pytest.fixture(autouse=True)
def working_day_morning():
    with time_machine.travel(dt.datetime(2026, 12, 2, 9, 30, tzinfo=dt.UTC), tick=True):
        yield


@pytest.fixture
def acme_node(db):
    return LocationFactory(code="DS-ACME", kind=Location.Kind.DROPSHIP)


@pytest.fixture
def acme(mail_relay, acme_node):
    return SupplierFactory(code="ACME-DS", name="Acme Drop-ship", dropship_location=acme_node)


@pytest.fixture
def shop(db):
    warehouse = LocationFactory(code="WH-DS", priority=1)
    channel = ChannelFactory(code="WEB-DS", kind="b2b", eligible_locations=[warehouse])
    ChannelFulfillmentPolicyFactory(channel=channel)
    return channel


@pytest.fixture
def ups(db):
    service = CarrierServiceFactory(
        carrier=CarrierFactory(code="UPS", name="UPS", tracking_pattern=r"1Z[0-9A-Z]{16}"),
        code="GROUND",
        name="UPS Ground",
    )
    BoxFactory(code="M")
    return service.carrier


def _dropship_sku(code, node, supplier, cost="80.00"):
    sku = SkuFactory(code=code)
    DropshipSource.objects.create(sku=sku, location=node, cost=Decimal(cost))
    SupplierItemFactory(supplier=supplier, sku=sku, unit_cost=Decimal(cost), lead_time_days=3)
    return sku


def test_a_routed_drop_ship_order_becomes_a_sent_po_and_closes_when_the_supplier_ships(
    shop, acme, acme_node, ups, manager, integration_user, django_capture_on_commit_callbacks
):
    sofa = _dropship_sku("SOFA", acme_node, acme)
    lamp = _dropship_sku("LAMP", acme_node, acme, cost="20.00")
    heard = []
    events.subscribe(DROP_SHIP_LINE_ROUTED)(heard.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            order = released_order(shop, [(sofa, 1), (lamp, 2)], manager)
    finally:
        events.unsubscribe(DROP_SHIP_LINE_ROUTED, heard.append)
    assert sorted(event.payload["quantity"] for event in heard) == [1, 2]
    assert heard[0].payload["order_id"] == order.pk
    assert heard[0].payload["location_id"] == acme_node.pk

    po = PurchaseOrder.objects.get()
    assert (po.kind, po.supplier, po.destination, po.state) == (
        "drop_ship",
        acme,
        acme_node,
        S.SENT,
    )
    assert sorted(po.lines.values_list("sku__code", "quantity_ordered")) == [
        ("LAMP", 2),
        ("SOFA", 1),
    ]
    message = OutboxMessage.objects.get(topic=ORDER_EMAIL_TOPIC)
    assert message.payload["purchase_order"]["number"] == po.number
    assert str(order.external_id) in po.reference

    sofa_line, lamp_line = order.lines.get(sku=sofa), order.lines.get(sku=lamp)
    confirm_external_shipment(
        order_id=order.pk,
        location_code="DS-ACME",
        carrier_code="UPS",
        service_code="GROUND",
        tracking_number="1Z0000000000000001",
        lines=[{"line_id": sofa_line.pk, "quantity": 1}],
        actor=integration_user,
    )
    po.refresh_from_db()
    assert po.state == S.PARTIALLY_RECEIVED
    assert po.lines.get(sku=sofa).quantity_received == 1
    confirm_external_shipment(
        order_id=order.pk,
        location_code="DS-ACME",
        carrier_code="UPS",
        service_code="GROUND",
        tracking_number="1Z0000000000000002",
        lines=[{"line_id": lamp_line.pk, "quantity": 2}],
        actor=integration_user,
    )
    po.refresh_from_db()
    order.refresh_from_db()
    assert po.state == S.CLOSED and po.lines.get(sku=lamp).quantity_received == 2
    assert order.state == OrderState.SHIPPED
    assert not StockLedgerEntry.objects.filter(kind__in=["shipment", "receipt"]).exists()
    assert list(po.events.filter(kind="state").values_list("to_state", flat=True))[-2:] == [
        S.RECEIVED,
        S.CLOSED,
    ]


def test_a_line_routed_twice_is_ordered_once_and_a_node_without_supplier_is_left_alone(
    shop, acme, acme_node, manager, django_capture_on_commit_callbacks
):
    sofa = _dropship_sku("SOFA2", acme_node, acme)
    with django_capture_on_commit_callbacks(execute=True):
        order = released_order(shop, [(sofa, 1)], manager)
    line = order.lines.get()
    payload = {
        "order_id": order.pk,
        "order_line_id": line.pk,
        "sku_id": sofa.pk,
        "location_id": acme_node.pk,
        "quantity": 1,
        "channel_id": shop.pk,
        "order_number": order.external_id,
    }
    assert drop_ship.add_routed_line(payload) is None
    assert PurchaseOrder.objects.count() == 1
    orphan_node = LocationFactory(code="DS-NOBODY", kind=Location.Kind.DROPSHIP)
    bench = SkuFactory(code="BENCH")
    DropshipSource.objects.create(sku=bench, location=orphan_node)
    other = released_order(shop, [(bench, 1)], manager)
    assert other.state != OrderState.RECEIVED  # routing went ahead
    assert PurchaseOrder.objects.count() == 1


def test_an_unsent_draft_is_sent_by_the_sweep(shop, acme, acme_node, manager):
    sofa = _dropship_sku("SOFA3", acme_node, acme)
    released_order(shop, [(sofa, 1)], manager)  # the on-commit send never ran
    assert PurchaseOrder.objects.get().state == S.DRAFT
    assert drop_ship.send_drop_ship_orders() == 1
    assert PurchaseOrder.objects.get().state == S.SENT


def test_the_drop_ship_po_page_names_the_order_and_its_lines(
    shop, acme, acme_node, manager, buyer, client, django_capture_on_commit_callbacks
):
    sofa = _dropship_sku("SOFA4", acme_node, acme)
    with django_capture_on_commit_callbacks(execute=True):
        order = released_order(shop, [(sofa, 1)], manager)
    po = PurchaseOrder.objects.get()
    client.force_login(buyer)
    found = client.get(reverse("purchasing:po-list"), {"q": order.external_id}).content.decode()
    assert po.number in found and "drop-ship" in found
    page = client.get(reverse("purchasing:purchaseorder-detail", args=[po.pk])).content.decode()
    assert f"Drop-ship for order {order.external_id} (#{order.pk})" in page
    assert f"OL-{order.lines.get().pk}" in page
