"""Who works which exception-queue item, and each queue's SLA as managers set it.

A queue row is identified by the queue's key and the row's primary key: every queue's
selector returns rows of one model, so the pair names one item.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

MAX_SLA_HOURS = 24 * 30


class QueueClaim(models.Model):
    """One person owns one queue item. The unique constraint is the arbiter: of two
    claims a second apart, the database lets exactly one insert win."""

    queue_key = models.CharField(max_length=64)
    object_id = models.PositiveBigIntegerField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="queue_claims"
    )
    claimed_at = models.DateTimeField()
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Set when a manager assigned the item rather than the owner claiming it.",
    )

    class Meta:
        ordering = ["queue_key", "object_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["queue_key", "object_id"], name="queue_claim_one_owner_per_item"
            )
        ]
        indexes = [models.Index(fields=["owner", "queue_key"])]
        permissions = [("assign_queueclaim", "Can assign queue items to others")]

    def __str__(self):
        return f"{self.queue_key} #{self.object_id} → {self.owner_id}"


class QueueSla(models.Model):
    """A manager's SLA for one queue, overriding the hours its app registered."""

    queue_key = models.CharField(max_length=64, unique=True)
    sla_hours = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SLA_HOURS)]
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["queue_key"]
        verbose_name = "queue SLA"
        constraints = [
            models.CheckConstraint(
                condition=Q(sla_hours__gte=1) & Q(sla_hours__lte=MAX_SLA_HOURS),
                name="queue_sla_hours_in_range",
            )
        ]

    def __str__(self):
        return f"{self.queue_key}: {self.sla_hours} h"
