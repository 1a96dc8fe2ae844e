"""What purchasing stores from other apps' events to judge suppliers: units returned to
a supplier as defective (from returns' supplier claims, heard by event name)."""

from decimal import Decimal

from django.db import models
from django.db.models import Q

from erp.models import Location, Sku
from purchasing.models.suppliers import Supplier


class SupplierDefect(models.Model):
    """Units a returns inspection sent back to a supplier (return to vendor): the claim's
    figures as returns published them, matched to our supplier by code or name."""

    claim_id = models.PositiveIntegerField(unique=True, help_text="The returns claim (CLM-n).")
    supplier = models.ForeignKey(
        Supplier, null=True, blank=True, on_delete=models.PROTECT, related_name="defects"
    )
    supplier_name = models.CharField(max_length=128, help_text="As the inspector typed it.")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    unit_cost = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    reason = models.CharField(max_length=48, blank=True)
    reported_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-reported_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="supplier_defect_quantity"),
        ]

    def __str__(self):
        return f"CLM-{self.claim_id}: {self.quantity} × {self.sku_id} ({self.supplier_name})"
