"""Safety stock, channel allocation rules and the published availability."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from erp.models import Channel, Location, Sku


class SafetyStock(models.Model):
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sku", "location"], name="safety_stock_unique")
        ]


class AllocationRule(models.Model):
    """How much of the pool a channel sees and may take (DOMAIN.md, Availability).

    A rule with a SKU overrides the channel-wide rule (sku empty) for that SKU.
    """

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="allocation_rules")
    sku = models.ForeignKey(Sku, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    protected = models.PositiveIntegerField(default=0, help_text="Ring-fenced for this channel.")
    buffer = models.PositiveIntegerField(default=0, help_text="Never shown to this channel.")
    cap = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="At most this fraction of the pool is shown (0.9 = 90%).",
    )
    max_units = models.PositiveIntegerField(
        null=True, blank=True, help_text="Show at most this many."
    )
    threshold = models.PositiveIntegerField(default=0, help_text="Show 0 below this many.")
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "sku"],
                condition=Q(sku__isnull=False),
                name="rule_unique_per_sku",
            ),
            models.UniqueConstraint(
                fields=["channel"], condition=Q(sku__isnull=True), name="rule_unique_channel_wide"
            ),
            models.CheckConstraint(
                condition=Q(cap__gte=0) & Q(cap__lte=1), name="rule_cap_fraction"
            ),
        ]

    def __str__(self):
        scope = self.sku.code if self.sku_id else "all SKUs"
        return f"{self.channel.code} / {scope}"


class ChannelAvailability(models.Model):
    """The last available-to-sell figure computed for a listed SKU on a channel."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+")
    available = models.PositiveIntegerField()
    changed_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "sku"], name="availability_unique")
        ]


class AvailabilityDirty(models.Model):
    """SKUs whose stock moved since availability was last published (a work queue)."""

    sku = models.OneToOneField(Sku, on_delete=models.CASCADE, primary_key=True, related_name="+")
    marked_at = models.DateTimeField(auto_now=True)
