"""Aggregate facts the KPIs read (one row per day × channel × node [× SKU family]), the
refresh watermark, and the editable KPI thresholds.

The facts are a cohort by the day an order was placed (in the project's time zone): a day's
row holds what has happened so far to the orders placed that day, so a change to an order
(released, shipped, returned) re-computes its placed day only (insight.services.facts)."""

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from erp.models import Channel, Location, Sku


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


class StockDayFact(models.Model):
    """The sellable stock of the SKUs of `family` at `node` at the end of `day`, from the
    stock ledger (insight.services.stock_facts defines each figure): how many SKUs the node
    carried, how many of them stood at zero, the units on hand and their age since arrival
    (first in, first out), the units shipped that day, and the sales those at zero were
    likely to lose (Σ their in-stock velocity before they ran out)."""

    day = models.DateField()
    node = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    family = models.CharField(max_length=64, blank=True)
    carried = models.PositiveIntegerField(default=0, help_text="SKUs the node carried.")
    out = models.PositiveIntegerField(default=0, help_text="Of them, at zero at the day's end.")
    on_hand = models.BigIntegerField(default=0, help_text="Σ sellable units at the day's end.")
    shipped = models.BigIntegerField(default=0, help_text="Units shipped that day.")
    lost = models.DecimalField(
        max_digits=16, decimal_places=6, default=0, help_text="Σ velocity of the SKUs at zero."
    )
    age_0_30 = models.BigIntegerField(default=0, help_text="Units on hand 0–30 days old.")
    age_31_90 = models.BigIntegerField(default=0, help_text="Units on hand 31–90 days old.")
    age_91_180 = models.BigIntegerField(default=0, help_text="Units on hand 91–180 days old.")
    age_over_180 = models.BigIntegerField(default=0, help_text="Units on hand over 180 days old.")
    age_unit_days = models.BigIntegerField(
        default=0, help_text="Σ units on hand × days since they arrived (365 at most)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "node", "family"], name="stock_fact_unique")
        ]

    def __str__(self):
        return f"{self.day} {self.node_id}/{self.family}"


class StockPairState(models.Model):
    """A SKU at a node at the end of the stock facts' last final day, as the next refresh
    carries it on: the arrival layers of the units it holds (oldest first, [arrival day or
    null when untraced, units]), or, at zero, the day its stock last moved (it stays carried
    CARRIED_DAYS after) and its in-stock velocity before it ran out."""

    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    layers = models.JSONField(default=list, blank=True)
    last_move = models.DateField(null=True, blank=True)
    velocity = models.DecimalField(max_digits=16, decimal_places=6, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sku", "location"], name="stock_pair_state_unique")
        ]

    def __str__(self):
        return f"{self.sku_id}@{self.location_id}"


class FactRefresh(models.Model):
    """The watermark: facts include every change recorded before `refreshed_to`. The stock
    facts' row also keeps the last day they hold final and the highest ledger id seen."""

    name = models.CharField(max_length=32, unique=True)
    refreshed_to = models.DateTimeField(null=True, blank=True)
    final_day = models.DateField(null=True, blank=True)
    last_ledger_id = models.BigIntegerField(default=0)
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
