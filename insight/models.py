"""Aggregate facts the KPIs read (one row per day × channel × node [× SKU family]), the
refresh watermark, and the editable KPI thresholds.

The facts are a cohort by the day an order was placed (in the project's time zone): a day's
row holds what has happened so far to the orders placed that day, so a change to an order
(released, shipped, returned) re-computes its placed day only (insight.services.facts)."""

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from erp.models import Channel, Location


class OrderDayFact(models.Model):
    """Orders placed on `day` through `channel`, shipping from `node` (the node of the
    order's allocations, the lowest id when split; NULL while nothing is allocated)."""

    day = models.DateField()
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    node = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    orders = models.PositiveIntegerField(default=0)
    released = models.PositiveIntegerField(default=0, help_text="Orders released so far.")
    release_seconds = models.BigIntegerField(default=0, help_text="Σ received → released.")
    shipped = models.PositiveIntegerField(default=0, help_text="Orders shipped (wholly or part).")
    cycle_shipped = models.PositiveIntegerField(
        default=0, help_text="Shipped orders that were released first."
    )
    ship_seconds = models.BigIntegerField(default=0, help_text="Σ released → shipped.")
    due = models.PositiveIntegerField(default=0, help_text="Shipped orders with a ship-by.")
    on_time = models.PositiveIntegerField(default=0, help_text="Shipped by their ship-by.")
    valid_tracking = models.PositiveIntegerField(
        default=0, help_text="Shipped orders whose every parcel has a valid tracking number."
    )
    cancelled = models.PositiveIntegerField(default=0)
    oversold = models.PositiveIntegerField(
        default=0, help_text="Orders that could not be fully allocated when they arrived."
    )
    returns_closed = models.PositiveIntegerField(
        default=0, help_text="Closed RMAs of these orders."
    )
    return_cycle_seconds = models.BigIntegerField(
        default=0, help_text="Σ RMA authorized → closed, over the closed RMAs."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "channel", "node"],
                name="order_fact_unique",
                nulls_distinct=False,
            )
        ]
        indexes = [models.Index(fields=["day", "channel"], name="order_fact_day_idx")]

    def __str__(self):
        return f"{self.day} {self.channel_id}/{self.node_id}"


class LineDayFact(models.Model):
    """Order lines of orders placed on `day`, by channel, node and the SKU's family."""

    day = models.DateField()
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    node = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    family = models.CharField(max_length=64, blank=True)
    lines = models.PositiveIntegerField(default=0)
    units = models.PositiveIntegerField(default=0, help_text="Units ordered.")
    units_shipped = models.PositiveIntegerField(default=0)
    units_cancelled = models.PositiveIntegerField(default=0)
    units_backordered = models.PositiveIntegerField(
        default=0, help_text="Open units of lines waiting on stock (backordered)."
    )
    units_returned = models.PositiveIntegerField(default=0, help_text="Units on live RMAs.")
    units_inspected = models.PositiveIntegerField(default=0)
    units_restocked = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "channel", "node", "family"],
                name="line_fact_unique",
                nulls_distinct=False,
            )
        ]
        indexes = [models.Index(fields=["day", "channel"], name="line_fact_day_idx")]

    def __str__(self):
        return f"{self.day} {self.channel_id}/{self.node_id}/{self.family}"


class FactRefresh(models.Model):
    """The watermark: facts include every change recorded before `refreshed_to`."""

    name = models.CharField(max_length=32, unique=True)
    refreshed_to = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_duration_ms = models.PositiveIntegerField(default=0)
    last_days = models.PositiveIntegerField(default=0, help_text="Days re-computed last time.")

    def __str__(self):
        return f"{self.name} to {self.refreshed_to}"


class KpiThreshold(models.Model):
    """When a KPI's figure for a day is past `value` in `direction`, the daily digest lists
    it. Every change keeps history with its actor and reason."""

    class Direction(models.TextChoices):
        ABOVE = "above", "Alert when above"
        BELOW = "below", "Alert when below"

    key = models.CharField(max_length=48, unique=True)
    value = models.DecimalField(max_digits=14, decimal_places=2)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    active = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["key"]
        permissions = [
            ("view_warehouse_dashboard", "Can view the warehouse KPI dashboard"),
            ("view_cs_dashboard", "Can view the customer-service KPI dashboard"),
            ("view_manager_dashboard", "Can view the manager KPI dashboard"),
            ("view_finance_dashboard", "Can view the finance KPI dashboard"),
            ("view_buyer_dashboard", "Can view the buyer KPI dashboard"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(direction__in=["above", "below"]), name="threshold_direction_known"
            )
        ]

    def __str__(self):
        return f"{self.key} {self.direction} {self.value}"
