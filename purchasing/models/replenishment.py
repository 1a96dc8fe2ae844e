"""Replenishment: the planner's settings, each computation run, and the proposals it makes.

A run reads the ledger's shipments for every SKU × node at once and proposes, per
supplier and destination node, the quantities to order; each line keeps the figures that
explain it (velocity, σ, lead time, position, reorder point, order-up-to level).
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from erp.models import Location, Sku
from purchasing.models.orders import PurchaseOrder, PurchaseOrderLine
from purchasing.models.suppliers import Supplier, SupplierItem


class ReplenishmentSettings(models.Model):
    """One row (pk 1): the planning parameters managers tune."""

    window_days = models.PositiveIntegerField(
        default=28,
        validators=[MinValueValidator(7), MaxValueValidator(364)],
        help_text="Days of shipments the sales velocity is computed from.",
    )
    service_level_z = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.65"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("4"))],
        help_text="Service-level factor z (1.28 ≈ 90%, 1.65 ≈ 95%, 2.33 ≈ 99%).",
    )
    review_period_days = models.PositiveIntegerField(
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="Days between orders: the order-up-to level covers lead time plus this.",
    )
    recent_weight = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        default=Decimal("2.00"),
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("10"))],
        help_text=(
            "Weight of the most recent week relative to the oldest one in the window "
            "(weights rise linearly; 1 = every week counts the same)."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name_plural = "replenishment settings"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="replenishment_settings_singleton"),
        ]

    def __str__(self):
        return (
            f"window {self.window_days}d, z {self.service_level_z}, "
            f"review {self.review_period_days}d"
        )

    @classmethod
    def current(cls) -> "ReplenishmentSettings":
        return cls.objects.get_or_create(pk=1)[0]


class ReplenishmentRun(models.Model):
    class Trigger(models.TextChoices):
        NIGHTLY = "nightly", "Nightly"
        MANUAL = "manual", "Run now"

    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    window_days = models.PositiveIntegerField()
    service_level_z = models.DecimalField(max_digits=4, decimal_places=2)
    review_period_days = models.PositiveIntegerField()
    recent_weight = models.DecimalField(max_digits=4, decimal_places=2)
    pairs_evaluated = models.PositiveIntegerField(default=0, help_text="SKU × node rows read.")
    lines_proposed = models.PositiveIntegerField(default=0)
    without_supplier = models.PositiveIntegerField(
        default=0, help_text="SKU × node rows below their reorder point with no active supplier."
    )

    class Meta:
        ordering = ["-id"]
        permissions = [("run_replenishment", "Can run replenishment now")]

    def __str__(self):
        return f"Run {self.pk} ({self.get_trigger_display()}, {self.started_at:%Y-%m-%d %H:%M})"


class Proposal(models.Model):
    """What to order from one supplier for one node; accepting makes one draft PO."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        DROPPED = "dropped", "Dropped"
        SUPERSEDED = "superseded", "Superseded"

    run = models.ForeignKey(ReplenishmentRun, on_delete=models.CASCADE, related_name="proposals")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="proposals")
    destination = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    purchase_order = models.ForeignKey(
        PurchaseOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["supplier__code", "destination__code", "id"]
        permissions = [("accept_proposal", "Can accept replenishment proposals into POs")]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "supplier", "destination"], name="proposal_unique_per_run"
            ),
        ]
        indexes = [models.Index(fields=["state", "supplier"])]

    def __str__(self):
        return f"Proposal {self.pk}: {self.supplier_id} → {self.destination_id}"


class ProposalLine(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "Open"
        DROPPED = "dropped", "Dropped"
        ACCEPTED = "accepted", "Accepted"

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    supplier_item = models.ForeignKey(SupplierItem, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    # The explanation: every figure the quantity came from.
    velocity = models.DecimalField(
        max_digits=12, decimal_places=3, help_text="Weighted units shipped per day."
    )
    sigma = models.DecimalField(
        max_digits=12, decimal_places=3, help_text="σ of daily demand (from weekly totals)."
    )
    lead_time_days = models.PositiveIntegerField()
    review_period_days = models.PositiveIntegerField()
    on_hand = models.IntegerField(help_text="Sellable on hand less reserved.")
    on_order = models.IntegerField(help_text="Open PO units not yet received.")
    in_transit = models.IntegerField()
    position = models.IntegerField(help_text="on hand + on order + in transit.")
    safety_stock = models.IntegerField()
    reorder_point = models.IntegerField()
    order_up_to = models.IntegerField()
    cover_days = models.DecimalField(
        max_digits=10, decimal_places=1, help_text="Days the position lasts at this velocity."
    )
    raw_quantity = models.IntegerField(help_text="Order-up-to level less position.")
    suggested_quantity = models.PositiveIntegerField(help_text="Rounded up to MOQ and pack.")
    quantity = models.PositiveIntegerField(help_text="What the planner will order.")
    reason = models.CharField(max_length=300)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    purchase_order_line = models.ForeignKey(
        PurchaseOrderLine, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["proposal_id", "sku__code"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "sku"], name="proposal_line_unique_sku"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="proposal_line_quantity_positive"
            ),
        ]

    def __str__(self):
        return f"{self.proposal_id}: {self.quantity} × {self.sku_id}"

    @property
    def value(self) -> Decimal:
        return self.quantity * self.supplier_item.unit_cost
