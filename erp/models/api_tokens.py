"""Integration credentials: API tokens a manager creates, scopes, rotates and revokes.

Only the SHA-256 of a token's secret is stored; the secret is shown once, when the token
is created or rotated. The short prefix (the first characters of the key) stays visible
so a manager can tell tokens apart in logs and lists. Each token acts as its own account
(in the `integration` role), so every ledger entry, timeline row and history record
names the token that wrote it; its scope narrows what that account may do.
"""

import hashlib

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from erp.models.master_data import Channel

# Scoped keys start with this; DRF's legacy keys are 40 hex characters.
SCOPED_PREFIX = "erp_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiArea(models.TextChoices):
    """The parts of the API a token is scoped to, one per app's API."""

    ORDERS = "orders", "Orders"
    INVENTORY = "inventory", "Inventory"
    FULFILLMENT = "fulfillment", "Fulfillment"
    RETURNS = "returns", "Returns"
    PURCHASING = "purchasing", "Purchasing"
    FINANCE = "finance", "Finance"
    MASTER_DATA = "master_data", "Master data"
    INSIGHT = "insight", "Insight"


class ApiAccess(models.TextChoices):
    NONE = "none", "No access"
    READ = "read", "Read only"
    WRITE = "write", "Read and write"


class ApiToken(models.Model):
    name = models.CharField(max_length=100, help_text="What the token is for (Shopify sync, 3PL…).")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_token",
        editable=False,
        help_text="The account the token acts as.",
    )
    all_channels = models.BooleanField(
        default=False, help_text="Every channel, including channels added later."
    )
    channels = models.ManyToManyField(
        Channel, blank=True, related_name="+", help_text="The channels the token may act for."
    )
    areas = models.JSONField(
        default=dict, blank=True, help_text="Access per API area: read or write; absent = none."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Written from the usage counters (erp.api_tokens.usage), never per request.
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    request_count = models.PositiveBigIntegerField(default=0, editable=False)

    history = HistoricalRecords(
        m2m_fields=[channels], excluded_fields=["last_used_at", "request_count"]
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def access(self, area: str) -> str:
        return self.areas.get(area, ApiAccess.NONE)
