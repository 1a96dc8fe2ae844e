"""The floor under concurrency, on real PostgreSQL connections: a wave per allocation, a
lot's last units to one picker, a shipment confirmed once."""

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from erp.errors import DomainError
from fulfillment.models import PickConfirmation, PickTask, Shipment
from fulfillment.services.packing import pack_order
from fulfillment.services.picking import confirm_pick
from fulfillment.services.shipping import confirm_shipment
from fulfillment.services.waves import build_waves
from inventory.models import StockLedgerEntry
from inventory.services.movements import receive_stock
from inventory.services.verification import find_balance_differences
from tests.factories import ChannelFactory, LocationFactory, LotFactory, UserFactory
from tests.factories.fulfillment import (
    BoxFactory,
    CarrierFactory,
    released_order,
    stocked_sku,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(target, count):
    outcomes, errors, barrier = [], [], threading.Barrier(count)

    def run(index):
        try:
            barrier.wait()
            outcomes.append(target(index))
        except DomainError as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes, errors


@pytest.fixture
def floor(manager):
    node = LocationFactory(code="WH-A")
    channel = ChannelFactory(code="SHOP", kind="b2b", eligible_locations=[node])
    return node, channel


def test_waves_built_at_once_give_every_allocation_one_task(floor, manager):
    node, channel = floor
    sku = stocked_sku(node, 100, manager, slot="A-01-1", code="TEE")
    for _ in range(10):
        released_order(channel, [(sku, 1)], manager)

    outcomes, errors = race(lambda _: build_waves(location=node, actor=manager), 4)

    assert errors == []
    assert sum(wave.order_count for waves in outcomes for wave in waves) == 10
    assert PickTask.objects.count() == 10
    assert PickTask.objects.values("allocation").distinct().count() == 10


def test_two_pickers_cannot_both_take_a_lots_last_units(floor, manager):
    node, channel = floor
    sku = stocked_sku(node, 0, manager, slot="A-01-1", code="VIT", lot_tracked=True)
    lot = LotFactory(sku=sku, code="ONLY", expires_on=timezone.localdate() + timedelta(days=9))
    receive_stock(sku=sku, location=node, quantity=3, lot=lot, actor=manager)
    other = LotFactory(sku=sku, code="OTHER", expires_on=timezone.localdate() + timedelta(days=90))
    receive_stock(sku=sku, location=node, quantity=3, lot=other, actor=manager)
    for _ in range(2):
        released_order(channel, [(sku, 2)], manager)
    build_waves(location=node, actor=manager)
    tasks = list(PickTask.objects.order_by("pk"))
    pickers = [UserFactory(username=f"picker{n}", roles=["warehouse"]) for n in range(2)]

    def pick(index):
        task = tasks[index]
        return confirm_pick(
            task_id=task.pk,
            slot_code="A-01-1",
            barcode=sku.barcode,
            quantity=2,
            lot_code="ONLY",
            actor=pickers[index],
        )

    outcomes, errors = race(pick, 2)

    assert len(outcomes) == 1
    assert [error.errors[0].code for error in errors] == ["lot_not_here"]
    assert PickConfirmation.objects.get().lot == lot


def test_a_shipment_confirmed_twice_at_once_ships_once(floor, manager):
    node, channel = floor
    sku = stocked_sku(node, 10, manager, slot="A-01-1", code="TEE")
    BoxFactory(code="M")
    order = released_order(channel, [(sku, 2)], manager)
    build_waves(location=node, actor=manager)
    task = PickTask.objects.get()
    confirm_pick(
        task_id=task.pk, slot_code="A-01-1", barcode=sku.barcode, quantity=2, actor=manager
    )
    package = pack_order(
        order_id=order.pk,
        location_id=node.pk,
        lines={order.lines.get().pk: 2},
        box_code="M",
        weight_grams=500,
        actor=manager,
    )
    shipment = Shipment.objects.create(
        order=order,
        location=node,
        package=package,
        carrier=CarrierFactory(code="UPS"),
        tracking_number="1Z0001",
        created_by=manager,
    )

    outcomes, errors = race(
        lambda _: confirm_shipment(shipment_id=shipment.pk, actor=manager).state, 4
    )

    assert outcomes == ["shipped"]
    assert {error.errors[0].code for error in errors} == {"already_shipped"}
    assert StockLedgerEntry.objects.filter(kind="shipment").count() == 1
    assert find_balance_differences() == []
