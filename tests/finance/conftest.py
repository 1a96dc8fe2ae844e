import pytest

from finance.services.verification import ledger_differences
from inventory.services.verification import find_balance_differences
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
