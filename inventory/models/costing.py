"""Moving-average unit cost: what one unit of a SKU is worth on the books.

One row per SKU (company-wide scope, `location` empty) or per SKU and node (node scope),
as `settings.INVENTORY_COST_SCOPE` says. Only `inventory.services.costing` writes it:
receipts move the average, landed cost raises it. Every change keeps its history (who,
when, which document) so a valuation can be explained line by line.
"""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from erp.models import Location, Sku


class SkuCost(models.Model):
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="costs")
    location = models.ForeignKey(
        Location,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sku_costs",
        help_text="Empty when costs are kept company-wide.",
    )
    average_cost = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Moving-average cost per unit in the base currency.",
    )
    source = models.CharField(
        max_length=100, blank=True, help_text="The document that last moved the average."
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["sku_id", "location_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sku"], condition=Q(location__isnull=True), name="sku_cost_company_unique"
            ),
            models.UniqueConstraint(
                fields=["sku", "location"],
                condition=Q(location__isnull=False),
                name="sku_cost_node_unique",
            ),
            models.CheckConstraint(condition=Q(average_cost__gte=0), name="sku_cost_not_negative"),
        ]

    def __str__(self):
        where = self.location_id and f" @ {self.location_id}" or ""
        return f"{self.sku_id}{where}: {self.average_cost}"
