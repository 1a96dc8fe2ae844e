"""Master data shared by every app: SKUs, stock nodes, sales channels and listings."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$",
    "Use letters, digits and . _ - / only, starting with a letter or digit.",
    code="invalid_code",
)
currency_validator = RegexValidator(
    r"^[A-Z]{3}$", "Use a three-letter ISO 4217 code such as USD.", code="invalid_currency"
)


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        abstract = True


class Sku(TimestampedModel):
    class UnitOfMeasure(models.TextChoices):
        EACH = "each", "Each"
        PACK = "pack", "Pack"
        CASE = "case", "Case"
        KILOGRAM = "kg", "Kilogram"
        METRE = "m", "Metre"

    code = models.CharField(max_length=64, unique=True, validators=[code_validator])
    name = models.CharField(max_length=255)
    barcode = models.CharField(
        max_length=64,
        blank=True,
        validators=[RegexValidator(r"^[0-9A-Za-z\-]*$", "Barcodes are letters, digits and -.")],
        help_text="GTIN/EAN/UPC or internal barcode scanned at pick and receipt.",
    )
    unit_of_measure = models.CharField(
        max_length=8, choices=UnitOfMeasure.choices, default=UnitOfMeasure.EACH
    )
    pack_quantity = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    weight_grams = models.PositiveIntegerField(default=0)
    length_mm = models.PositiveIntegerField(default=0)
    width_mm = models.PositiveIntegerField(default=0)
    height_mm = models.PositiveIntegerField(default=0)
    unit_cost = models.DecimalField(
        max_digits=12,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Cost per unit in the base currency; values adjustments and write-offs.",
    )
    product_family = models.CharField(max_length=64, blank=True, db_index=True)
    substitutes = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="substitute_for"
    )
    lot_tracked = models.BooleanField(default=False)
    serial_tracked = models.BooleanField(default=False)
    expiry_tracked = models.BooleanField(default=False)
    active = models.BooleanField(default=True)

    history = HistoricalRecords(m2m_fields=[substitutes], excluded_fields=["updated_at"])

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["barcode"], condition=~Q(barcode=""), name="sku_barcode_unique"
            ),
            models.CheckConstraint(
                condition=Q(pack_quantity__gte=1), name="sku_pack_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(unit_cost__gte=0), name="sku_unit_cost_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(expiry_tracked=False) | Q(lot_tracked=True),
                name="sku_expiry_requires_lot",
                violation_error_message="Expiry tracking needs lot tracking.",
            ),
        ]

    def __str__(self):
        return f"{self.code} · {self.name}"


class Location(TimestampedModel):
    class Kind(models.TextChoices):
        WAREHOUSE = "warehouse", "Warehouse"
        STORE = "store", "Store"
        THIRD_PARTY = "3pl", "3PL"
        DROPSHIP = "dropship", "Drop-ship supplier"

    code = models.CharField(max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.WAREHOUSE)
    region = models.CharField(max_length=32, help_text="Shipping origin region (rate tables).")
    postal_zone = models.CharField(max_length=16, blank=True)
    can_ship = models.BooleanField(default=True)
    shelf_floor = models.PositiveIntegerField(
        default=0, help_text="Stores only: units per SKU kept on the shelf, never routed away."
    )
    priority = models.PositiveIntegerField(
        default=100, help_text="Lower ships first when costs tie."
    )
    active = models.BooleanField(default=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["priority", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(shelf_floor=0) | Q(kind="store"),
                name="location_shelf_floor_only_for_stores",
                violation_error_message="Only stores keep a shelf floor.",
            ),
        ]

    def __str__(self):
        return f"{self.code} · {self.name}"


class Channel(TimestampedModel):
    class Kind(models.TextChoices):
        SHOPIFY = "shopify", "Shopify"
        AMAZON = "amazon", "Amazon"
        EBAY = "ebay", "eBay"
        WALMART = "walmart", "Walmart"
        WOOCOMMERCE = "woocommerce", "WooCommerce"
        B2B = "b2b", "B2B portal"
        MANUAL = "manual", "Manual"

    class RefundTiming(models.TextChoices):
        ON_AUTHORIZATION = "on_authorization", "On authorization"
        ON_RECEIPT = "on_receipt", "On receipt"
        AFTER_INSPECTION = "after_inspection", "After inspection"

    code = models.CharField(max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    currency = models.CharField(max_length=3, default="USD", validators=[currency_validator])
    ship_by_sla_hours = models.PositiveIntegerField(
        default=48, validators=[MinValueValidator(1), MaxValueValidator(24 * 30)]
    )
    fee_rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text="Marketplace commission as a fraction of the sale (0.15 = 15%).",
    )
    return_window_days = models.PositiveIntegerField(default=30)
    refund_timing = models.CharField(
        max_length=24, choices=RefundTiming.choices, default=RefundTiming.AFTER_INSPECTION
    )
    eligible_locations = models.ManyToManyField(
        Location, related_name="channels", help_text="Stock nodes this channel may sell from."
    )
    availability_endpoint = models.ForeignKey(
        "erp.Endpoint",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Where availability updates for this channel are sent (none: not published).",
    )
    active = models.BooleanField(default=True)

    history = HistoricalRecords(m2m_fields=[eligible_locations], excluded_fields=["updated_at"])

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(fee_rate__gte=0) & Q(fee_rate__lte=1), name="channel_fee_rate_fraction"
            ),
            models.CheckConstraint(
                condition=Q(ship_by_sla_hours__gte=1), name="channel_sla_positive"
            ),
        ]

    def __str__(self):
        return f"{self.code} · {self.name}"


class ChannelListing(TimestampedModel):
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="listings")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="listings")
    channel_sku = models.CharField(
        max_length=128, help_text="The SKU as the channel knows it (Amazon SellerSKU, …)."
    )
    external_listing_id = models.CharField(
        max_length=128, blank=True, help_text="ASIN, eBay item id, Shopify variant id, …"
    )
    active = models.BooleanField(default=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["channel__code", "channel_sku"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "channel_sku"],
                name="listing_channel_sku_unique",
                violation_error_message="This channel already has a listing with that channel SKU.",
            ),
        ]
        indexes = [
            models.Index(fields=["sku", "channel"]),
            # Order ingestion maps lines without a seller SKU by the channel's item id.
            models.Index(fields=["channel", "external_listing_id"], name="listing_item_id_idx"),
        ]

    def __str__(self):
        return f"{self.channel.code}:{self.channel_sku}"
