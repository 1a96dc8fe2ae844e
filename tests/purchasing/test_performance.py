"""Supplier performance with known answers: on time, lead time, fill rate, defect rate."""

import datetime as dt
from decimal import Decimal

import time_machine
from django.urls import reverse

from erp import events
from purchasing.models import SupplierDefect
from purchasing.services import performance, purchase_orders

DAY0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def day(n):
    return time_machine.travel(DAY0 + dt.timedelta(days=n), tick=False)


def _sent_po(supplier, dock, buyer, lines):
    po = purchase_orders.create_purchase_order(
        supplier=supplier, destination=dock, actor=buyer, lines=lines
    )
    purchase_orders.submit_purchase_order(purchase_order=po, actor=buyer)
    po.refresh_from_db()
    return po


def _claim(claim_id, supplier_name, sku, dock, quantity):
    events.publish(
        events.DomainEvent(
            performance.SUPPLIER_CLAIM_OPENED,
            {
                "claim_id": claim_id,
                "rma_id": 1,
                "sku_id": sku.pk,
                "location_id": dock.pk,
                "supplier": supplier_name,
                "quantity": quantity,
                "unit_cost": "4.0000",
                "amount": f"{4 * quantity}.00",
                "reason": "defective",
                "occurred_at": (DAY0 + dt.timedelta(days=18)).isoformat(),
            },
        )
    )


def test_known_figures(supplier, dock, tee_item, mug_item, buyer, receive, client):
    with day(0):
        first = _sent_po(
            supplier,
            dock,
            buyer,
            [{"sku": tee_item.sku, "quantity": 10}, {"sku": mug_item.sku, "quantity": 12}],
        )
    assert first.state == "sent" and first.expected_date == dt.date(2026, 11, 12)
    with day(8):
        receive(first, tee_item.sku, 10)  # complete, 2 days early: 8 of 10 promised days
    with day(13):
        receive(first, mug_item.sku, 6)  # half, after the expected date: late
    with day(15):
        _sent_po(supplier, dock, buyer, [{"sku": tee_item.sku, "quantity": 20}])  # not due
    _claim(501, "acme supply", tee_item.sku, dock, 2)  # matched by name, case aside
    _claim(501, "acme supply", tee_item.sku, dock, 2)  # the same claim heard twice
    _claim(502, "Somebody Else", tee_item.sku, dock, 1)

    with day(20):
        figures = performance.supplier_performance([supplier.pk])[supplier.pk]
    assert (figures.lines_due, figures.lines_on_time, figures.on_time_percent) == (2, 1, 50.0)
    assert (figures.mean_actual_days, figures.mean_promised_days) == (8.0, 10.0)
    assert (figures.mean_delay_days, figures.within_lead_time_percent) == (-2.0, 100.0)
    # PO 1 is partly received: 10 + 6 of 22; PO 2 is neither received nor due.
    assert (figures.units_filled, figures.units_ordered, figures.fill_rate_percent) == (
        16,
        22,
        72.7,
    )
    assert (figures.units_defective, figures.units_received, figures.defect_rate_percent) == (
        2,
        16,
        12.5,
    )
    assert SupplierDefect.objects.count() == 2
    assert SupplierDefect.objects.get(claim_id=502).supplier is None
    assert SupplierDefect.objects.get(claim_id=501).amount == Decimal("8.00")

    client.force_login(buyer)
    with day(20):
        html = client.get(reverse("purchasing:supplier-detail", args=[supplier.pk])).content
    page = html.decode()
    assert "50.0%" in page and "72.7%" in page and "12.5%" in page and "CLM-501" in page


def test_a_supplier_without_history_shows_no_figures(supplier, buyer, client):
    figures = performance.for_supplier(supplier)
    assert figures.on_time_percent is None and figures.fill_rate_percent is None
    client.force_login(buyer)
    response = client.get(reverse("purchasing:supplier-detail", args=[supplier.pk]))
    assert response.status_code == 200 and "Performance" in response.content.decode()
