"""Inventory documents: transfers, adjustments (write-offs) and cycle counts."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from erp.models import Location, Sku
from inventory.models.stock import Lot, StockStatus


class Transfer(models.Model):
    class State(models.TextChoices):
        IN_TRANSIT = "in_transit", "In transit"
        PARTIALLY_RECEIVED = "partially_received", "Partially received"
        RECEIVED = "received", "Received"
        CLOSED_WITH_DISCREPANCY = "closed_with_discrepancy", "Closed with discrepancy"

    number = models.CharField(max_length=32, unique=True)
    from_location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    to_location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=32, choices=State.choices, default=State.IN_TRANSIT)
    reference = models.CharField(max_length=128, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    shipped_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_location=models.F("to_location")),
                name="transfer_between_two_nodes",
            )
        ]

    def __str__(self):
        return self.number


class TransferLine(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    quantity_shipped = models.PositiveIntegerField()
    quantity_received = models.PositiveIntegerField(default=0)
    quantity_missing = models.PositiveIntegerField(
        default=0, help_text="Reported short when the transfer was closed."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_received__lte=models.F("quantity_shipped")),
                name="transfer_line_received_within_shipped",
            )
        ]

    @property
    def outstanding(self) -> int:
        return self.quantity_shipped - self.quantity_received - self.quantity_missing


class AdjustmentReason(models.TextChoices):
    COUNT_VARIANCE = "count_variance", "Cycle-count variance"
    DAMAGE = "damage", "Damaged"
    SHRINK = "shrink", "Shrink / theft"
    EXPIRED = "expired", "Expired"
    FOUND = "found", "Found stock"
    DATA_CORRECTION = "data_correction", "Data correction"


WRITE_OFF_REASONS = {AdjustmentReason.DAMAGE, AdjustmentReason.SHRINK, AdjustmentReason.EXPIRED}
# InventoryAdjustment.is_write_off, as a filter.
WRITE_OFF = Q(quantity__lt=0, reason_code__in=WRITE_OFF_REASONS)


class InventoryAdjustment(models.Model):
    class State(models.TextChoices):
        PENDING_APPROVAL = "pending_approval", "Waiting for approval"
        POSTED = "posted", "Posted"
        REJECTED = "rejected", "Rejected"

    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=16, choices=StockStatus.choices, default=StockStatus.SELLABLE
    )
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    quantity = models.IntegerField(help_text="Signed: negative removes stock.")
    reason_code = models.CharField(max_length=32, choices=AdjustmentReason.choices)
    note = models.TextField(blank=True)
    unit_cost = models.DecimalField(max_digits=12, decimal_places=4)
    value = models.DecimalField(max_digits=14, decimal_places=2, help_text="|quantity| × unit cost")
    state = models.CharField(max_length=24, choices=State.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    posted_at = models.DateTimeField(null=True, blank=True)
    count_line = models.OneToOneField(
        "inventory.CycleCountLine",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adjustment",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-id"]
        permissions = [
            ("approve_inventoryadjustment", "Can approve inventory adjustments"),
            ("approve_write_off", "Can approve write-offs"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="adjustment_quantity_not_zero"),
            models.CheckConstraint(condition=Q(value__gte=0), name="adjustment_value_not_negative"),
        ]
        # The write-off total reads adjustments by the day they posted.
        indexes = [models.Index(fields=["posted_at"], name="adjustment_posted_at_idx")]

    def __str__(self):
        return f"ADJ-{self.pk} {self.quantity:+d} {self.sku.code}@{self.location.code}"

    @property
    def is_write_off(self) -> bool:
        return self.quantity < 0 and self.reason_code in WRITE_OFF_REASONS


class CycleCount(models.Model):
    class Scope(models.TextChoices):
        ALL = "all", "All SKUs at the node"
        FAMILY = "family", "One product family"
        REPEATED_ADJUSTMENTS = "repeated_adjustments", "SKUs with repeated adjustments"
        SKUS = "skus", "Chosen SKUs (e.g. after a short pick)"

    class State(models.TextChoices):
        OPEN = "open", "Counting"
        CLOSED = "closed", "Closed"

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    scope = models.CharField(max_length=32, choices=Scope.choices)
    product_family = models.CharField(max_length=64, blank=True)
    tolerance = models.PositiveIntegerField(
        default=0, help_text="Units of variance counted as accurate."
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"CNT-{self.pk} {self.location.code}"


class CycleCountLine(models.Model):
    count = models.ForeignKey(CycleCount, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    expected = models.IntegerField(
        help_text="Sellable on hand when the count opened; hidden from counters."
    )
    counted = models.IntegerField(null=True, blank=True)
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    counted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sku__code"]
        constraints = [
            models.UniqueConstraint(fields=["count", "sku"], name="count_line_unique"),
            models.CheckConstraint(
                condition=Q(counted__gte=0) | Q(counted__isnull=True), name="count_not_negative"
            ),
        ]

    @property
    def variance(self) -> int | None:
        return None if self.counted is None else self.counted - self.expected
