from decimal import Decimal

import pytest

from erp import events
from finance.services.verification import ledger_differences
from fulfillment.models import Shipment
from inventory.services.ledger import Movement, post_movements
from inventory.services.movements import receive_stock
from inventory.services.verification import find_balance_differences
from tests.factories import ChannelFactory, SkuFactory
from tests.factories.returns import ShippedLine, shipped_order
from tests.finance.helpers import shipment_event
from tests.returns.conftest import (  # noqa: F401  fixtures shared with the returns tests
    authorize,
    changed_mind,
    defective,
    node,
    policy,
    shop,
    tee,
    tee_order,
)


@pytest.fixture
def books_balance():
    """Assert after the test that the stock ledger and the books both check clean."""
    yield
    assert find_balance_differences() == []
    assert ledger_differences().clean, ledger_differences().lines()


@pytest.fixture
def sale(node, manager):  # noqa: F811  the shared `node` fixture
    amazon = ChannelFactory(code="AMZ", kind="amazon", fee_rate=Decimal("0.10"))
    sku = SkuFactory(code="MUG", unit_cost=Decimal("4.00"))
    receive_stock(sku=sku, location=node, quantity=5, actor=manager)
    order = shipped_order(amazon, [ShippedLine(sku, 2, Decimal("20.00"))], location=node)
    shipment = Shipment.objects.get(order=order)
    # The factory builds the shipped order; the stock leaves as the warehouse ships it.
    post_movements(
        movements=[Movement(sku.pk, node.pk, "sellable", -2)],
        kind="shipment",
        actor=manager,
        reference=shipment.number,
    )
    events.publish(shipment_event(order, cost="5.00"))
    return order
