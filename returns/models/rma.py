"""Return merchandise authorizations: what may come back, what came back, and what we did
with it."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from erp.models import Channel, Location, Sku
from inventory.models import InventoryAdjustment, Lot
from orders.models import Order, OrderLine
from returns.models.policy import ReturnReason

User = settings.AUTH_USER_MODEL


class RmaState(models.TextChoices):
    AUTHORIZED = "authorized", "Authorized"
    PARTIALLY_RECEIVED = "partially_received", "Partially received"
    RECEIVED = "received", "Received"
    INSPECTED = "inspected", "Inspected"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


OPEN_RMA_STATES = [RmaState.AUTHORIZED, RmaState.PARTIALLY_RECEIVED]


class Rma(models.Model):
    class Source(models.TextChoices):
        BACK_OFFICE = "back_office", "Back office"
        CHANNEL_API = "channel_api", "Channel API"
        MARKETPLACE_INITIATED = "marketplace_initiated", "Marketplace initiated"

    number = models.CharField(max_length=32, unique=True)
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="rmas")
    state = models.CharField(max_length=24, choices=RmaState.choices, default=RmaState.AUTHORIZED)
    source = models.CharField(max_length=24, choices=Source.choices, default=Source.BACK_OFFICE)
    external_reference = models.CharField(
        max_length=128,
        blank=True,
        help_text="The channel's return id (Amazon RMA id, eBay returnId).",
    )
    return_label_reference = models.CharField(
        max_length=128, blank=True, help_text="Return label tracking number or label id."
    )
    channel_returns_centre = models.CharField(
        max_length=64,
        blank=True,
        help_text="The channel's own returns centre took the units back (Amazon FBA: the "
        "fulfilment centre id): nothing comes to our dock.",
    )
    expected_by = models.DateTimeField(help_text="The parcel should have arrived by then.")
    override_reason = models.TextField(
        blank=True, help_text="Why a return outside the window was accepted."
    )
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    authorized_at = models.DateTimeField(db_index=True)
    first_received_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True, help_text="Every unit arrived.")
    inspected_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    state_changed_at = models.DateTimeField()

    history = HistoricalRecords()

    class Meta:
        ordering = ["-id"]
        verbose_name = "RMA"
        permissions = [
            ("receive_return", "Can receive returned parcels"),
            ("inspect_return", "Can inspect returned units"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_reference"],
                condition=~Q(external_reference=""),
                name="rma_external_reference_unique_per_channel",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "expected_by"]),
            models.Index(fields=["channel", "authorized_at"]),
        ]

    def __str__(self):
        return self.number


class RmaLine(models.Model):
    rma = models.ForeignKey(Rma, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="rma_lines")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(help_text="Units authorized to come back.")
    quantity_received = models.PositiveIntegerField(default=0)
    lot = models.ForeignKey(
        Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="Expected"
    )
    serials = models.JSONField(default=list, blank=True, help_text="Serials expected back.")
    reason = models.ForeignKey(ReturnReason, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="rma_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(quantity_received__lte=F("quantity")),
                name="rma_line_received_within_authorized",
            ),
        ]

    def __str__(self):
        return f"{self.rma_id}: {self.quantity} × {self.sku_id}"

    @property
    def outstanding(self) -> int:
        return self.quantity - self.quantity_received


class ReturnReceipt(models.Model):
    """One arrival at the dock: what was scanned in, at which node, by whom."""

    rma = models.ForeignKey(Rma, on_delete=models.PROTECT, related_name="receipts")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    received_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField()
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["id"]


class Discrepancy(models.TextChoices):
    NONE = "", "None"
    SERIAL_NOT_EXPECTED = "serial_not_expected", "Serial not on the RMA"
    SERIAL_NOT_SHIPPED = "serial_not_shipped", "Serial never shipped on this order"
    LOT_MISMATCH = "lot_mismatch", "Another lot than expected"
    UNEXPECTED_ITEM = "unexpected_item", "Item not on the RMA"


class ReceivedItem(models.Model):
    """Units that entered `inspection` from one receipt: one row per serial for
    serial-tracked SKUs, otherwise one row per RMA line (or unexpected SKU) and lot."""

    receipt = models.ForeignKey(ReturnReceipt, on_delete=models.PROTECT, related_name="items")
    rma = models.ForeignKey(Rma, on_delete=models.PROTECT, related_name="received_items")
    rma_line = models.ForeignKey(
        RmaLine, null=True, blank=True, on_delete=models.PROTECT, related_name="received_items"
    )
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    serial = models.CharField(max_length=128, blank=True)
    quantity = models.PositiveIntegerField()
    received_at = models.DateTimeField(db_index=True)
    discrepancy = models.CharField(
        max_length=24, choices=Discrepancy.choices, blank=True, default=Discrepancy.NONE
    )
    note = models.CharField(max_length=500, blank=True)
    discrepancy_resolved_at = models.DateTimeField(null=True, blank=True)
    discrepancy_resolved_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    discrepancy_resolution = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="received_item_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(rma_line__isnull=False) | Q(discrepancy="unexpected_item"),
                name="received_item_unexpected_has_no_line",
            ),
            models.CheckConstraint(
                condition=Q(serial="") | Q(quantity=1), name="received_item_serial_is_one_unit"
            ),
        ]
        indexes = [
            models.Index(
                fields=["received_at"],
                condition=~Q(discrepancy="") & Q(discrepancy_resolved_at__isnull=True),
                name="received_item_open_discrepancy",
            )
        ]

    def __str__(self):
        return f"{self.quantity} × {self.sku_id}{' ' + self.serial if self.serial else ''}"


class Grade(models.TextChoices):
    NEW = "new", "New"
    LIKE_NEW = "like_new", "Like new"
    USED = "used", "Used"
    DAMAGED = "damaged", "Damaged"
    DEFECTIVE = "defective", "Defective"


SELLABLE_GRADES = {Grade.NEW, Grade.LIKE_NEW, Grade.USED}
DAMAGE_GRADES = {Grade.DAMAGED, Grade.DEFECTIVE}


class Disposition(models.TextChoices):
    RESTOCK = "restock", "Restock (sellable)"
    REFURBISH = "refurbish", "Refurbish (repair queue)"
    QUARANTINE = "quarantine", "Quarantine"
    DISPOSE = "dispose", "Dispose (write-off)"
    RETURN_TO_VENDOR = "return_to_vendor", "Return to vendor"


class Inspection(models.Model):
    """Condition and disposition of some units of one received item."""

    rma = models.ForeignKey(Rma, on_delete=models.PROTECT, related_name="inspections")
    received_item = models.ForeignKey(
        ReceivedItem, on_delete=models.PROTECT, related_name="inspections"
    )
    quantity = models.PositiveIntegerField()
    grade = models.CharField(max_length=16, choices=Grade.choices)
    disposition = models.CharField(max_length=24, choices=Disposition.choices)
    note = models.CharField(max_length=500, blank=True)
    write_off = models.OneToOneField(
        InventoryAdjustment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="return_inspection",
        help_text="Dispose: the write-off that takes the units out (may wait for approval).",
    )
    inspected_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    inspected_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="inspection_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(disposition="dispose") | Q(write_off__isnull=True),
                name="inspection_write_off_only_when_disposed",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.grade} → {self.disposition}"


class RepairOrder(models.Model):
    """Refurbish: units wait in quarantine until repaired (restocked) or given up (disposed)."""

    class State(models.TextChoices):
        OPEN = "open", "Waiting for repair"
        RESTOCKED = "restocked", "Repaired and restocked"
        DISPOSED = "disposed", "Disposed"

    inspection = models.OneToOneField(
        Inspection, on_delete=models.PROTECT, related_name="repair_order"
    )
    rma = models.ForeignKey(Rma, on_delete=models.PROTECT, related_name="repair_orders")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    serial = models.CharField(max_length=128, blank=True)
    quantity = models.PositiveIntegerField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    write_off = models.OneToOneField(
        InventoryAdjustment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="return_repair",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="repair_quantity_positive"),
        ]

    def __str__(self):
        return f"REP-{self.pk}"


class SupplierClaim(models.Model):
    """Return to vendor: the units wait in quarantine, and this record carries the claim
    (what, how many, why, what it cost us) until purchasing ships them back."""

    inspection = models.OneToOneField(
        Inspection, on_delete=models.PROTECT, related_name="supplier_claim"
    )
    rma = models.ForeignKey(Rma, on_delete=models.PROTECT, related_name="supplier_claims")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    supplier = models.CharField(max_length=128)
    quantity = models.PositiveIntegerField()
    unit_cost = models.DecimalField(max_digits=12, decimal_places=4)
    amount = models.DecimalField(max_digits=14, decimal_places=2, help_text="quantity × unit cost")
    reason = models.ForeignKey(
        ReturnReason, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="claim_quantity_positive"),
        ]

    def __str__(self):
        return f"CLM-{self.pk}"
