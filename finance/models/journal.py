"""Journal entries and their lines. Lines are append-only and every entry balances per
currency; both are enforced by the database (see migrations 0002), the Python check in
`finance.services.posting` only gives the earlier, friendlier error."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from erp.models import Channel, Location, Sku
from finance.models.accounts import Account
from finance.models.periods import Period
from orders.models import Order


class JournalEntry(models.Model):
    """One posting. `source_kind` + `source_id` name the business document (shipment,
    refund, goods receipt, adjustment, …) and `event` the domain event that posted it:
    one posting per (event, document), so replaying an event changes nothing."""

    date = models.DateField()
    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="entries")
    memo = models.CharField(max_length=255, blank=True)
    source_kind = models.CharField(max_length=32, blank=True)
    source_id = models.BigIntegerField(null=True, blank=True)
    source_ref = models.CharField(
        max_length=64, blank=True, help_text="The document's number as people know it."
    )
    event = models.CharField(max_length=64, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    posted_at = models.DateTimeField(auto_now_add=True)
    reversal_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "journal entries"
        constraints = [
            models.UniqueConstraint(
                fields=["event", "source_kind", "source_id"],
                condition=~Q(event=""),
                name="finance_one_posting_per_event_and_document",
            ),
        ]
        indexes = [
            models.Index(fields=["source_kind", "source_id"]),
            models.Index(fields=["date", "id"]),
            models.Index(fields=["period", "id"]),
        ]

    def __str__(self):
        return f"JE-{self.pk:06d}" if self.pk else "JE-new"

    @property
    def number(self) -> str:
        return str(self)


class JournalLine(models.Model):
    """One side of a posting, with the dimensions margin analysis groups by."""

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lines")
    debit = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    credit = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=3)
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    sku = models.ForeignKey(
        Sku, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    memo = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(debit__gte=0), name="finance_line_debit_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(credit__gte=0), name="finance_line_credit_not_negative"
            ),
            models.CheckConstraint(
                condition=(Q(debit__gt=0) & Q(credit=0)) | (Q(credit__gt=0) & Q(debit=0)),
                name="finance_line_one_side",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "entry"]),
            models.Index(fields=["order", "account"]),
            models.Index(fields=["sku", "account"]),
        ]

    def __str__(self):
        side = f"Dr {self.debit}" if self.debit else f"Cr {self.credit}"
        return f"{self.account_id} {side} {self.currency}"

    @property
    def amount(self):
        """Signed: debit positive, credit negative."""
        return self.debit - self.credit
