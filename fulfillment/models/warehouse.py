"""The warehouse floor: slots, waves, pick lists and tasks, short picks, packages, shipments."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from erp.models import Location, Sku
from fulfillment.models.carriers import Box, Carrier, CarrierService, slot_validator
from inventory.models import CycleCount, Lot
from orders.models import Allocation, Order, OrderLine

User = settings.AUTH_USER_MODEL


def slot_sort_key(code: str) -> str:
    """A-1-3 and A-01-03 sort together: aisle, then bay and level as numbers."""
    aisle, bay, level = code.split("-")
    return f"{aisle:>4}-{int(bay):03d}-{int(level):02d}"


class Slot(models.Model):
    """Where a SKU lives at a node (aisle-bay-level); pick lists walk slots in order."""

    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="slots")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="slots")
    code = models.CharField(max_length=16, validators=[slot_validator])
    sort_key = models.CharField(max_length=16, editable=False, db_index=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["location_id", "sort_key"]
        constraints = [
            models.UniqueConstraint(fields=["sku", "location"], name="slot_one_per_sku_and_node")
        ]

    def __str__(self):
        return f"{self.location_id}:{self.code}"

    def save(self, *args, **kwargs):
        self.sort_key = slot_sort_key(self.code)
        super().save(*args, **kwargs)


class Wave(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "Open"
        PICKING = "picking", "Picking"
        PICKED = "picked", "Picked"
        CLOSED = "closed", "Closed"

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    cutoff_at = models.DateTimeField(help_text="The carrier cutoff this wave is built for.")
    same_day = models.BooleanField(
        default=False, help_text="Orders of strict-penalty channels that must leave today."
    )
    priority = models.PositiveIntegerField(default=100)
    order_count = models.PositiveIntegerField(default=0)
    line_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return self.number

    @property
    def number(self) -> str:
        return f"W{self.pk:06d}"


class PickList(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="pick_lists")
    sequence = models.PositiveIntegerField()
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    assigned_to = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["wave_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["wave", "sequence"], name="pick_list_sequence_unique")
        ]

    def __str__(self):
        return self.number

    @property
    def number(self) -> str:
        return f"PL{self.pk:06d}"


class PickTask(models.Model):
    """Pick `quantity` of one allocation from its slot."""

    class State(models.TextChoices):
        OPEN = "open", "To pick"
        PICKED = "picked", "Picked"
        SHORT = "short", "Short"
        CANCELLED = "cancelled", "Cancelled"

    pick_list = models.ForeignKey(PickList, on_delete=models.CASCADE, related_name="tasks")
    sequence = models.PositiveIntegerField()
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="pick_tasks")
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="pick_tasks")
    allocation = models.ForeignKey(Allocation, on_delete=models.PROTECT, related_name="pick_tasks")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    slot_code = models.CharField(max_length=16, blank=True)
    slot_sort_key = models.CharField(max_length=16, blank=True)
    quantity = models.PositiveIntegerField()
    quantity_picked = models.PositiveIntegerField(default=0)
    quantity_short = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    picked_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    picked_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["pick_list_id", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["allocation"],
                condition=~Q(state="cancelled"),
                name="pick_task_one_live_per_allocation",
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="pick_task_quantity_positive"),
            models.CheckConstraint(
                condition=Q(quantity_picked__lte=F("quantity") - F("quantity_short")),
                name="pick_task_not_over_picked",
            ),
        ]

    def __str__(self):
        return f"pick {self.quantity} × {self.sku_id} for line {self.line_id}"

    @property
    def remaining(self) -> int:
        return self.quantity - self.quantity_picked - self.quantity_short


class PickConfirmation(models.Model):
    """One scan-confirmed pick: which lot (and serial) left the slot, who picked it."""

    task = models.ForeignKey(PickTask, on_delete=models.PROTECT, related_name="confirmations")
    quantity = models.PositiveIntegerField()
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    serial = models.CharField(max_length=128, blank=True)
    scanned_barcode = models.CharField(max_length=128, blank=True)
    off_suggestion = models.BooleanField(
        default=False, help_text="The picker scanned another (unexpired) lot than FEFO suggested."
    )
    consumed = models.PositiveIntegerField(default=0, help_text="Units of it shipped.")
    picked_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    picked_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="pick_confirmation_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(consumed__lte=F("quantity")), name="pick_confirmation_not_overshipped"
            ),
        ]


class ShortPick(models.Model):
    """The slot held fewer units than the task: an exception, a count, a re-route."""

    task = models.ForeignKey(PickTask, on_delete=models.PROTECT, related_name="short_picks")
    quantity = models.PositiveIntegerField()
    note = models.CharField(max_length=500, blank=True)
    reported_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(auto_now_add=True, db_index=True)
    count = models.ForeignKey(
        CycleCount, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rerouted = models.PositiveIntegerField(default=0, help_text="Units re-allocated elsewhere.")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-reported_at"]


class Package(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="packages")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    box = models.ForeignKey(Box, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    suggested_box = models.ForeignKey(
        Box, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    length_mm = models.PositiveIntegerField()
    width_mm = models.PositiveIntegerField()
    height_mm = models.PositiveIntegerField()
    weight_grams = models.PositiveIntegerField()
    packed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    packed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(weight_grams__gt=0), name="package_weight_positive"),
        ]

    def __str__(self):
        return self.number

    @property
    def number(self) -> str:
        return f"PK{self.pk:07d}"


class PackageLine(models.Model):
    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["package", "line"], name="package_line_unique"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="package_line_quantity_positive"
            ),
        ]


class Shipment(models.Model):
    class State(models.TextChoices):
        LABEL_CREATED = "label_created", "Label created"
        SHIPPED = "shipped", "Shipped"
        VOIDED = "voided", "Voided"

    class Source(models.TextChoices):
        WAREHOUSE = "warehouse", "Our warehouse"
        EXTERNAL = "external", "3PL / WMS confirmation"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shipments")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    package = models.OneToOneField(
        Package, null=True, blank=True, on_delete=models.PROTECT, related_name="shipment"
    )
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey(
        CarrierService, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    tracking_number = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=State.choices, default=State.LABEL_CREATED)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.WAREHOUSE)
    external_reference = models.CharField(max_length=128, blank=True)
    cost = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    transit_days = models.PositiveIntegerField(null=True, blank=True)
    promised_by = models.DateTimeField(null=True, blank=True)
    rate_explanation = models.JSONField(
        default=dict, blank=True, help_text="Every service considered, its price and why."
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    shipped_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    shipped_at = models.DateTimeField(null=True, blank=True, db_index=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-id"]
        permissions = [
            ("confirm_shipment", "Can confirm that a parcel left the building"),
            ("confirm_external_shipment", "Can report shipments made by a 3PL or WMS"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "tracking_number"], name="shipment_tracking_unique"
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def number(self) -> str:
        return f"SH{self.pk:07d}"


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="shipment_lines")
    allocation = models.ForeignKey(
        Allocation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    serials = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="shipment_line_quantity_positive"
            ),
        ]
