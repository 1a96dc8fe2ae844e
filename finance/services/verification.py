"""The books check: the trial balance balances in every currency, and the inventory
account equals the valuation of the stock on hand (`inventory.services.costing`).

Postings are rounded to the cent one by one while the valuation rounds each SKU and node's
value once, so the two may drift apart by rounding alone: at most half a cent per inventory
posting line and per valuation row. A difference within that is reported, not failed;
anything beyond it is a missed or wrong posting.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Q, Sum

from finance.models import JournalLine
from inventory.services import costing

HALF_CENT = Decimal("0.005")


@dataclass
class LedgerCheck:
    totals: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)
    inventory_account: Decimal = Decimal("0.00")
    valuation: Decimal = Decimal("0.00")
    tolerance: Decimal = Decimal("0.00")

    @property
    def unbalanced(self) -> dict[str, tuple[Decimal, Decimal]]:
        return {cur: pair for cur, pair in self.totals.items() if pair[0] != pair[1]}

    @property
    def inventory_difference(self) -> Decimal:
        return self.inventory_account - self.valuation

    @property
    def clean(self) -> bool:
        return not self.unbalanced and abs(self.inventory_difference) <= self.tolerance

    def lines(self) -> list[str]:
        out = []
        for currency, (debits, credits) in sorted(self.totals.items()):
            mark = "ok" if debits == credits else "DIFFERENCE"
            out.append(
                f"trial balance {currency}: debits {debits} credits {credits} "
                f"difference {debits - credits} {mark}"
            )
        if not self.totals:
            out.append("trial balance: no postings")
        mark = "ok" if abs(self.inventory_difference) <= self.tolerance else "DIFFERENCE"
        out.append(
            f"inventory account {self.inventory_account} valuation {self.valuation} "
            f"difference {self.inventory_difference} (rounding tolerance {self.tolerance}) {mark}"
        )
        return out


def ledger_differences() -> LedgerCheck:
    """Three queries for the books, the valuation's own for the stock."""
    check = LedgerCheck()
    for row in (
        JournalLine.objects.values("currency")
        .annotate(debits=Sum("debit"), credits=Sum("credit"))
        .order_by("currency")
    ):
        check.totals[row["currency"]] = (row["debits"], row["credits"])
    inventory = JournalLine.objects.filter(account__role="inventory", account__channel__isnull=True)
    figures = inventory.aggregate(
        debits=Sum("debit"), credits=Sum("credit"), lines=Count("id", filter=Q(id__isnull=False))
    )
    check.inventory_account = (figures["debits"] or 0) - (figures["credits"] or 0)
    rows = costing.valuation()
    check.valuation = sum((row.value for row in rows), Decimal("0.00"))
    check.tolerance = HALF_CENT * (figures["lines"] + len(rows)) if _inexact(rows) else Decimal(0)
    check.inventory_account = Decimal(check.inventory_account).quantize(Decimal("0.01"))
    return check


def _inexact(rows) -> bool:
    """Rounding can only part the figures when some unit cost has fractions of a cent."""
    return any(row.unit_cost != row.unit_cost.quantize(Decimal("0.01")) for row in rows)
