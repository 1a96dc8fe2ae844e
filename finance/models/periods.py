"""Accounting periods: one per calendar month; closed and locked months take no postings."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class PeriodStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"
    LOCKED = "locked", "Locked"


class Period(models.Model):
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=8, choices=PeriodStatus.choices, default=PeriodStatus.OPEN)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    locked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-year", "-month"]
        permissions = [("close_period", "Can close and lock accounting periods")]
        constraints = [
            models.UniqueConstraint(fields=["year", "month"], name="finance_period_one_per_month"),
            models.CheckConstraint(
                condition=Q(month__gte=1) & Q(month__lte=12), name="finance_period_month_valid"
            ),
        ]

    def __str__(self):
        return f"{self.year}-{self.month:02d}"

    @property
    def is_open(self) -> bool:
        return self.status == PeriodStatus.OPEN
