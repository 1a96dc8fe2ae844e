"""Purchase orders, their lines and their timeline."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from erp.models import Location, Sku
from erp.models.master_data import currency_validator
from purchasing.models.suppliers import Supplier, SupplierItem


class PurchaseOrderState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Waiting for approval"
    APPROVED = "approved", "Approved"
    SENT = "sent", "Sent"
    PARTIALLY_RECEIVED = "partially_received", "Partially received"
    RECEIVED = "received", "Received"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


class PurchaseOrder(models.Model):
    class Kind(models.TextChoices):
        STANDARD = "standard", "Standard"
        DROP_SHIP = "drop_ship", "Drop-ship"

    number = models.CharField(max_length=32, unique=True)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="purchase_orders")
    destination = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.STANDARD)
    currency = models.CharField(max_length=3, validators=[currency_validator])
    exchange_rate = models.DecimalField(
        max_digits=12,
        decimal_places=6,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.000001"))],
        help_text="Base currency per unit of the PO's currency (1 when they are the same).",
    )
    state = models.CharField(
        max_length=24, choices=PurchaseOrderState.choices, default=PurchaseOrderState.DRAFT
    )
    expected_date = models.DateField(null=True, blank=True, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approval = models.ForeignKey(
        "erp.ApprovalRequest", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True, help_text="Printed on the order to the supplier.")
    reference = models.CharField(
        max_length=128, blank=True, help_text="Where it came from (proposal, order number…)."
    )
    cancel_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(
        null=True, blank=True, help_text="When it entered the inbound-delayed queue."
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-id"]
        permissions = [
            ("approve_purchaseorder", "Can approve purchase orders"),
            ("receive_purchaseorder", "Can receive goods against purchase orders"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="cancelled") | ~Q(cancel_reason=""),
                name="purchase_order_cancel_has_reason",
                violation_error_message="A cancelled purchase order says why.",
            ),
            models.CheckConstraint(
                condition=Q(exchange_rate__gt=0), name="purchase_order_exchange_rate_positive"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "expected_date"]),
            # The supplier KPIs read POs by the day their receiving ended.
            models.Index(fields=["received_at"], name="po_received_at_idx"),
        ]

    def __str__(self):
        return self.number


class PurchaseOrderLine(models.Model):
    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="lines"
    )
    line_number = models.PositiveIntegerField()
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    supplier_item = models.ForeignKey(
        SupplierItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    quantity_ordered = models.PositiveIntegerField()
    quantity_received = models.PositiveIntegerField(default=0)
    over_receipt_approved = models.PositiveIntegerField(
        default=0, help_text="Units above the ordered quantity a manager allowed."
    )
    unit_cost = models.DecimalField(
        max_digits=12, decimal_places=4, help_text="In the purchase order's currency."
    )
    expected_date = models.DateField(null=True, blank=True)
    landed_cost = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        help_text="Charges allocated to this line, base currency.",
    )
    reference = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["purchase_order_id", "line_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["purchase_order", "line_number"], name="purchase_order_line_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(quantity_ordered__gt=0), name="purchase_order_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_cost__gt=0), name="purchase_order_line_cost_positive"
            ),
            models.CheckConstraint(
                condition=Q(
                    quantity_received__lte=F("quantity_ordered") + F("over_receipt_approved")
                ),
                name="purchase_order_line_received_within_allowed",
                violation_error_message="Received more than ordered plus the approved over-receipt.",
            ),
            models.CheckConstraint(
                condition=Q(landed_cost__gte=0), name="purchase_order_line_landed_not_negative"
            ),
        ]
        indexes = [models.Index(fields=["sku", "purchase_order"])]

    def __str__(self):
        return f"{self.purchase_order_id}/{self.line_number} {self.sku_id}"

    @property
    def open_quantity(self) -> int:
        return max(0, self.quantity_ordered - self.quantity_received)

    @property
    def value(self) -> Decimal:
        return self.quantity_ordered * self.unit_cost


class PurchaseOrderEvent(models.Model):
    """The PO's timeline: every state change, approval, send, receipt and charge."""

    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=32)
    from_state = models.CharField(max_length=24, blank=True)
    to_state = models.CharField(max_length=24, blank=True)
    message = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.purchase_order_id} {self.kind} {self.from_state}→{self.to_state}"
