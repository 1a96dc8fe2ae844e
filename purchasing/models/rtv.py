"""Returns to vendor: defective units (from returns' supplier claims) going back to the
supplier, authorized by it, shipped out of quarantine, and credited."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from erp.models import Location, Sku
from purchasing.models.performance import SupplierDefect
from purchasing.models.suppliers import Supplier


class ReturnToVendor(models.Model):
    class State(models.TextChoices):
        REQUESTED = "requested", "Waiting for the supplier's authorization"
        AUTHORIZED = "authorized", "Authorized"
        SHIPPED = "shipped", "Shipped back"
        CREDITED = "credited", "Credited"

    number = models.CharField(max_length=32, unique=True)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="rtvs")
    state = models.CharField(max_length=16, choices=State.choices, default=State.REQUESTED)
    authorization_ref = models.CharField(
        max_length=64, blank=True, help_text="The supplier's RMA / authorization number."
    )
    credit_note_ref = models.CharField(max_length=64, blank=True)
    credit_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    authorized_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    credited_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(credit_amount__isnull=True) | Q(credit_amount__gte=0),
                name="rtv_credit_not_negative",
            ),
        ]

    def __str__(self):
        return self.number


class ReturnToVendorLine(models.Model):
    rtv = models.ForeignKey(ReturnToVendor, on_delete=models.CASCADE, related_name="lines")
    defect = models.OneToOneField(SupplierDefect, on_delete=models.PROTECT, related_name="rtv_line")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    unit_cost = models.DecimalField(max_digits=12, decimal_places=4)

    class Meta:
        ordering = ["rtv_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="rtv_line_quantity_positive")
        ]
