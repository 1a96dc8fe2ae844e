"""Shipment confirmation: stock leaves through the ledger, order states, tracking upload,
customer notification and the domain event; a 3PL's confirmation takes the same path."""

import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from erp import events
from erp.errors import Conflict, NotPermitted, ValidationFailed
from erp.models import Location, OutboxMessage
from finance.services.chart import ensure_chart_of_accounts
from fulfillment.models import PickTask, Shipment, ShipmentLine
from fulfillment.services.packing import pack_order
from fulfillment.services.picking import confirm_pick, report_short_pick
from fulfillment.services.shipping import (
    NOTIFICATION_TOPIC,
    SHIPMENT_CONFIRMED,
    confirm_external_shipment,
    confirm_shipment,
)
from fulfillment.services.waves import build_waves
from inventory.models import LotBalance, Reservation, SerialNumber, StockBalance, StockLedgerEntry
from inventory.services.movements import receive_stock
from inventory.services.verification import find_balance_differences
from orders.models import Allocation, DropshipSource, LineState, OrderState
from orders.services.flow import cancel_order
from tests.factories import ChannelFactory, LocationFactory, LotFactory, SkuFactory
from tests.factories.fulfillment import (
    BoxFactory,
    CarrierFactory,
    CarrierServiceFactory,
    ChannelFulfillmentPolicyFactory,
    released_order,
    stocked_sku,
)

pytestmark = pytest.mark.django_db
TRACKING = itertools.count(1)


@pytest.fixture(autouse=True)
def ledger_matches_balances():
    yield
    assert find_balance_differences() == []


@pytest.fixture
def node(db):
    return LocationFactory(code="WH-A", priority=1)


@pytest.fixture
def carrier(db):
    service = CarrierServiceFactory(
        carrier=CarrierFactory(code="UPS", name="UPS", tracking_pattern=r"1Z[0-9A-Z]{16}"),
        code="GROUND",
        name="UPS Ground",
    )
    BoxFactory(code="M")
    return service.carrier


def shop_of(kind, node, **policy):
    channel = ChannelFactory(code=kind.upper(), kind=kind, eligible_locations=[node])
    ChannelFulfillmentPolicyFactory(channel=channel, **policy)
    return channel


@pytest.fixture
def shop(node):
    return shop_of("b2b", node)


@pytest.fixture
def tee(node, manager):
    return stocked_sku(node, 10, manager, slot="A-01-1", code="TEE")


@pytest.fixture
def mug(node, manager):
    return stocked_sku(node, 10, manager, slot="A-02-1", code="MUG")


def picked(channel, node, lines, manager, picker, **order_fields):
    """A released order waved at `node` with every task picked; (order, {sku_id: line})."""
    order = released_order(channel, lines, manager, **order_fields)
    build_waves(location=node, actor=manager)
    for task in PickTask.objects.filter(order=order, state="open").select_related("sku"):
        confirm_pick(
            task_id=task.pk,
            slot_code=task.slot_code,
            barcode=task.sku.barcode,
            quantity=task.quantity,
            actor=picker,
            serials=SerialNumber.objects.filter(sku=task.sku).values_list("serial", flat=True)[
                : task.quantity
            ]
            if task.sku.serial_tracked
            else (),
        )
    return order, {line.sku_id: line for line in order.lines.all()}


def labelled(order, node, units, carrier, packer):
    """Pack `units` ({line: quantity}) and create its label (label_created)."""
    package = pack_order(
        order_id=order.pk,
        location_id=node.pk,
        lines={line.pk: quantity for line, quantity in units.items()},
        box_code="M",
        weight_grams=800,
        actor=packer,
    )
    return Shipment.objects.create(
        order=order,
        location=node,
        package=package,
        carrier=carrier,
        service=carrier.services.get(),
        tracking_number=f"1Z{next(TRACKING):016d}",
        created_by=packer,
    )


def ready_to_ship(channel, node, lines, carrier, manager, picker, **order_fields):
    order, by_sku = picked(channel, node, lines, manager, picker, **order_fields)
    shipment = labelled(order, node, {by_sku[sku.pk]: qty for sku, qty in lines}, carrier, picker)
    return order, shipment


@pytest.fixture
def published():
    seen = []
    handler = events.subscribe(SHIPMENT_CONFIRMED)(seen.append)
    yield seen
    events.unsubscribe(SHIPMENT_CONFIRMED, handler)


def test_confirming_a_shipment_moves_stock_states_and_tells_channel_and_customer(
    shop, node, tee, mug, carrier, manager, warehouse_user, published
):
    order, shipment = ready_to_ship(
        shop, node, [(tee, 2), (mug, 1)], carrier, manager, warehouse_user
    )

    confirm_shipment(shipment_id=shipment.pk, actor=warehouse_user)

    entries = StockLedgerEntry.objects.filter(kind="shipment").order_by("sku__code")
    assert [(e.sku.code, e.quantity, e.status, e.reference, e.actor) for e in entries] == [
        ("MUG", -1, "sellable", shipment.number, warehouse_user),
        ("TEE", -2, "sellable", shipment.number, warehouse_user),
    ]
    tee_balance = StockBalance.objects.get(sku=tee, location=node, status="sellable")
    assert (tee_balance.on_hand, tee_balance.reserved) == (8, 0)
    assert set(Reservation.objects.values_list("state", flat=True)) == {"consumed"}
    assert not Allocation.objects.filter(line__order=order, active=True).exists()
    shipment.refresh_from_db()
    assert (shipment.state, shipment.shipped_by) == (Shipment.State.SHIPPED, warehouse_user)
    order.refresh_from_db()
    assert (order.state, order.shipped_at) == (OrderState.SHIPPED, shipment.shipped_at)
    assert sorted(order.lines.values_list("quantity_shipped", "state")) == [
        (1, LineState.SHIPPED),
        (2, LineState.SHIPPED),
    ]
    assert sorted(ShipmentLine.objects.values_list("sku__code", "quantity")) == [
        ("MUG", 1),
        ("TEE", 2),
    ]
    tracking = OutboxMessage.objects.get(topic="tracking.b2b")
    policy = shop.fulfillment_policy
    assert tracking.endpoint == policy.tracking_endpoint
    assert tracking.dedupe_key == f"tracking.b2b:{order.external_id}:{shipment.number}"
    body = tracking.payload["request"]["body"]
    assert (body["tracking_number"], body["completes_order"]) == (shipment.tracking_number, True)
    assert sorted((line["sku"], line["quantity"]) for line in body["lines"]) == sorted(
        [(order.lines.get(sku=tee).channel_sku, 2), (order.lines.get(sku=mug).channel_sku, 1)]
    )
    notification = OutboxMessage.objects.get(topic=NOTIFICATION_TOPIC)
    assert notification.endpoint == policy.notification_endpoint
    assert notification.payload["to"] == "buyer@example.com"
    assert notification.payload["tracking_url"].endswith(shipment.tracking_number)
    (event,) = published
    assert event.payload["shipment_id"] == shipment.pk
    assert sorted((line["sku_id"], line["quantity"]) for line in event.payload["lines"]) == sorted(
        [(tee.pk, 2), (mug.pk, 1)]
    )


def test_confirming_twice_is_a_conflict_and_writes_nothing_more(
    shop, node, tee, carrier, manager, warehouse_user
):
    _, shipment = ready_to_ship(shop, node, [(tee, 1)], carrier, manager, warehouse_user)
    confirm_shipment(shipment_id=shipment.pk, actor=warehouse_user)
    before = (StockLedgerEntry.objects.count(), OutboxMessage.objects.count())

    with pytest.raises(Conflict) as refused:
        confirm_shipment(shipment_id=shipment.pk, actor=warehouse_user)

    assert refused.value.errors[0].code == "already_shipped"
    assert (StockLedgerEntry.objects.count(), OutboxMessage.objects.count()) == before


def test_a_voided_label_cannot_ship(shop, node, tee, carrier, manager, warehouse_user):
    _, shipment = ready_to_ship(shop, node, [(tee, 1)], carrier, manager, warehouse_user)
    Shipment.objects.filter(pk=shipment.pk).update(state=Shipment.State.VOIDED)

    with pytest.raises(Conflict) as refused:
        confirm_shipment(shipment_id=shipment.pk, actor=warehouse_user)

    assert refused.value.errors[0].code == "already_voided"


def test_a_cancelled_order_does_not_ship(shop, node, tee, carrier, manager, warehouse_user):
    order, shipment = ready_to_ship(shop, node, [(tee, 1)], carrier, manager, warehouse_user)
    cancel_order(order_id=order.pk, actor=manager, reason="fraud")

    with pytest.raises(Conflict) as refused:
        confirm_shipment(shipment_id=shipment.pk, actor=warehouse_user)

    assert refused.value.errors[0].code == "cancelled"
    assert not StockLedgerEntry.objects.filter(kind="shipment").exists()
    shipment.refresh_from_db()
    assert shipment.state == Shipment.State.VOIDED  # cancelling voided the unshipped label


def test_two_packages_ship_partially_then_fully(
    shop, node, tee, mug, carrier, manager, warehouse_user
):
    order, lines = picked(shop, node, [(tee, 2), (mug, 1)], manager, warehouse_user)
    first = labelled(order, node, {lines[tee.pk]: 2}, carrier, warehouse_user)
    second = labelled(order, node, {lines[mug.pk]: 1}, carrier, warehouse_user)

    confirm_shipment(shipment_id=first.pk, actor=warehouse_user)
    order.refresh_from_db()
    assert order.state == OrderState.PARTIALLY_SHIPPED
    assert (
        OutboxMessage.objects.get(topic="tracking.b2b").payload["request"]["body"][
            "completes_order"
        ]
        is False
    )

    confirm_shipment(shipment_id=second.pk, actor=warehouse_user)
    order.refresh_from_db()
    assert order.state == OrderState.SHIPPED


def test_after_a_short_pick_the_rest_stays_backordered_when_the_parcel_ships(
    shop, node, tee, mug, carrier, manager, warehouse_user
):
    order = released_order(shop, [(tee, 1), (mug, 2)], manager)
    build_waves(location=node, actor=manager)
    tee_task, mug_task = PickTask.objects.filter(order=order).order_by("sku__code").reverse()
    confirm_pick(
        task_id=tee_task.pk,
        slot_code="A-01-1",
        barcode=tee.barcode,
        quantity=1,
        actor=warehouse_user,
    )
    report_short_pick(task_id=mug_task.pk, quantity_found=1, actor=warehouse_user)
    lines = {line.sku_id: line for line in order.lines.all()}
    shipment = labelled(order, node, {lines[tee.pk]: 1, lines[mug.pk]: 1}, carrier, warehouse_user)

    confirm_shipment(shipment_id=shipment.pk, actor=warehouse_user)

    order.refresh_from_db()
    assert order.state == OrderState.PARTIALLY_SHIPPED
    mug_line = order.lines.get(sku=mug)
    assert (mug_line.quantity_shipped, mug_line.state) == (1, LineState.BACKORDERED)
    assert StockBalance.objects.get(sku=mug, location=node, status="sellable").reserved == 0


def test_lots_leave_as_picked_and_serials_are_marked_shipped(
    shop, node, carrier, manager, warehouse_user
):
    today = timezone.localdate()
    vitamins = stocked_sku(node, 0, manager, slot="C-01-1", code="VIT", lot_tracked=True)
    soon = LotFactory(sku=vitamins, code="SOON", expires_on=today + timedelta(days=5))
    late = LotFactory(sku=vitamins, code="LATE", expires_on=today + timedelta(days=50))
    receive_stock(sku=vitamins, location=node, quantity=2, lot=soon, actor=manager)
    receive_stock(sku=vitamins, location=node, quantity=5, lot=late, actor=manager)
    phone = stocked_sku(
        node, 2, manager, slot="D-01-1", code="PHONE", serial_tracked=True, serials=["P1", "P2"]
    )
    _, shipment = ready_to_ship(
        shop, node, [(vitamins, 3), (phone, 1)], carrier, manager, warehouse_user
    )

    confirm_shipment(shipment_id=shipment.pk, actor=warehouse_user)

    lots = dict(
        LotBalance.objects.filter(sku=vitamins, status="sellable").values_list(
            "lot__code", "on_hand"
        )
    )
    assert lots == {"SOON": 0, "LATE": 4}
    assert sorted(
        StockLedgerEntry.objects.filter(kind="shipment", lot__isnull=False).values_list(
            "lot__code", "quantity"
        )
    ) == [("LATE", -1), ("SOON", -2)]
    assert dict(SerialNumber.objects.values_list("serial", "state")) == {
        "P1": "shipped",
        "P2": "in_stock",
    }
    assert ShipmentLine.objects.get(sku=phone).serials == ["P1"]


@pytest.mark.parametrize(
    "kind, extra, topic, path",
    [
        ("amazon", {"marketplace_id": "ATVPDKIKX0DER"}, "tracking.amazon", "shipmentConfirmation"),
        ("ebay", {}, "tracking.ebay", "shipping_fulfillment"),
        ("walmart", {}, "tracking.walmart", "/shipping"),
        ("woocommerce", {}, "tracking.woocommerce", "shipment-trackings"),
        ("manual", {}, "tracking.manual", "/shipments"),
    ],
)
def test_the_tracking_upload_is_in_the_channels_format(
    node, tee, carrier, manager, warehouse_user, kind, extra, topic, path
):
    channel = shop_of(kind, node)
    order, shipment = ready_to_ship(
        channel, node, [(tee, 1)], carrier, manager, warehouse_user, extra=extra
    )

    confirm_shipment(shipment_id=shipment.pk, actor=warehouse_user)

    message = OutboxMessage.objects.get(topic=topic)
    assert path in message.payload["request"]["path"]
    assert message.dedupe_key.endswith(f":{shipment.number}")
    assert message.payload["format"] == kind


def test_shopify_uploads_carry_the_notice_and_the_fulfillment_order_lookup(
    node, tee, carrier, manager, warehouse_user
):
    channel = shop_of("shopify", node)
    order, shipment = ready_to_ship(channel, node, [(tee, 1)], carrier, manager, warehouse_user)

    confirm_shipment(shipment_id=shipment.pk, actor=warehouse_user)

    message = OutboxMessage.objects.get(topic="tracking.shopify")
    assert message.payload["lookup"]["path"].endswith(
        f"/orders/{order.external_id}/fulfillment_orders.json"
    )
    notice = message.payload["notice"]
    assert (notice["tracking_number"], notice["shipment_reference"]) == (
        shipment.tracking_number,
        shipment.number,
    )
    # We e-mail the customer ourselves, so the channel is told not to.
    assert notice["notify_customer"] is False


def test_an_upload_the_channel_would_refuse_fails_the_confirmation_and_writes_nothing(
    node, tee, carrier, manager, warehouse_user
):
    channel = shop_of("amazon", node)
    order, shipment = ready_to_ship(channel, node, [(tee, 1)], carrier, manager, warehouse_user)

    with pytest.raises(ValidationFailed) as refused:
        confirm_shipment(shipment_id=shipment.pk, actor=warehouse_user)

    assert refused.value.errors[0].field == "extra.marketplace_id"
    assert not StockLedgerEntry.objects.filter(kind="shipment").exists()
    assert not OutboxMessage.objects.exists()
    order.refresh_from_db()
    assert order.state == OrderState.PACKED


def test_without_a_policy_or_an_e_mail_nothing_goes_to_the_outbox(
    node, tee, carrier, manager, warehouse_user
):
    quiet = ChannelFactory(code="QUIET", kind="b2b", eligible_locations=[node])
    _, shipment = ready_to_ship(quiet, node, [(tee, 1)], carrier, manager, warehouse_user)
    shop = shop_of("b2b", node, notify_customer=True)
    _, second = ready_to_ship(
        shop, node, [(tee, 1)], carrier, manager, warehouse_user, customer_email=""
    )

    confirm_shipment(shipment_id=shipment.pk, actor=warehouse_user)
    confirm_shipment(shipment_id=second.pk, actor=warehouse_user)

    assert list(OutboxMessage.objects.values_list("topic", flat=True)) == ["tracking.b2b"]


@pytest.mark.parametrize("role_user", ["cs_user", "integration_user", "finance_user"])
def test_only_the_floor_confirms_shipments(
    shop, node, tee, carrier, manager, warehouse_user, role_user, request
):
    _, shipment = ready_to_ship(shop, node, [(tee, 1)], carrier, manager, warehouse_user)
    with pytest.raises(NotPermitted):
        confirm_shipment(shipment_id=shipment.pk, actor=request.getfixturevalue(role_user))


def _confirm_counting_queries(shipment, actor):
    actor.has_perm("fulfillment.confirm_shipment")
    # Finance posts the shipment; a channel's first posting creates its accounts once.
    ensure_chart_of_accounts()
    with CaptureQueriesContext(connection) as queries:
        confirm_shipment(shipment_id=shipment.pk, actor=actor)
    return len(queries)


def test_confirmation_queries_do_not_grow_with_the_lines_of_the_parcel(
    shop, node, carrier, manager, warehouse_user
):
    skus = [stocked_sku(node, 5, manager, slot=f"B-0{n}-1", code=f"S{n}") for n in range(1, 6)]
    _, one = ready_to_ship(shop, node, [(skus[0], 1)], carrier, manager, warehouse_user)
    _, five = ready_to_ship(
        shop, node, [(sku, 2) for sku in skus], carrier, manager, warehouse_user
    )

    assert _confirm_counting_queries(five, warehouse_user) == _confirm_counting_queries(
        one, warehouse_user
    )


# --- a 3PL or WMS reports back ------------------------------------------------------------


@pytest.fixture
def tpl(db):
    return LocationFactory(code="3PL-WEST", kind=Location.Kind.THIRD_PARTY, priority=1)


@pytest.fixture
def tpl_shop(tpl, node):
    channel = ChannelFactory(code="WEB", kind="b2b", eligible_locations=[tpl])
    ChannelFulfillmentPolicyFactory(channel=channel)
    return channel


def report(order, user, lines, *, location="3PL-WEST", tracking=None, carrier_code="UPS", **kw):
    return confirm_external_shipment(
        order_id=order.pk,
        location_code=location,
        carrier_code=carrier_code,
        service_code=kw.pop("service_code", "GROUND"),
        tracking_number=tracking or f"1Z{next(TRACKING):016d}",
        lines=lines,
        actor=user,
        **kw,
    )


def test_a_3pl_confirmation_consumes_the_reservation_and_tells_the_channel(
    tpl_shop, tpl, carrier, manager, integration_user, published
):
    sku = stocked_sku(tpl, 5, manager, code="TEE")
    order = released_order(tpl_shop, [(sku, 3)], manager)
    line = order.lines.get()

    shipment = report(
        order, integration_user, [{"line_id": line.pk, "quantity": 2}], external_reference="WMS-77"
    )

    assert (shipment.source, shipment.external_reference, shipment.state) == (
        Shipment.Source.EXTERNAL,
        "WMS-77",
        Shipment.State.SHIPPED,
    )
    entry = StockLedgerEntry.objects.get(kind="shipment")
    assert (entry.location, entry.quantity, entry.reference) == (tpl, -2, shipment.number)
    assert Reservation.objects.get().quantity == 1
    assert Allocation.objects.get(line=line).quantity == 1
    order.refresh_from_db()
    line.refresh_from_db()
    assert (order.state, line.quantity_shipped, line.state) == (
        OrderState.PARTIALLY_SHIPPED,
        2,
        LineState.ALLOCATED,
    )
    assert OutboxMessage.objects.filter(topic="tracking.b2b").count() == 1
    assert published[0].payload["source"] == "external"

    report(order, integration_user, [{"sku": "TEE", "quantity": 1}])
    order.refresh_from_db()
    assert order.state == OrderState.SHIPPED


def test_a_3pl_confirmation_for_an_order_routed_elsewhere_is_refused(
    tpl_shop, tpl, node, carrier, manager, integration_user
):
    tpl_shop.eligible_locations.set([node])
    sku = stocked_sku(node, 5, manager, code="TEE")
    order = released_order(tpl_shop, [(sku, 1)], manager)

    with pytest.raises(Conflict) as refused:
        report(order, integration_user, [{"line_id": order.lines.get().pk, "quantity": 1}])

    assert (refused.value.errors[0].field, refused.value.errors[0].code) == (
        "location_code",
        "routed_elsewhere",
    )
    assert "WH-A" in refused.value.message
    assert not Shipment.objects.exists()


def test_a_tracking_number_the_carrier_already_used_is_refused(
    tpl_shop, tpl, carrier, manager, integration_user
):
    sku = stocked_sku(tpl, 5, manager, code="TEE")
    order = released_order(tpl_shop, [(sku, 2)], manager)
    line = order.lines.get()
    report(
        order,
        integration_user,
        [{"line_id": line.pk, "quantity": 1}],
        tracking="1ZAAAA000000000001",
    )

    with pytest.raises(ValidationFailed) as refused:
        report(
            order,
            integration_user,
            [{"line_id": line.pk, "quantity": 1}],
            tracking="1ZAAAA000000000001",
        )

    assert (refused.value.errors[0].field, refused.value.errors[0].code) == (
        "tracking_number",
        "tracking_number_taken",
    )
    assert Shipment.objects.count() == 1
    assert StockLedgerEntry.objects.filter(kind="shipment").count() == 1


@pytest.mark.parametrize(
    "change, field, code",
    [
        ({"lines": [{"sku": "TEE", "quantity": 3}]}, "lines[0].quantity", "more_than_allocated"),
        ({"lines": [{"sku": "NOPE", "quantity": 1}]}, "lines[0].sku", "not_on_order"),
        ({"lines": [{"line_id": 999999, "quantity": 1}]}, "lines[0].line_id", "not_on_order"),
        ({"lines": [{"sku": "TEE", "quantity": 0}]}, "lines[0].quantity", "min_value"),
        ({"lines": []}, "lines", "required"),
        ({"tracking": "NOT-UPS"}, "tracking_number", "invalid"),
        ({"carrier_code": "NOPE"}, "carrier_code", "unknown_carrier"),
        ({"service_code": "NOPE"}, "service_code", "unknown_service"),
        ({"location": "NOWHERE"}, "location_code", "unknown_location"),
    ],
)
def test_bad_3pl_reports_are_refused_with_the_field(
    tpl_shop, tpl, carrier, manager, integration_user, change, field, code
):
    sku = stocked_sku(tpl, 5, manager, code="TEE")
    order = released_order(tpl_shop, [(sku, 2)], manager)
    lines = change.pop("lines", [{"sku": "TEE", "quantity": 1}])

    with pytest.raises(ValidationFailed) as refused:
        report(order, integration_user, lines, **change)

    assert (refused.value.errors[0].field, refused.value.errors[0].code) == (field, code)
    assert not Shipment.objects.exists()
    assert not StockLedgerEntry.objects.filter(kind="shipment").exists()


def test_a_3pl_cannot_ship_a_cancelled_order(tpl_shop, tpl, carrier, manager, integration_user):
    sku = stocked_sku(tpl, 5, manager, code="TEE")
    order = released_order(tpl_shop, [(sku, 1)], manager)
    cancel_order(order_id=order.pk, actor=manager, reason="customer asked")

    with pytest.raises(Conflict) as refused:
        report(order, integration_user, [{"sku": "TEE", "quantity": 1}])

    assert refused.value.errors[0].code == "cancelled"


def test_a_3pl_reports_lots_and_serials_and_fefo_fills_in_a_missing_lot(
    tpl_shop, tpl, carrier, manager, integration_user
):
    today = timezone.localdate()
    vitamins = stocked_sku(tpl, 0, manager, code="VIT", lot_tracked=True)
    soon = LotFactory(sku=vitamins, code="SOON", expires_on=today + timedelta(days=5))
    receive_stock(sku=vitamins, location=tpl, quantity=3, lot=soon, actor=manager)
    phone = stocked_sku(tpl, 2, manager, code="PHONE", serial_tracked=True, serials=["P1", "P2"])
    order = released_order(tpl_shop, [(vitamins, 2), (phone, 1)], manager)

    report(
        order,
        integration_user,
        [{"sku": "VIT", "quantity": 2}, {"sku": "PHONE", "quantity": 1, "serials": ["P2"]}],
    )

    assert LotBalance.objects.get(lot=soon, status="sellable").on_hand == 1
    assert SerialNumber.objects.get(serial="P2").state == "shipped"
    order.refresh_from_db()
    assert order.state == OrderState.SHIPPED


def test_a_3pl_must_report_the_serials_of_serial_tracked_skus(
    tpl_shop, tpl, carrier, manager, integration_user
):
    phone = stocked_sku(tpl, 2, manager, code="PHONE", serial_tracked=True, serials=["P1", "P2"])
    order = released_order(tpl_shop, [(phone, 1)], manager)

    with pytest.raises(ValidationFailed) as refused:
        report(order, integration_user, [{"sku": "PHONE", "quantity": 1}])

    assert (refused.value.errors[0].field, refused.value.errors[0].code) == (
        "lines[0].serials",
        "count",
    )


def test_a_drop_ship_supplier_confirms_without_touching_our_stock(
    tpl_shop, carrier, manager, integration_user
):
    supplier = LocationFactory(code="SUPPLIER", kind=Location.Kind.DROPSHIP)
    sofa = SkuFactory(code="SOFA")
    DropshipSource.objects.create(sku=sofa, location=supplier)
    order = released_order(tpl_shop, [(sofa, 1)], manager)

    shipment = report(
        order, integration_user, [{"sku": "SOFA", "quantity": 1}], location="SUPPLIER"
    )

    assert shipment.state == Shipment.State.SHIPPED
    assert not StockLedgerEntry.objects.filter(kind="shipment").exists()
    order.refresh_from_db()
    assert order.state == OrderState.SHIPPED


def test_a_3pl_cannot_report_units_our_own_pickers_are_picking(
    shop, node, tee, carrier, manager, integration_user
):
    order, _ = picked(shop, node, [(tee, 1)], manager, manager)

    with pytest.raises(ValidationFailed) as refused:
        report(order, integration_user, [{"sku": "TEE", "quantity": 1}], location="WH-A")

    assert refused.value.errors[0].code == "more_than_allocated"


@pytest.mark.parametrize("role_user", ["warehouse_user", "cs_user"])
def test_only_integrations_and_managers_report_external_shipments(
    tpl_shop, tpl, carrier, manager, role_user, request
):
    sku = stocked_sku(tpl, 5, manager, code="TEE")
    order = released_order(tpl_shop, [(sku, 1)], manager)
    with pytest.raises(NotPermitted):
        report(order, request.getfixturevalue(role_user), [{"sku": "TEE", "quantity": 1}])
    assert report(order, manager, [{"sku": "TEE", "quantity": 1}]).state == "shipped"
