"""Inventory truth: an append-only ledger and the balances it adds up to."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from erp.models import Channel, Location, Sku


class StockStatus(models.TextChoices):
    SELLABLE = "sellable", "Sellable"
    INSPECTION = "inspection", "Inspection"
    QUARANTINE = "quarantine", "Quarantine"
    DAMAGED = "damaged", "Damaged"
    IN_TRANSIT = "in_transit", "In transit"


class MovementKind(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    SHIPMENT = "shipment", "Shipment"
    TRANSFER_OUT = "transfer_out", "Transfer out"
    TRANSFER_IN = "transfer_in", "Transfer in"
    ADJUSTMENT = "adjustment", "Adjustment"
    STATUS_CHANGE = "status_change", "Status change"
    RETURN_RECEIPT = "return_receipt", "Return receipt"
    DISPOSAL = "disposal", "Disposal"


class Lot(models.Model):
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="lots")
    code = models.CharField(max_length=64)
    expires_on = models.DateField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["expires_on", "code"]
        constraints = [
            models.UniqueConstraint(fields=["sku", "code"], name="lot_code_unique_per_sku")
        ]

    def __str__(self):
        return f"{self.sku.code} lot {self.code}"


class StockLedgerEntry(models.Model):
    """One signed change of stock. The database refuses UPDATE and DELETE (see migrations)."""

    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=StockStatus.choices)
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    quantity = models.IntegerField()
    kind = models.CharField(max_length=16, choices=MovementKind.choices)
    reference = models.CharField(
        max_length=128, blank=True, help_text="Business document, e.g. TRF-12"
    )
    reason = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "stock ledger entries"
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="ledger_quantity_not_zero")
        ]
        indexes = [
            models.Index(fields=["sku", "location", "id"]),
            models.Index(fields=["location", "id"]),
            models.Index(fields=["kind", "id"]),
            models.Index(fields=["occurred_at"]),
        ]

    def __str__(self):
        return f"{self.kind} {self.quantity:+d} {self.sku_id}@{self.location_id}/{self.status}"


class StockBalance(models.Model):
    """On hand (and, for sellable, reserved) per SKU, location and status."""

    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="balances")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="balances")
    status = models.CharField(max_length=16, choices=StockStatus.choices)
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku_id", "location_id", "status"]
        constraints = [
            models.UniqueConstraint(fields=["sku", "location", "status"], name="balance_unique"),
            models.CheckConstraint(
                condition=Q(on_hand__gte=0), name="balance_on_hand_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(reserved__gte=0), name="balance_reserved_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("on_hand")), name="balance_reserved_within_on_hand"
            ),
            models.CheckConstraint(
                condition=Q(reserved=0) | Q(status="sellable"),
                name="balance_only_sellable_reserved",
            ),
        ]
        indexes = [models.Index(fields=["location", "status"])]

    def __str__(self):
        return f"{self.sku_id}@{self.location_id}/{self.status}: {self.on_hand} ({self.reserved} reserved)"


class LotBalance(models.Model):
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=StockStatus.choices)
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="balances")
    on_hand = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["lot", "location", "status"], name="lot_balance_unique"
            ),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="lot_balance_not_negative"),
        ]
        indexes = [models.Index(fields=["sku", "location", "status"])]


class SerialNumber(models.Model):
    class State(models.TextChoices):
        IN_STOCK = "in_stock", "In stock"
        SHIPPED = "shipped", "Shipped"
        WRITTEN_OFF = "written_off", "Written off"

    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="serials")
    serial = models.CharField(max_length=128)
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_STOCK)
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=16, choices=StockStatus.choices, blank=True)
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sku", "serial"], name="serial_unique_per_sku")
        ]

    def __str__(self):
        return f"{self.sku_id}:{self.serial}"


class Reservation(models.Model):
    """Units of sellable stock held for one order line at one location."""

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        RELEASED = "released", "Released"
        CONSUMED = "consumed", "Consumed"

    # Indexed by (sku, channel, state).
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+", db_index=False)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+")
    line_reference = models.CharField(max_length=128, help_text="The order line it is held for.")
    quantity = models.PositiveIntegerField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.ACTIVE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["line_reference", "location", "sku"],
                condition=Q(state="active"),
                name="reservation_one_active_per_line_location",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="reservation_quantity_positive"
            ),
        ]
        indexes = [models.Index(fields=["sku", "channel", "state"])]
