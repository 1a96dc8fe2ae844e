"""What routing and validation need to know beyond master data."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from erp.models import Channel, Location, Sku


class ChannelOrderPolicy(models.Model):
    """Per channel: when orders are held, split or substituted."""

    channel = models.OneToOneField(Channel, on_delete=models.CASCADE, related_name="order_policy")
    risk_threshold = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("75"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Orders with a risk score above this are held.",
    )
    require_captured_payment = models.BooleanField(
        default=True,
        help_text="Hold orders whose payment is not captured (off for pay-on-ship channels).",
    )
    allow_substitution = models.BooleanField(default=False)
    priority = models.PositiveIntegerField(default=100, help_text="Lower ships first in waves.")

    history = HistoricalRecords()

    def __str__(self):
        return f"policy for {self.channel_id}"


class SubstitutionRule(models.Model):
    """A product family whose SKUs may ship a listed substitute when out of stock."""

    product_family = models.CharField(max_length=64, unique=True)
    allowed = models.BooleanField(default=True)

    history = HistoricalRecords()

    def __str__(self):
        return self.product_family


class DropshipSource(models.Model):
    """A SKU that a drop-ship supplier node ships directly, and what it costs us."""

    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, related_name="+", limit_choices_to={"kind": "dropship"}
    )
    cost = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    transit_days = models.PositiveIntegerField(default=4)

    history = HistoricalRecords()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sku", "location"], name="dropship_unique")]

    def __str__(self):
        return f"{self.sku_id} via {self.location_id}"


class ShippingZone(models.Model):
    """Destination zones by country and postal-code prefix (longest prefix wins)."""

    country = models.CharField(max_length=2)
    postal_prefix = models.CharField(max_length=10, blank=True)
    zone = models.CharField(max_length=16)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["country", "postal_prefix"], name="zone_unique")
        ]

    def __str__(self):
        return f"{self.country}{self.postal_prefix}→{self.zone}"


class ShippingRate(models.Model):
    """Cost and transit days from a node's region to a destination zone."""

    origin_region = models.CharField(max_length=32)
    zone = models.CharField(max_length=16)
    cost = models.DecimalField(max_digits=10, decimal_places=2)
    transit_days = models.PositiveIntegerField()

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["origin_region", "zone"], name="rate_unique")
        ]

    def __str__(self):
        return f"{self.origin_region}→{self.zone}: {self.cost}/{self.transit_days}d"


class IngestionError(models.Model):
    """An order payload that was refused, kept with its raw body for CS to inspect."""

    channel_code = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    field = models.CharField(max_length=255, blank=True)
    code = models.CharField(max_length=64)
    message = models.CharField(max_length=1000)
    raw_body = models.TextField(help_text="First 64 KiB of the body as received.")
    body_size = models.PositiveIntegerField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=500, blank=True)
    replayed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    order = models.ForeignKey(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replayed_from",
        help_text="The order the payload became when it was replayed.",
    )

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.channel_code}: {self.code}"
