"""Opening stock: units that reached the balances without passing the ledger services'
posting rules (a go-live import of what is already on the shelves) are put on the books
once, Dr inventory / Cr opening balance equity, at their valuation."""

from django.conf import settings
from django.db import transaction

from finance.models import JournalEntry
from finance.services.chart import accounts_for
from finance.services.posting import credit, debit, post_entry
from finance.services.verification import ledger_differences

OPENING_STOCK = "opening_stock"


@transaction.atomic
def post_opening_stock(*, actor, memo: str = "Opening stock") -> JournalEntry | None:
    """Post the difference between the valuation of stock on hand and the inventory
    account (a negative difference credits inventory). Nothing when they already agree, so
    running it again posts nothing."""
    difference = -ledger_differences().inventory_difference
    if not difference:
        return None
    acc = accounts_for({"inventory", "opening_balance"})
    currency = settings.BASE_CURRENCY
    return post_entry(
        lines=[
            debit(acc["inventory"], difference, currency=currency),
            credit(acc["opening_balance"], difference, currency=currency),
        ],
        memo=memo,
        source_kind=OPENING_STOCK,
        actor=actor,
    )
