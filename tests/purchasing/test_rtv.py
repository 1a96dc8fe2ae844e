"""Returns to vendor: a returns claim → RTV → the supplier's authorization → shipped out
of quarantine through the ledger → credit note; events for finance."""

from decimal import Decimal

import pytest
from django.urls import reverse

from erp import events
from erp.errors import Conflict, NotPermitted, ValidationFailed
from inventory.models import StockBalance, StockLedgerEntry, StockStatus
from inventory.services.movements import receive_stock
from purchasing import events as names
from purchasing.models import ReturnToVendor
from purchasing.services import performance, rtv


def _claim(claim_id, supplier, sku, dock, quantity, unit_cost="4.0000"):
    events.publish(
        events.DomainEvent(
            performance.SUPPLIER_CLAIM_OPENED,
            {
                "claim_id": claim_id,
                "rma_id": 1,
                "sku_id": sku.pk,
                "location_id": dock.pk,
                "supplier": supplier.code,
                "quantity": quantity,
                "unit_cost": unit_cost,
                "amount": str(Decimal(unit_cost) * quantity),
                "reason": "defective",
                "occurred_at": "2026-11-20T10:00:00+00:00",
            },
        )
    )


def _quarantine(sku, dock):
    return (
        StockBalance.objects.filter(sku=sku, location=dock, status=StockStatus.QUARANTINE)
        .values_list("on_hand", flat=True)
        .first()
    )


@pytest.fixture
def heard():
    seen = []
    for name in (names.RTV_SHIPPED, names.SUPPLIER_CREDIT_RECORDED):
        events.subscribe(name)(seen.append)
    yield seen
    for name in (names.RTV_SHIPPED, names.SUPPLIER_CREDIT_RECORDED):
        events.unsubscribe(name, seen.append)


def test_an_rtv_ships_quarantined_units_back_and_closes_with_a_credit(
    supplier, dock, tee, mug, buyer, warehouse_user, heard
):
    receive_stock(
        sku=tee, location=dock, quantity=3, actor=warehouse_user, status=StockStatus.QUARANTINE
    )
    receive_stock(
        sku=mug, location=dock, quantity=1, actor=warehouse_user, status=StockStatus.QUARANTINE
    )
    _claim(11, supplier, tee, dock, 3)
    _claim(12, supplier, mug, dock, 1, unit_cost="2.5000")

    opened = rtv.open_rtv(supplier=supplier, actor=buyer)
    assert opened.number == f"RTV-{opened.pk:06d}" and opened.lines.count() == 2
    assert not rtv.awaiting_rtv(supplier).exists()
    with pytest.raises(Conflict):
        rtv.ship(rtv=opened, actor=warehouse_user)  # not authorized yet
    with pytest.raises(ValidationFailed):
        rtv.authorize(rtv=opened, authorization_ref="  ", actor=buyer)
    rtv.authorize(rtv=opened, authorization_ref="ACME-RMA-77", actor=buyer)

    shipped = rtv.ship(rtv=opened, actor=warehouse_user)
    assert shipped.state == ReturnToVendor.State.SHIPPED
    assert _quarantine(tee, dock) == 0 and _quarantine(mug, dock) == 0
    entries = StockLedgerEntry.objects.filter(reference=opened.number)
    assert sorted(entries.values_list("quantity", flat=True)) == [-3, -1]
    assert set(entries.values_list("status", flat=True)) == {"quarantine"}
    assert heard[0].name == names.RTV_SHIPPED
    assert heard[0].payload["total"] == "14.50"  # 3 × 4.00 + 1 × 2.50
    assert heard[0].payload["supplier_id"] == supplier.pk

    with pytest.raises(ValidationFailed) as refused:
        rtv.record_credit(rtv=opened, credit_note_ref="CN-1", amount="-5", actor=buyer)
    assert refused.value.errors[0].field == "amount"
    credited = rtv.record_credit(rtv=opened, credit_note_ref="CN-1", amount="14.50", actor=buyer)
    assert credited.state == ReturnToVendor.State.CREDITED
    assert heard[1].payload == {
        "rtv_id": opened.pk,
        "supplier_id": supplier.pk,
        "amount": "14.50",
        "credit_note_ref": "CN-1",
    }


def test_shipping_more_than_quarantine_holds_is_refused_and_nothing_is_written(
    supplier, dock, tee, buyer, warehouse_user
):
    receive_stock(
        sku=tee, location=dock, quantity=1, actor=warehouse_user, status=StockStatus.QUARANTINE
    )
    _claim(21, supplier, tee, dock, 2)
    opened = rtv.open_rtv(supplier=supplier, actor=buyer)
    rtv.authorize(rtv=opened, authorization_ref="R-1", actor=buyer)
    with pytest.raises(Exception):  # noqa: B017  the ledger refuses a negative balance
        rtv.ship(rtv=opened, actor=warehouse_user)
    opened.refresh_from_db()
    assert opened.state == ReturnToVendor.State.AUTHORIZED
    assert _quarantine(tee, dock) == 1


def test_who_may_and_the_unanswered_queue(supplier, dock, tee, buyer, client, role_groups):
    from erp import roles
    from tests.factories import UserFactory

    _claim(31, supplier, tee, dock, 1)
    finance = UserFactory(username="fin-rtv", roles=[roles.FINANCE])
    with pytest.raises(NotPermitted):
        rtv.open_rtv(supplier=supplier, actor=finance)
    client.force_login(buyer)
    page = client.get(reverse("purchasing:supplier-detail", args=[supplier.pk])).content.decode()
    assert "CLM-31" in page and "Open RTV" in page
    response = client.post(reverse("purchasing:rtv-open", args=[supplier.pk]))
    assert response.status_code == 302
    opened = ReturnToVendor.objects.get()
    queue = client.get(reverse("exception-queue", args=["rtv-unanswered"])).content.decode()
    assert opened.number in queue
    client.post(
        reverse("purchasing:rtv-action", args=[opened.pk, "authorize"]),
        {"authorization_ref": "AUTH-9"},
    )
    opened.refresh_from_db()
    assert opened.state == "authorized" and opened.authorization_ref == "AUTH-9"
