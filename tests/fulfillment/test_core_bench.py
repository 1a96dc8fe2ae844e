"""`bench ship` end to end on a few orders: every order ships and the ledger verifies."""

import pytest

from erp.benchmarks import get_benchmark
from inventory.services.verification import find_balance_differences
from orders.models import Order

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class Lines:
    def __init__(self):
        self.lines = []

    def write(self, text):
        self.lines.append(text)


def test_the_ship_benchmark_ships_every_order_and_finds_no_differences(role_groups):
    out = Lines()

    value, unit = get_benchmark("ship").run(out, orders=12)

    assert unit == "orders/s" and value > 0
    assert Order.objects.filter(state="shipped").count() == 12
    assert "12 orders shipped" in " ".join(out.lines)
    assert out.lines[-1] == "verify_inventory: 0 differences"
    assert find_balance_differences() == []
