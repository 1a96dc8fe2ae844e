"""verify_ledger: clean books pass; an inventory posting without its stock movement (or a
movement without its posting) is a difference, exit status 1, with the figures."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from erp import events
from finance.services.verification import ledger_differences
from inventory.services.ledger import Movement, post_movements
from tests.factories.returns import ShippedLine, shipped_order
from tests.finance.helpers import shipment_event

pytestmark = pytest.mark.django_db


def test_clean_books_pass(sale):
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    assert "verify_ledger: ok" in out.getvalue()
    assert "inventory account 12.00 valuation 12.00 difference 0.00" in out.getvalue()


def test_a_shipment_posted_without_its_stock_leaving_is_a_difference(sale, node):
    mug = sale.lines.get().sku
    other = shipped_order(sale.channel, [ShippedLine(mug, 1, Decimal("20.00"))], location=node)
    events.publish(shipment_event(other, cost=None))
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exit_status:
        call_command("verify_ledger", stdout=out, stderr=err)
    assert exit_status.value.code == 1
    assert "inventory account 8.00 valuation 12.00 difference -4.00" in out.getvalue()
    assert "do not agree" in err.getvalue()


def test_stock_moved_without_a_posting_is_a_difference(sale, node, manager):
    mug = sale.lines.get().sku
    post_movements(
        movements=[Movement(mug.pk, node.pk, "sellable", -1)], kind="shipment", actor=manager
    )
    check = ledger_differences()
    assert not check.clean and check.inventory_difference == Decimal("4.00")
