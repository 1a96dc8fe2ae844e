"""Marketplace settlements: what a channel paid out, line by line, and what did not match.

A `Settlement` is one payout report (Amazon flat file V2, a Shopify Payments payout with
its balance transactions, an eBay Finances payout's transactions), normalized into signed
`SettlementLine`s in the settlement's currency (positive: money to the seller).
Reconciliation matches the lines to orders and the ledger's expectations; what does not
match lands in the *settlement variances* queue as a `SettlementVariance`.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from erp.models import Channel
from finance.models.journal import JournalEntry
from orders.models import Order

MONEY = {"max_digits": 14, "decimal_places": 2}


class SettlementSource(models.TextChoices):
    AMAZON_V2 = "amazon_v2", "Amazon settlement report (flat file V2)"
    SHOPIFY_PAYMENTS = "shopify_payments", "Shopify Payments payout"
    EBAY_FINANCES = "ebay_finances", "eBay Finances transactions"


class LineType(models.TextChoices):
    PRINCIPAL = "principal", "Principal"
    TAX = "tax", "Tax"
    SHIPPING = "shipping", "Shipping"
    FEE = "fee", "Fee"
    REFUND = "refund", "Refund"
    ADJUSTMENT = "adjustment", "Adjustment"
    RESERVE = "reserve", "Reserve"
    PAYOUT = "payout", "Payout"


class LineCategory(models.TextChoices):
    """How a line reconciles and posts (the parser decides it from the source's codes)."""

    SALE = "sale", "Order money (against the receivable)"
    COMMISSION = "commission", "Commission (against the expected fee)"
    WITHHELD_TAX = "withheld_tax", "Tax the marketplace collects and remits"
    OTHER_FEE = "other_fee", "Other marketplace fee"
    SHIPPING_LABEL = "shipping_label", "Shipping label"
    ADJUSTMENT = "adjustment", "Adjustment (reviewed by finance)"
    UNKNOWN = "unknown", "Unknown line type"
    RESERVE = "reserve", "Reserve held by the marketplace"
    PAYOUT = "payout", "Transfer to the bank"


class MatchStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    MATCHED = "matched", "Matched"
    VARIANCE = "variance", "Variance"
    POSTED = "posted", "Posted"
    PARKED = "parked", "Reserve"
    PAYOUT = "payout", "Payout"


class SettlementState(models.TextChoices):
    RECONCILED = "reconciled", "Reconciled"
    VARIANCES = "variances", "Open variances"


class Settlement(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=24, choices=SettlementSource.choices)
    external_id = models.CharField(max_length=64, help_text="The channel's settlement/payout id.")
    period_start = models.DateField(null=True, blank=True)
    period_end = models.DateField(null=True, blank=True)
    deposit_date = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    total_amount = models.DecimalField(**MONEY, help_text="Paid out to the bank.")
    sales_amount = models.DecimalField(**MONEY, default=Decimal("0"))
    fees_amount = models.DecimalField(**MONEY, default=Decimal("0"))
    refunds_amount = models.DecimalField(**MONEY, default=Decimal("0"))
    other_amount = models.DecimalField(**MONEY, default=Decimal("0"))
    line_count = models.PositiveIntegerField(default=0)
    order_count = models.PositiveIntegerField(default=0)
    matched_orders = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=255, blank=True)
    file_hash = models.CharField(max_length=64, unique=True)
    state = models.CharField(
        max_length=16, choices=SettlementState.choices, default=SettlementState.RECONCILED
    )
    journal_entry = models.ForeignKey(
        JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-imported_at", "-id"]
        permissions = [("upload_settlement", "Can upload marketplace settlements")]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="finance_settlement_once_per_source"
            ),
        ]

    def __str__(self):
        return f"{self.get_source_display().split(' (')[0]} {self.external_id}"


class SettlementLine(models.Model):
    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField(help_text="Row (TSV) or transaction (JSON) number.")
    type = models.CharField(max_length=12, choices=LineType.choices)
    category = models.CharField(max_length=16, choices=LineCategory.choices)
    raw_type = models.CharField(max_length=128, blank=True, help_text="The source's own codes.")
    description = models.CharField(max_length=255, blank=True)
    order_ref = models.CharField(max_length=128, blank=True)
    # No database constraint: 100,000 deferred key checks would double an import's commit;
    # the one writer (finance.services.settlements) takes the id from the orders it read.
    order = models.ForeignKey(
        Order,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    reference = models.CharField(max_length=128, blank=True)
    sku_ref = models.CharField(max_length=128, blank=True)
    amount = models.DecimalField(**MONEY, help_text="Signed: positive is money to the seller.")
    posted_on = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=MatchStatus.choices, default=MatchStatus.PENDING
    )

    class Meta:
        ordering = ["settlement", "line_no"]
        indexes = [
            models.Index(fields=["settlement", "line_no"]),
            models.Index(fields=["order", "category"]),
        ]

    def __str__(self):
        return f"{self.settlement_id}#{self.line_no} {self.type} {self.amount}"


class SettlementOrder(models.Model):
    """One order's figures in one settlement: what was expected and paid, and what the
    settlement cleared from the receivable and the expected fee (so a later settlement for
    the same order, a refund say, expects only what is left)."""

    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="orders")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="+", db_index=False)
    order_ref = models.CharField(max_length=128)
    currency = models.CharField(max_length=3)
    expected_gross = models.DecimalField(**MONEY)
    actual_gross = models.DecimalField(**MONEY)
    expected_fee = models.DecimalField(**MONEY)
    actual_fee = models.DecimalField(**MONEY)
    receivable_cleared = models.DecimalField(**MONEY)
    fee_cleared = models.DecimalField(**MONEY)
    matched = models.BooleanField(default=True)

    class Meta:
        ordering = ["settlement", "id"]
        indexes = [models.Index(fields=["order", "currency"])]


class VarianceKind(models.TextChoices):
    UNMATCHED_ORDER = "unmatched_order", "Order not found"
    AMOUNT_MISMATCH = "amount_mismatch", "Amount differs from the receivable"
    FEE_MISMATCH = "fee_mismatch", "Fee differs from the expected fee"
    UNKNOWN_TYPE = "unknown_type", "Unknown line type"
    ADJUSTMENT = "adjustment", "Adjustment to review"


class VarianceState(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    DISPUTED = "disputed", "Disputed"


class SettlementVariance(models.Model):
    """What a settlement paid that the books did not expect. `difference` = actual −
    expected (money to the seller) and sits in the channel's clearing account until
    finance accepts it (to the settlement variance account) or disputes it."""

    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="variances")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=VarianceKind.choices)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    order_ref = models.CharField(max_length=128, blank=True)
    line = models.ForeignKey(
        SettlementLine, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    description = models.CharField(max_length=255, blank=True)
    currency = models.CharField(max_length=3)
    expected = models.DecimalField(**MONEY)
    actual = models.DecimalField(**MONEY)
    difference = models.DecimalField(**MONEY)
    state = models.CharField(
        max_length=10, choices=VarianceState.choices, default=VarianceState.OPEN
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    journal_entry = models.ForeignKey(
        JournalEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        ordering = ["created_at", "id"]
        permissions = [("decide_settlementvariance", "Can accept or dispute settlement variances")]
        indexes = [models.Index(fields=["state", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="accepted") | Q(journal_entry__isnull=False) | Q(difference=0),
                name="finance_variance_accepted_is_posted",
            ),
        ]

    def __str__(self):
        return f"Variance #{self.pk} {self.get_kind_display()} {self.difference} {self.currency}"


class ImportState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class SettlementImport(models.Model):
    """One upload, imported by a Celery task; the page polls `processed` / `total`."""

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=24, choices=SettlementSource.choices)
    file_name = models.CharField(max_length=255, blank=True)
    content = models.BinaryField()
    size = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=8, choices=ImportState.choices, default=ImportState.QUEUED)
    stage = models.CharField(max_length=64, blank=True)
    processed = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    settlement = models.ForeignKey(
        Settlement, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    duplicate = models.BooleanField(default=False, help_text="The settlement was already here.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    @property
    def percent(self) -> int:
        if self.state == ImportState.DONE:
            return 100
        return int(100 * self.processed / self.total) if self.total else 0
