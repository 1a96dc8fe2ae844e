"""Suppliers and what each sells us: supplier SKU, cost, lead time, MOQ and pack."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from erp.models import Location, Sku
from erp.models.master_data import TimestampedModel, code_validator, currency_validator


class PaymentTerms(models.TextChoices):
    PREPAID = "prepaid", "Prepaid"
    NET_15 = "net15", "Net 15"
    NET_30 = "net30", "Net 30"
    NET_45 = "net45", "Net 45"
    NET_60 = "net60", "Net 60"
    NET_90 = "net90", "Net 90"


class Supplier(TimestampedModel):
    code = models.CharField(max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(max_length=255)
    currency = models.CharField(max_length=3, default="USD", validators=[currency_validator])
    payment_terms = models.CharField(
        max_length=16, choices=PaymentTerms.choices, default=PaymentTerms.NET_30
    )
    order_email = models.EmailField(
        blank=True, help_text="Purchase orders are e-mailed here when no webhook is set."
    )
    order_endpoint = models.ForeignKey(
        "erp.Endpoint",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Webhook purchase orders are sent to (else e-mail).",
    )
    dropship_location = models.OneToOneField(
        Location,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dropship_supplier",
        limit_choices_to={"kind": Location.Kind.DROPSHIP},
        help_text="The drop-ship node this supplier ships from, when it drop-ships.",
    )
    qa_hold = models.BooleanField(
        default=False, help_text="Receipts from this supplier go to inspection, not sellable."
    )
    over_receipt_tolerance_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Units received above the ordered quantity without approval, in %.",
    )
    notes = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(over_receipt_tolerance_percent__gte=0),
                name="supplier_tolerance_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.code} · {self.name}"


class SupplierContact(models.Model):
    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=128)
    role = models.CharField(max_length=64, blank=True, help_text="Sales, accounts, logistics…")
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return f"{self.name} ({self.supplier.code})"


class SupplierItem(TimestampedModel):
    """One SKU as one supplier sells it; costs are in the supplier's currency."""

    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="items")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="supplier_items")
    supplier_sku = models.CharField(max_length=64, blank=True)
    unit_cost = models.DecimalField(
        max_digits=12, decimal_places=4, validators=[MinValueValidator(Decimal("0.0001"))]
    )
    lead_time_days = models.PositiveIntegerField(default=7)
    moq = models.PositiveIntegerField(
        default=1, validators=[MinValueValidator(1)], help_text="Minimum order quantity."
    )
    pack_multiple = models.PositiveIntegerField(
        default=1, validators=[MinValueValidator(1)], help_text="Order in multiples of this."
    )
    preferred = models.BooleanField(default=False)
    qa_hold = models.BooleanField(
        default=False, help_text="Receipts of this SKU from this supplier go to inspection."
    )
    active = models.BooleanField(default=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["supplier__code", "sku__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["supplier", "sku"],
                name="supplier_item_unique",
                violation_error_message="This supplier already has a price for that SKU.",
            ),
            models.UniqueConstraint(
                fields=["sku"],
                condition=Q(preferred=True),
                name="supplier_item_one_preferred_per_sku",
                violation_error_message="Another supplier is already preferred for this SKU.",
            ),
            models.CheckConstraint(
                condition=Q(unit_cost__gt=0), name="supplier_item_unit_cost_positive"
            ),
            models.CheckConstraint(condition=Q(moq__gte=1), name="supplier_item_moq_positive"),
            models.CheckConstraint(
                condition=Q(pack_multiple__gte=1), name="supplier_item_pack_positive"
            ),
        ]

    def __str__(self):
        return f"{self.supplier.code}:{self.sku.code}"
