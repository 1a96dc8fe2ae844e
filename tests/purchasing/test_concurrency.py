"""Two dock scanners racing for the last open units of one PO line: real threads, real
PostgreSQL connections, real row locks."""

import threading

import pytest
from django.db import connections

from erp.errors import Conflict
from inventory.models import StockBalance, StockLedgerEntry
from purchasing.models import Receipt
from purchasing.services import purchase_orders, receiving
from tests.purchasing.conftest import line_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_receipts_racing_for_the_last_open_units_never_over_receive(
    supplier, dock, tee_item, buyer, warehouse_user
):
    po = purchase_orders.create_purchase_order(
        supplier=supplier,
        destination=dock,
        actor=buyer,
        lines=[{"sku": tee_item.sku, "quantity": 10}],
    )
    purchase_orders.submit_purchase_order(purchase_order=po, actor=buyer)
    receiving.receive_goods(
        purchase_order=po,
        actor=warehouse_user,
        lines=[{"line_id": line_of(po, tee_item.sku).pk, "quantity": 4}],
    )
    line_id = line_of(po, tee_item.sku).pk
    workers = 6
    start = threading.Barrier(workers)
    outcomes, guard = [], threading.Lock()

    def scan():
        try:
            start.wait()
            try:
                receiving.receive_goods(
                    purchase_order=po,
                    actor=warehouse_user,
                    lines=[{"line_id": line_id, "quantity": 6}],
                )
                outcome = "received"
            except Conflict as refused:
                outcome = refused.errors[0].code
            with guard:
                outcomes.append(outcome)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scan) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["over_receipt_needs_approval"] * (workers - 1) + ["received"]
    line = line_of(po, tee_item.sku)
    assert line.quantity_received == 10
    assert Receipt.objects.filter(purchase_order=po).count() == 2
    assert (
        sum(StockLedgerEntry.objects.filter(sku=tee_item.sku).values_list("quantity", flat=True))
        == 10
    )
    assert (
        StockBalance.objects.get(sku=tee_item.sku, location=dock, status="sellable").on_hand == 10
    )
    po.refresh_from_db()
    assert po.state == "received"
