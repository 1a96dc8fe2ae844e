from decimal import Decimal

import pytest

from erp import roles
from inventory.services.verification import find_balance_differences
from purchasing.services import purchase_orders, receiving
from tests.factories import EndpointFactory, LocationFactory, SkuFactory, UserFactory
from tests.factories.purchasing import SupplierFactory, SupplierItemFactory


@pytest.fixture
def buyer(role_groups):
    return UserFactory(username="buyer-user", roles=[roles.BUYER])


@pytest.fixture
def dock(db):
    return LocationFactory(code="WH-DOCK")


@pytest.fixture
def mail_relay(db):
    return EndpointFactory(code="supplier-mail", url="https://mailer.example.com/po")


@pytest.fixture
def supplier(mail_relay):
    return SupplierFactory(code="ACME", name="Acme Supply")


@pytest.fixture
def tee(db):
    return SkuFactory(code="TEE", unit_cost=Decimal("10.00"), weight_grams=200)


@pytest.fixture
def mug(db):
    return SkuFactory(code="MUG", unit_cost=Decimal("6.00"), weight_grams=600)


@pytest.fixture
def tee_item(supplier, tee):
    return SupplierItemFactory(
        supplier=supplier, sku=tee, unit_cost=Decimal("4.00"), lead_time_days=10
    )


@pytest.fixture
def mug_item(supplier, mug):
    return SupplierItemFactory(
        supplier=supplier, sku=mug, unit_cost=Decimal("3.00"), moq=12, pack_multiple=6
    )


@pytest.fixture
def sent_po(supplier, dock, tee_item, mug_item, buyer):
    """A PO under the approval threshold, submitted and so sent: 10 TEE + 12 MUG."""
    purchase_order = purchase_orders.create_purchase_order(
        supplier=supplier,
        destination=dock,
        actor=buyer,
        lines=[{"sku": tee_item.sku, "quantity": 10}, {"sku": mug_item.sku, "quantity": 12}],
    )
    purchase_orders.submit_purchase_order(purchase_order=purchase_order, actor=buyer)
    purchase_order.refresh_from_db()
    return purchase_order


def line_of(purchase_order, sku):
    return purchase_order.lines.get(sku=sku)


@pytest.fixture
def receive(warehouse_user):
    def scan(purchase_order, sku, quantity, **kwargs):
        return receiving.receive_goods(
            purchase_order=purchase_order,
            actor=warehouse_user,
            lines=[{"line_id": line_of(purchase_order, sku).pk, "quantity": quantity, **kwargs}],
        )

    return scan


@pytest.fixture(autouse=True)
def balances_always_match_the_ledger(request):
    """After every purchasing test, balances equal the ledger (the verify_inventory rule)."""
    if "transactional_db" not in request.fixturenames:
        request.getfixturevalue("db")
    yield
    assert find_balance_differences() == []


# --- replenishment (planner) ---


@pytest.fixture
def planner(role_groups):
    return UserFactory(username="planner", roles=[roles.BUYER])


@pytest.fixture
def node(db):
    return LocationFactory(code="WH-PLAN")


@pytest.fixture
def vendor(db):
    return SupplierFactory(code="VEND", name="Vendor")
