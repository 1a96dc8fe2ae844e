"""Freight, duty and other charges on a PO, spread over its lines into the unit cost."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from erp.models.master_data import currency_validator
from purchasing.models.orders import PurchaseOrder, PurchaseOrderLine


class LandedCharge(models.Model):
    class Kind(models.TextChoices):
        FREIGHT = "freight", "Freight"
        DUTY = "duty", "Duty"
        OTHER = "other", "Other"

    class Basis(models.TextChoices):
        VALUE = "value", "By value"
        QUANTITY = "quantity", "By quantity"
        WEIGHT = "weight", "By weight"

    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.PROTECT, related_name="landed_charges"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    description = models.CharField(max_length=255, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, validators=[currency_validator])
    exchange_rate = models.DecimalField(max_digits=12, decimal_places=6, default=1)
    basis = models.CharField(max_length=16, choices=Basis.choices, default=Basis.VALUE)
    applied_at = models.DateTimeField(null=True, blank=True)
    capitalized = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    expensed = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["purchase_order_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="landed_charge_not_negative"),
            models.CheckConstraint(
                condition=Q(exchange_rate__gt=0), name="landed_charge_rate_positive"
            ),
        ]

    def __str__(self):
        return (
            f"{self.get_kind_display()} {self.amount} {self.currency} on {self.purchase_order_id}"
        )


class LandedChargeAllocation(models.Model):
    """The share of one charge a PO line carries (base currency)."""

    charge = models.ForeignKey(LandedCharge, on_delete=models.CASCADE, related_name="allocations")
    purchase_order_line = models.ForeignKey(
        PurchaseOrderLine, on_delete=models.PROTECT, related_name="landed_allocations"
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    capitalized = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    expensed = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["charge", "purchase_order_line"], name="landed_allocation_unique"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="landed_allocation_not_negative"
            ),
        ]
