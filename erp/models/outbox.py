"""Outbox: messages that leave the process, written in the business transaction."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from erp.models.master_data import code_validator


class Endpoint(models.Model):
    """Where outbound messages go; `kind` picks the connector that delivers them."""

    class Kind(models.TextChoices):
        WEBHOOK = "webhook", "HTTP webhook"
        EMAIL = "email", "E-mail (Django mail backend)"

    code = models.CharField(max_length=64, unique=True, validators=[code_validator])
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.WEBHOOK)
    url = models.URLField(max_length=500)
    secret = models.CharField(
        max_length=128, blank=True, help_text="Signs the body (HMAC-SHA256) when set."
    )
    max_attempts = models.PositiveIntegerField(default=0, help_text="0 = the global default.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.code


class OutboxMessage(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERING = "delivering", "Delivering"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (dead letter)"
        DISCARDED = "discarded", "Discarded"

    topic = models.CharField(max_length=100, db_index=True)
    endpoint = models.ForeignKey(Endpoint, on_delete=models.PROTECT, related_name="messages")
    payload = models.JSONField()
    dedupe_key = models.CharField(max_length=200, unique=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution_note = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state__in=["pending", "delivering"]),
                name="outbox_due_idx",
            ),
            models.Index(
                fields=["failed_at"], condition=Q(state="failed"), name="outbox_failed_idx"
            ),
        ]

    def __str__(self):
        return f"{self.topic} → {self.endpoint_id} [{self.state}]"
