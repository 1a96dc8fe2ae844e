"""Opening stock: units loaded straight into the balances (a go-live import, a benchmark's
set-based seed) go on the books once, at valuation, against opening balance equity."""

from decimal import Decimal

import pytest

from erp.benchmarks import opening_stock_loaded
from finance.models import Account, JournalLine
from finance.services.opening import post_opening_stock
from finance.services.verification import ledger_differences
from inventory.models import StockBalance
from inventory.services.movements import receive_stock
from tests.factories import LocationFactory, SkuFactory

pytestmark = pytest.mark.django_db


def _balance(role: str) -> Decimal:
    lines = JournalLine.objects.filter(account__role=role, account__channel__isnull=True)
    return sum((line.debit - line.credit for line in lines), Decimal("0"))


def test_stock_loaded_outside_the_services_is_posted_once_at_valuation(manager):
    node = LocationFactory()
    mug = SkuFactory(unit_cost=Decimal("4.00"))
    receive_stock(sku=mug, location=node, quantity=2, actor=manager)  # posts 8.00 itself
    lamp = SkuFactory(unit_cost=Decimal("12.50"))
    StockBalance.objects.create(sku=lamp, location=node, status="sellable", on_hand=3)
    assert not ledger_differences().clean  # 37.50 of lamps not on the books

    entry = post_opening_stock(actor=manager)

    assert entry is not None and entry.source_kind == "opening_stock"
    assert _balance("inventory") == Decimal("45.50")
    assert _balance("opening_balance") == Decimal("-37.50")
    assert ledger_differences().clean
    assert post_opening_stock(actor=manager) is None  # again: nothing left to post
    assert Account.objects.get(role="opening_balance").lines.count() == 1


def test_stock_that_left_outside_the_services_is_credited_back(manager):
    node = LocationFactory()
    mug = SkuFactory(unit_cost=Decimal("4.00"))
    receive_stock(sku=mug, location=node, quantity=5, actor=manager)
    StockBalance.objects.filter(sku=mug).update(on_hand=3)

    post_opening_stock(actor=manager)

    assert _balance("inventory") == Decimal("12.00")
    assert ledger_differences().clean


def test_benchmarks_reach_finance_through_the_opening_stock_hook(manager):
    node = LocationFactory()
    StockBalance.objects.create(
        sku=SkuFactory(unit_cost=Decimal("2.00")), location=node, status="sellable", on_hand=10
    )
    opening_stock_loaded(manager)
    assert _balance("inventory") == Decimal("20.00")
