import pytest

from inventory.models import StockBalance, StockLedgerEntry
from inventory.services.movements import receive_stock
from inventory.services.verification import find_balance_differences
from tests.factories import ChannelFactory, LocationFactory, SkuFactory


@pytest.fixture
def node(db):
    return LocationFactory(code="WH-A")


@pytest.fixture
def second_node(db):
    return LocationFactory(code="WH-B")


@pytest.fixture
def sku(db):
    return SkuFactory(code="TEE", unit_cost="10.00")


@pytest.fixture
def channel(node, second_node):
    return ChannelFactory(code="WEB", eligible_locations=[node, second_node])


@pytest.fixture
def stocked(manager):
    """Receive stock as a manager: stocked(sku, node, 10)."""

    def receive(sku, location, quantity, **kwargs):
        receive_stock(sku=sku, location=location, quantity=quantity, actor=manager, **kwargs)

    return receive


def balance(sku, location, status="sellable") -> StockBalance:
    return StockBalance.objects.filter(
        sku=sku, location=location, status=status
    ).first() or StockBalance(on_hand=0, reserved=0)


def ledger_sum(sku, location, status="sellable") -> int:
    return sum(
        StockLedgerEntry.objects.filter(sku=sku, location=location, status=status).values_list(
            "quantity", flat=True
        )
    )


@pytest.fixture(autouse=True)
def balances_always_match_the_ledger(request):
    """After every inventory test, balances equal the ledger (the verify_inventory rule)."""
    yield
    if "db" in request.fixturenames or "transactional_db" in request.fixturenames:
        assert find_balance_differences() == []
