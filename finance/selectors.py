"""Every non-trivial read of the books: the journal, the trial balance, a document's
postings, margin from the postings, and valuation by node. The API and the back office
both read here, so both show the same figures."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import DecimalField, F, Prefetch, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from erp.models import Location
from finance.models import Account, JournalEntry, JournalLine, Period, PeriodStatus
from inventory.services import costing

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=16, decimal_places=2)


def accounts() -> QuerySet[Account]:
    return Account.objects.select_related("channel").order_by("code")


def journal_entries(
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    account_id: int | None = None,
    source_kind: str = "",
    source_id: int | None = None,
    order_id: int | None = None,
    period_id: int | None = None,
    search: str = "",
) -> QuerySet[JournalEntry]:
    """Entries newest first with their period, poster, lines and accounts: three queries
    for a page whatever its size."""
    entries = JournalEntry.objects.select_related("period", "posted_by", "reversal_of")
    if date_from:
        entries = entries.filter(date__gte=date_from)
    if date_to:
        entries = entries.filter(date__lte=date_to)
    if account_id:
        entries = entries.filter(lines__account_id=account_id)
    if order_id:
        entries = entries.filter(lines__order_id=order_id)
    if source_kind:
        entries = entries.filter(source_kind=source_kind)
    if source_id is not None:
        entries = entries.filter(source_id=source_id)
    if period_id:
        entries = entries.filter(period_id=period_id)
    if search:
        entries = entries.filter(Q(memo__icontains=search) | Q(source_ref__icontains=search))
    if account_id or order_id:
        entries = entries.distinct()
    lines = JournalLine.objects.select_related("account", "channel", "sku", "order", "location")
    return entries.prefetch_related(Prefetch("lines", queryset=lines.order_by("id"))).order_by(
        "-date", "-id"
    )


def entry_total(entry: JournalEntry) -> Decimal:
    return sum((line.debit for line in entry.lines.all()), ZERO)


def document_postings(source_kind: str, source_id: int) -> QuerySet[JournalEntry]:
    """Every entry a document posted, and the reversals of those entries."""
    own = JournalEntry.objects.filter(source_kind=source_kind, source_id=source_id)
    reversals = JournalEntry.objects.filter(reversal_of__in=own.values("id"))
    return journal_entries().filter(Q(pk__in=own.values("id")) | Q(pk__in=reversals.values("id")))


@dataclass
class BalanceRow:
    account: Account
    currency: str
    debits: Decimal
    credits: Decimal

    @property
    def balance(self) -> Decimal:
        """Positive on the account's normal side."""
        net = self.debits - self.credits
        return net if self.account.debit_normal else -net

    @property
    def debit_balance(self) -> Decimal:
        return max(self.debits - self.credits, ZERO)

    @property
    def credit_balance(self) -> Decimal:
        return max(self.credits - self.debits, ZERO)


@dataclass
class TrialBalance:
    rows: list[BalanceRow] = field(default_factory=list)

    def totals(self) -> dict[str, tuple[Decimal, Decimal]]:
        result = defaultdict(lambda: [ZERO, ZERO])
        for row in self.rows:
            result[row.currency][0] += row.debit_balance
            result[row.currency][1] += row.credit_balance
        return {currency: tuple(pair) for currency, pair in sorted(result.items())}

    @property
    def balanced(self) -> bool:
        return all(debits == credits for debits, credits in self.totals().values())


def trial_balance(*, as_of: date | None = None) -> TrialBalance:
    """Debit and credit totals per account and currency up to `as_of`. Two queries."""
    lines = JournalLine.objects.all()
    if as_of:
        lines = lines.filter(entry__date__lte=as_of)
    sums = (
        lines.values("account_id", "currency")
        .annotate(debits=Sum("debit"), credits=Sum("credit"))
        .order_by()
    )
    by_id = {account.pk: account for account in accounts()}
    rows = [
        BalanceRow(by_id[row["account_id"]], row["currency"], row["debits"], row["credits"])
        for row in sums
    ]
    rows.sort(key=lambda row: (row.account.code, row.currency))
    return TrialBalance(rows)


def periods() -> QuerySet[Period]:
    return Period.objects.select_related("closed_by", "locked_by").order_by("-year", "-month")


def open_period_count() -> int:
    return Period.objects.filter(status=PeriodStatus.OPEN).count()


# Margin: what each figure adds up from the postings, by account role.
MARGIN_ROLES = {
    "revenue": ("revenue", "shipping_income", "restocking_fees"),
    "refunds": ("refunds",),
    "cogs": ("cogs",),
    "fees": ("marketplace_fees",),
    "shipping": ("shipping_expense",),
}
MARGIN_GROUPS = {
    "channel": ("channel_id", "channel__code", "channel__name"),
    "sku": ("sku_id", "sku__code", "sku__name"),
    "order": ("order_id", "order__order_number", "order__external_id"),
}


@dataclass(frozen=True)
class MarginRow:
    key: int | None
    label: str
    detail: str
    revenue: Decimal
    refunds: Decimal
    cogs: Decimal
    fees: Decimal
    shipping: Decimal

    @property
    def margin(self) -> Decimal:
        return self.revenue - self.refunds - self.cogs - self.fees - self.shipping

    @property
    def margin_percent(self) -> Decimal | None:
        if not self.revenue:
            return None
        return (self.margin * 100 / self.revenue).quantize(Decimal("0.1"))


def _figure(roles, *, credit_normal: bool):
    amount = F("credit") - F("debit") if credit_normal else F("debit") - F("credit")
    return Coalesce(
        Sum(amount, filter=Q(account__role__in=roles), output_field=MONEY),
        Value(ZERO),
        output_field=MONEY,
    )


def margin_rows(
    *,
    group: str = "channel",
    date_from: date | None = None,
    date_to: date | None = None,
    channel_id: int | None = None,
):
    """Revenue − refunds − COGS − marketplace fees − shipping cost per channel, SKU or
    order, summed from the journal lines' dimensions in one query (a generator, so the CSV
    export streams). Rows without the dimension (shipping cost has no SKU) come as one row
    with no key."""
    key, label, detail = MARGIN_GROUPS[group]
    all_roles = [role for roles in MARGIN_ROLES.values() for role in roles]
    lines = JournalLine.objects.filter(account__role__in=all_roles)
    if date_from:
        lines = lines.filter(entry__date__gte=date_from)
    if date_to:
        lines = lines.filter(entry__date__lte=date_to)
    if channel_id:
        lines = lines.filter(channel_id=channel_id)
    rows = (
        lines.values(key, label, detail)
        .annotate(
            revenue=_figure(MARGIN_ROLES["revenue"], credit_normal=True),
            refunds=_figure(MARGIN_ROLES["refunds"], credit_normal=False),
            cogs=_figure(MARGIN_ROLES["cogs"], credit_normal=False),
            fees=_figure(MARGIN_ROLES["fees"], credit_normal=False),
            shipping=_figure(MARGIN_ROLES["shipping"], credit_normal=False),
        )
        .order_by(F("revenue").desc(), key)
    )
    for row in rows.iterator(chunk_size=2000):
        yield MarginRow(
            key=row[key],
            label=row[label] or "",
            detail=row[detail] or "",
            revenue=row["revenue"],
            refunds=row["refunds"],
            cogs=row["cogs"],
            fees=row["fees"],
            shipping=row["shipping"],
        )


def margin_total(rows: list[MarginRow]) -> MarginRow:
    return MarginRow(
        key=None,
        label="Total",
        detail="",
        **{
            name: sum((getattr(row, name) for row in rows), ZERO)
            for name in ("revenue", "refunds", "cogs", "fees", "shipping")
        },
    )


@dataclass(frozen=True)
class NodeValuation:
    location: Location
    units: int
    value: Decimal
    skus: int


def valuation_by_node() -> list[NodeValuation]:
    """Stock on hand (every status) at valuation cost, per node."""
    totals = defaultdict(lambda: [0, ZERO, 0])
    for row in costing.valuation():
        node = totals[row.location_id]
        node[0] += row.on_hand
        node[1] += row.value
        node[2] += 1
    nodes = Location.objects.in_bulk(list(totals))
    return sorted(
        (NodeValuation(nodes[pk], *figures) for pk, figures in totals.items()),
        key=lambda row: row.location.code,
    )


def inventory_account_balance() -> Decimal:
    figures = JournalLine.objects.filter(account__role="inventory").aggregate(
        debits=Sum("debit"), credits=Sum("credit")
    )
    return (figures["debits"] or ZERO) - (figures["credits"] or ZERO)
