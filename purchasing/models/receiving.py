"""Goods received at the dock against a purchase order, and over-receipts to approve."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from erp.models import Location, Sku
from inventory.models import Lot, StockStatus
from purchasing.models.orders import PurchaseOrder, PurchaseOrderLine


class Receipt(models.Model):
    """One scan session's worth of goods (one or several lines) against one PO."""

    number = models.CharField(max_length=32, unique=True)
    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.PROTECT, related_name="receipts"
    )
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(db_index=True)
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return self.number


class ReceiptLine(models.Model):
    RECEIVABLE_STATUSES = (StockStatus.SELLABLE, StockStatus.INSPECTION)

    receipt = models.ForeignKey(Receipt, on_delete=models.CASCADE, related_name="lines")
    purchase_order_line = models.ForeignKey(
        PurchaseOrderLine, on_delete=models.PROTECT, related_name="receipt_lines"
    )
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    scanned_code = models.CharField(
        max_length=128, blank=True, help_text="What the scanner read (barcode, SKU code…)."
    )
    quantity = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=StockStatus.choices)
    lot = models.ForeignKey(Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    serials = models.JSONField(default=list, blank=True)
    unit_cost = models.DecimalField(
        max_digits=12, decimal_places=4, help_text="Base currency, at the PO's exchange rate."
    )

    class Meta:
        ordering = ["receipt_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="receipt_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["sellable", "inspection"]),
                name="receipt_line_sellable_or_inspection",
            ),
        ]

    def __str__(self):
        return f"{self.receipt_id}: {self.quantity} × {self.sku_id} → {self.status}"


class OverReceipt(models.Model):
    """Units above ordered + tolerance a receiver asks to take in; a manager decides."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    purchase_order_line = models.ForeignKey(
        PurchaseOrderLine, on_delete=models.PROTECT, related_name="over_receipts"
    )
    quantity = models.PositiveIntegerField(help_text="Units above what the line allows now.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approval = models.ForeignKey(
        "erp.ApprovalRequest", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="over_receipt_quantity_positive"
            ),
        ]

    def __str__(self):
        return f"Over-receipt {self.quantity} on line {self.purchase_order_line_id}"
