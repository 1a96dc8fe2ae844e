"""Refunds: money going back to the buyer for returned units, never more than was paid."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from erp.models import Channel, OutboxMessage
from orders.models import Order
from returns.models.rma import Rma, RmaLine

User = settings.AUTH_USER_MODEL


class RefundState(models.TextChoices):
    PENDING_APPROVAL = "pending_approval", "Waiting for approval"
    POSTED = "posted", "Posted"
    POSTED_ON_CHANNEL = "posted_on_channel", "Refunded by the channel"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


# Refunds that count against what the order paid: posted, or on their way to be.
LIVE_REFUND_STATES = [
    RefundState.PENDING_APPROVAL,
    RefundState.POSTED,
    RefundState.POSTED_ON_CHANNEL,
]
POSTED_REFUND_STATES = [RefundState.POSTED, RefundState.POSTED_ON_CHANNEL]


class Refund(models.Model):
    number = models.CharField(max_length=32, unique=True)
    rma = models.ForeignKey(Rma, on_delete=models.PROTECT, related_name="refunds")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=24, choices=RefundState.choices)
    currency = models.CharField(max_length=3)
    items_amount = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0"), help_text="After line discounts."
    )
    tax_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    shipping_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    restocking_fee = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    computed_amount = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="items + tax + shipping − restocking fee"
    )
    amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        help_text="What goes back: the computed amount, an agreed amount, or what is left of "
        "the order's total.",
    )
    capped = models.BooleanField(
        default=False, help_text="Cut to what the order paid minus earlier refunds."
    )
    # The same refund in the buyer's money when the order was paid in another currency
    # (Shopify presentment): what the channel is told and the customer gets back. The
    # fields above are the shop's money, what settles and posts. Blank / NULL otherwise.
    presentment_currency = models.CharField(max_length=3, blank=True)
    presentment_shipping_amount = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    presentment_computed_amount = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    presentment_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    note = models.TextField(blank=True)
    external_reference = models.CharField(
        max_length=128, blank=True, help_text="The channel's refund id, when it refunded itself."
    )
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(db_index=True)
    posted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="Rejected or cancelled.")
    outbox_message = models.OneToOneField(
        OutboxMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-id"]
        permissions = [("approve_refund", "Can approve refunds")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.UniqueConstraint(
                fields=["channel", "external_reference"],
                condition=~Q(external_reference=""),
                name="refund_external_reference_unique_per_channel",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=POSTED_REFUND_STATES) | Q(posted_at__isnull=False),
                name="refund_posted_has_time",
            ),
        ]
        indexes = [models.Index(fields=["order", "state"])]

    def __str__(self):
        return self.number


class RefundLine(models.Model):
    """Units of one RMA line a refund pays back, with the shares of the order line."""

    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    rma_line = models.ForeignKey(RmaLine, on_delete=models.PROTECT, related_name="refund_lines")
    quantity = models.PositiveIntegerField()
    items_amount = models.DecimalField(max_digits=12, decimal_places=2)
    discount_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    tax_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    restocking_fee = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    # In the buyer's money (see Refund.presentment_currency); NULL when the order has none.
    presentment_items_amount = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    presentment_tax_amount = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    presentment_restocking_fee = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="refund_line_quantity_positive"
            )
        ]
