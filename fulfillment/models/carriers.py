"""Carriers, their services, rate cards and the boxes we pack into."""

from decimal import Decimal

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from erp.models import Channel, Endpoint
from erp.models.master_data import code_validator


class Carrier(models.Model):
    code = models.CharField(max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(max_length=128)
    tracking_url_template = models.CharField(
        max_length=300,
        blank=True,
        help_text="Tracking page address with {tracking} where the number goes.",
    )
    tracking_pattern = models.CharField(
        max_length=200,
        blank=True,
        help_text="Regular expression a tracking number of this carrier must match.",
    )
    active = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.name

    def tracking_url(self, tracking_number: str) -> str:
        if not self.tracking_url_template:
            return ""
        return self.tracking_url_template.replace("{tracking}", tracking_number)


class ServiceLevel(models.TextChoices):
    """The promise a channel made to the buyer (`Order.service_level`)."""

    STANDARD = "standard", "Standard"
    EXPEDITED = "expedited", "Expedited"
    PRIORITY = "priority", "Priority / next day"
    ECONOMY = "economy", "Economy"


class CarrierService(models.Model):
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="services")
    code = models.CharField(max_length=48, validators=[code_validator])
    name = models.CharField(max_length=128)
    service_level = models.CharField(
        max_length=16, choices=ServiceLevel.choices, default=ServiceLevel.STANDARD
    )
    cutoff_time = models.TimeField(
        help_text="Parcels handed over after this local time leave the next working day."
    )
    max_weight_grams = models.PositiveIntegerField(default=30000)
    active = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["carrier__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["carrier", "code"], name="carrier_service_unique")
        ]

    def __str__(self):
        return f"{self.carrier.code} {self.name}"


class RateCard(models.Model):
    """One price: service × origin region × destination zone × weight band."""

    service = models.ForeignKey(CarrierService, on_delete=models.CASCADE, related_name="rates")
    origin_region = models.CharField(max_length=32)
    zone = models.CharField(max_length=16, help_text="Destination zone (orders ShippingZone).")
    min_weight_grams = models.PositiveIntegerField(default=0)
    max_weight_grams = models.PositiveIntegerField()
    price = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    transit_days = models.PositiveIntegerField()

    history = HistoricalRecords()

    class Meta:
        ordering = ["service_id", "origin_region", "zone", "min_weight_grams"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "origin_region", "zone", "min_weight_grams"],
                name="rate_card_band_unique",
            ),
            models.CheckConstraint(
                condition=Q(max_weight_grams__gt=F("min_weight_grams")),
                name="rate_card_band_not_empty",
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="rate_card_price_not_negative"),
        ]

    def __str__(self):
        return (
            f"{self.service} {self.origin_region}→{self.zone} "
            f"{self.min_weight_grams}-{self.max_weight_grams} g: {self.price}"
        )


class Box(models.Model):
    """A carton or mailer the packers use; cartonization suggests the smallest that fits."""

    code = models.CharField(max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(max_length=128)
    length_mm = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    width_mm = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    height_mm = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    max_weight_grams = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    tare_grams = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0"))
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["length_mm", "width_mm", "height_mm"]
        verbose_name_plural = "boxes"

    def __str__(self):
        return f"{self.code} ({self.length_mm}×{self.width_mm}×{self.height_mm} mm)"

    @property
    def volume_mm3(self) -> int:
        return self.length_mm * self.width_mm * self.height_mm


class ChannelFulfillmentPolicy(models.Model):
    """Per channel: where tracking goes, how strict its ship-by is, who is notified."""

    channel = models.OneToOneField(
        Channel, on_delete=models.CASCADE, related_name="fulfillment_policy"
    )
    tracking_endpoint = models.ForeignKey(
        Endpoint,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Where tracking uploads for this channel are delivered (outbox).",
    )
    notification_endpoint = models.ForeignKey(
        Endpoint,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Where shipment e-mails to the customer are handed over (outbox).",
    )
    strict_penalties = models.BooleanField(
        default=False,
        help_text="Late shipments are penalised (marketplace metrics): same-day queue, waved first.",
    )
    confirm_window_hours = models.PositiveIntegerField(
        default=24, help_text="A released order not confirmed shipped within this escalates."
    )
    notify_customer = models.BooleanField(default=True)

    history = HistoricalRecords()

    def __str__(self):
        return f"fulfillment policy for {self.channel_id}"


slot_validator = RegexValidator(
    r"^[A-Z0-9]{1,4}-[0-9]{1,3}-[0-9]{1,2}$",
    "Use aisle-bay-level such as A-01-3.",
    code="invalid_slot",
)
