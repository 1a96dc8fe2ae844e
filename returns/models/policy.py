"""What a channel (and, where it differs, a product family) allows on returns, and why
customers return things."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from erp.models import Channel, Endpoint
from erp.models.master_data import code_validator

RefundTiming = Channel.RefundTiming


class ReturnPolicy(models.Model):
    """One row per channel (product_family blank) and optionally one per product family of
    that channel; the family row overrides the channel row for SKUs of that family.

    The return window and refund timing live here; the channel's `return_window_days` and
    `refund_timing` are their defaults: a row that leaves them blank takes the channel-wide
    row's value, then the channel's own (so editing the channel changes every policy that
    did not set its own). With no row at all, the channel's values apply with the defaults
    below (buyer pays return shipping, no restocking fee).
    """

    class ShippingPaidBy(models.TextChoices):
        BUYER = "buyer", "Buyer"
        SELLER = "seller", "Seller"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="return_policies")
    product_family = models.CharField(
        max_length=64, blank=True, help_text="Blank: the channel-wide policy."
    )
    window_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Days after shipment within which a return is accepted. Blank: the "
        "channel-wide policy's, else the channel's return window.",
    )
    receipt_expected_days = models.PositiveIntegerField(
        default=14, help_text="Days after authorization by which the parcel should arrive."
    )
    return_shipping_paid_by = models.CharField(
        max_length=8, choices=ShippingPaidBy.choices, default=ShippingPaidBy.BUYER
    )
    restocking_fee_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="Kept from the item amount unless the return is our fault.",
    )
    refund_timing = models.CharField(
        max_length=24,
        choices=RefundTiming.choices,
        blank=True,
        help_text="When the refund may post. Blank: the channel-wide policy's, else the "
        "channel's refund timing.",
    )
    never_restock = models.BooleanField(
        default=False, help_text="Hygiene goods: returned units are never sold again."
    )
    always_inspect_serials = models.BooleanField(
        default=False,
        help_text="Electronics: every unit is inspected by scanning its serial, and a unit "
        "whose serial was not the one expected is never restocked.",
    )
    refund_endpoint = models.ForeignKey(
        Endpoint,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Channel-wide row only: where posted refunds are confirmed (none: not sent).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["channel__code", "product_family"]
        verbose_name_plural = "return policies"
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "product_family"], name="return_policy_one_per_family"
            ),
            models.CheckConstraint(
                condition=Q(restocking_fee_percent__gte=0) & Q(restocking_fee_percent__lte=100),
                name="return_policy_fee_is_a_percentage",
            ),
            models.CheckConstraint(
                condition=Q(product_family="") | Q(refund_endpoint__isnull=True),
                name="return_policy_endpoint_only_channel_wide",
                violation_error_message="Refund confirmations are set on the channel-wide policy.",
            ),
        ]

    def __str__(self):
        return f"{self.channel_id}/{self.product_family or '*'}"


class ReturnReason(models.Model):
    """A managed list of reason codes; they feed analytics, refunds and supplier claims."""

    code = models.CharField(max_length=48, unique=True, validators=[code_validator])
    label = models.CharField(max_length=128)
    active = models.BooleanField(default=True)
    counts_as_damage = models.BooleanField(
        default=False, help_text="Reported as damaged (in transit or on arrival)."
    )
    our_fault = models.BooleanField(
        default=False,
        help_text="Wrong item, defect, late: no restocking fee, and shipping is refunded.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["label"]

    def __str__(self):
        return self.label
