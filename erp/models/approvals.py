"""Shared approvals: one mechanism for write-offs, adjustments, refunds, POs and splits."""

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords


class ApprovalPolicy(models.Model):
    """Per kind: requests whose amount exceeds `threshold` wait for someone holding
    `permission` who is not the requester."""

    kind = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=128)
    threshold = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    permission = models.CharField(max_length=128, help_text="app_label.codename")
    active = models.BooleanField(default=True, help_text="Inactive: nothing of this kind waits.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["kind"]
        verbose_name_plural = "approval policies"

    def __str__(self):
        return f"{self.label} (over {self.threshold})"


class ApprovalRequest(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        CANCELLED = "cancelled", "Cancelled"

    kind = models.CharField(max_length=64, db_index=True)
    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    subject_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("subject_type", "subject_id")
    summary = models.CharField(max_length=255)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approval_requests"
    )
    requested_at = models.DateTimeField(auto_now_add=True, db_index=True)
    request_note = models.TextField(blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject_type", "subject_id"],
                condition=Q(state="pending"),
                name="approval_one_pending_per_subject",
            ),
            models.CheckConstraint(
                condition=Q(state="pending") | Q(decided_at__isnull=False),
                name="approval_decided_has_time",
            ),
        ]
        indexes = [models.Index(fields=["state", "kind"])]

    def __str__(self):
        return f"{self.kind} #{self.pk}: {self.summary}"
