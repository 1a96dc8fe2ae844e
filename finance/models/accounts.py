"""The chart of accounts: what money is posted to."""

from django.db import models
from django.db.models import Q

from erp.models import Channel


class AccountType(models.TextChoices):
    ASSET = "asset", "Asset"
    LIABILITY = "liability", "Liability"
    EQUITY = "equity", "Equity"
    REVENUE = "revenue", "Revenue"
    EXPENSE = "expense", "Expense"


# Assets and expenses grow on the debit side; the others on the credit side.
DEBIT_NORMAL = {AccountType.ASSET, AccountType.EXPENSE}


class Account(models.Model):
    """One account. `role` names what the posting rules use it for ("receivable",
    "revenue", "inventory", …); per-channel roles have one account per channel."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=128)
    type = models.CharField(max_length=16, choices=AccountType.choices)
    role = models.CharField(
        max_length=32, blank=True, help_text="What the posting rules post here (blank: manual)."
    )
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["role"],
                condition=Q(channel__isnull=True) & ~Q(role=""),
                name="finance_account_one_per_role",
            ),
            models.UniqueConstraint(
                fields=["role", "channel"],
                condition=Q(channel__isnull=False),
                name="finance_account_one_per_role_and_channel",
            ),
        ]

    def __str__(self):
        return f"{self.code} · {self.name}"

    @property
    def debit_normal(self) -> bool:
        return self.type in DEBIT_NORMAL
