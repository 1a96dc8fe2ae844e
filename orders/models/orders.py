"""Orders as one governed flow, whatever channel they came from."""

from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from erp.models import Channel, Location, Sku


class PayloadEncoder(DjangoJSONEncoder):
    """Channel payloads are parsed with Decimal numbers; store them back as JSON numbers
    (the shortest float text equals the original for amounts), not as strings."""

    def default(self, o):
        if isinstance(o, Decimal):
            return float(o)
        return super().default(o)


class OrderState(models.TextChoices):
    RECEIVED = "received", "Received"
    ON_HOLD = "on_hold", "On hold"
    READY = "ready", "Ready"
    ALLOCATED = "allocated", "Allocated"
    PARTIALLY_ALLOCATED = "partially_allocated", "Partially allocated"
    BACKORDERED = "backordered", "Backordered"
    RELEASED = "released", "Released"
    PICKING = "picking", "Picking"
    PACKED = "packed", "Packed"
    SHIPPED = "shipped", "Shipped"
    PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


class OrderOrigin(models.TextChoices):
    CHANNEL = "channel", "Sent by the channel"
    REPLAY = "replay", "Replayed from a refused payload"
    PHONE = "phone", "Phone order"
    B2B = "b2b", "B2B order"
    REPLACEMENT = "replacement", "Replacement (no charge)"


class Order(models.Model):
    # Indexed by the (channel, external id) and (channel, placed) indexes below.
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    external_id = models.CharField(max_length=128)
    order_number = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=24, choices=OrderState.choices, default=OrderState.RECEIVED)
    placed_at = models.DateTimeField()
    channel_updated_at = models.DateTimeField(null=True, blank=True)
    ship_by = models.DateTimeField(null=True, blank=True)
    service_level = models.CharField(max_length=16, default="standard")
    currency = models.CharField(max_length=3)
    payment_status = models.CharField(max_length=24)
    channel_status = models.CharField(max_length=16, default="open")
    risk_score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    customer_email = models.EmailField(blank=True)
    ship_name = models.CharField(max_length=255, blank=True)
    ship_company = models.CharField(max_length=255, blank=True)
    ship_line1 = models.CharField(max_length=255, blank=True)
    ship_line2 = models.CharField(max_length=255, blank=True)
    ship_city = models.CharField(max_length=128, blank=True)
    ship_region = models.CharField(max_length=64, blank=True)
    ship_postal_code = models.CharField(max_length=32, blank=True)
    ship_country = models.CharField(max_length=2, blank=True)
    ship_phone = models.CharField(max_length=64, blank=True)
    # Money is NULL while the channel withholds it (Amazon Pending): unknown, not zero.
    shipping_total = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0"), null=True, blank=True
    )
    tax_total = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0"), null=True, blank=True
    )
    discount_total = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0"), null=True, blank=True
    )
    gift_wrap_total = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        null=True,
        blank=True,
        help_text="Gift wrap charged on top of the items (Amazon), before tax.",
    )
    total = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0"), null=True, blank=True
    )
    # What the buyer saw when paying in another currency than the order's (Shopify
    # presentment money): refunds and customer mails use these; the fields above (the
    # shop's currency) settle and post. Blank / NULL when the buyer paid in `currency`.
    presentment_currency = models.CharField(max_length=3, blank=True)
    presentment_shipping_total = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    presentment_tax_total = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    presentment_discount_total = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    presentment_total = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    taxes_included = models.BooleanField(default=False)
    tax_data_complete = models.BooleanField(default=True)
    extra = models.JSONField(default=dict, blank=True, encoder=PayloadEncoder)
    raw_payload = models.JSONField(
        encoder=PayloadEncoder, help_text="The channel's payload as last received, for audit."
    )
    payload_hash = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    state_changed_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True, help_text="Past its SLA.")
    origin = models.CharField(max_length=16, choices=OrderOrigin.choices, default="channel")
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Who keyed in or replayed the order (empty: the channel sent it).",
    )
    # The RMA's number, not a key: returns imports orders, so orders holds a reference it
    # can show and returns can look up, and never imports returns.
    replaces_rma = models.CharField(
        max_length=64, blank=True, help_text="The RMA this no-charge replacement is for."
    )

    history = HistoricalRecords(excluded_fields=["raw_payload"])

    class Meta:
        ordering = ["-placed_at", "-id"]
        permissions = [
            ("release_order", "Can release held orders"),
            ("cancel_order", "Can cancel orders"),
            ("approve_split", "Can approve costly split shipments"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], name="order_unique_per_channel"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "ship_by"]),
            models.Index(fields=["channel", "placed_at"]),
            models.Index(
                fields=["replaces_rma"], condition=~Q(replaces_rma=""), name="order_replaces_rma"
            ),
        ]

    def __str__(self):
        return f"{self.channel.code}/{self.order_number or self.external_id}"

    @property
    def prices_known(self) -> bool:
        """False while the channel withholds the order's money (Amazon Pending)."""
        return self.total is not None

    @property
    def ship_to_lines(self) -> list[str]:
        parts = [
            self.ship_name,
            self.ship_company,
            self.ship_line1,
            self.ship_line2,
            " ".join(p for p in [self.ship_city, self.ship_region, self.ship_postal_code] if p),
            self.ship_country,
        ]
        return [part for part in parts if part]


class LineState(models.TextChoices):
    OPEN = "open", "Open"
    ALLOCATED = "allocated", "Allocated"
    BACKORDERED = "backordered", "Backordered"
    SHIPPED = "shipped", "Shipped"
    CANCELLED = "cancelled", "Cancelled"


class OrderLine(models.Model):
    # Indexed by the (order, external line id) constraint.
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", db_index=False)
    line_number = models.PositiveIntegerField()
    external_line_id = models.CharField(max_length=128)
    channel_sku = models.CharField(max_length=128, blank=True)
    external_item_id = models.CharField(max_length=128, blank=True)
    sku = models.ForeignKey(Sku, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    ordered_sku = models.ForeignKey(
        Sku,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The SKU ordered, when a substitute ships instead.",
    )
    title = models.CharField(max_length=255, blank=True)
    quantity = models.PositiveIntegerField()
    quantity_cancelled = models.PositiveIntegerField(default=0)
    quantity_shipped = models.PositiveIntegerField(default=0)
    # NULL while the channel withholds prices (Amazon Pending).
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    tax = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0"), null=True, blank=True
    )
    discount = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0"), null=True, blank=True
    )
    # The buyer's amounts when the order has a presentment currency (see Order).
    presentment_unit_price = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    presentment_tax = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    presentment_discount = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True
    )
    state = models.CharField(max_length=16, choices=LineState.choices, default=LineState.OPEN)

    class Meta:
        ordering = ["line_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "external_line_id"], name="line_unique_per_order"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(quantity_cancelled__lte=models.F("quantity")),
                name="line_cancel_within_quantity",
            ),
        ]
        indexes = [
            # Arriving stock asks which SKUs have lines waiting (orders.selectors).
            models.Index(
                fields=["sku"], condition=Q(state="backordered"), name="line_backordered_by_sku"
            )
        ]

    def __str__(self):
        return f"{self.order_id}#{self.line_number}"

    @property
    def reference(self) -> str:
        """How inventory reservations name this line."""
        return f"order-line:{self.pk}"

    @property
    def open_quantity(self) -> int:
        return self.quantity - self.quantity_cancelled - self.quantity_shipped


class HoldReason(models.TextChoices):
    ADDRESS_INVALID = "address_invalid", "Address invalid"
    PAYMENT_NOT_CAPTURED = "payment_not_captured", "Payment not captured"
    RISK_ABOVE_THRESHOLD = "risk_above_threshold", "Risk above threshold"
    TAX_DATA_MISSING = "tax_data_missing", "Tax data missing"
    SKU_NOT_MAPPED = "sku_not_mapped", "SKU not mapped"
    INSUFFICIENT_STOCK = "insufficient_stock", "Insufficient stock"
    SPLIT_NEEDS_APPROVAL = "split_needs_approval", "Split needs approval"
    MANUAL = "manual", "Manual"
    AWAITING_CHANNEL = "awaiting_channel", "Awaiting the channel"


class OrderHold(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="holds")
    reason = models.CharField(max_length=32, choices=HoldReason.choices)
    detail = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "reason"],
                condition=Q(resolved_at__isnull=True),
                name="one_open_hold_per_reason",
            )
        ]
        indexes = [
            models.Index(
                fields=["reason"], condition=Q(resolved_at__isnull=True), name="open_hold_idx"
            )
        ]

    def __str__(self):
        return f"{self.order_id}: {self.reason}"


class OrderEvent(models.Model):
    """The order's timeline: every state change, hold, release, edit and routing decision."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
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
        return f"{self.order_id} {self.kind} {self.from_state}→{self.to_state}"


class RoutingDecision(models.Model):
    """Why an order went where it went: every candidate with its score, and the choice."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="routing_decisions")
    decided_at = models.DateTimeField(auto_now_add=True)
    plan = models.CharField(max_length=32)  # single_node, dropship, split, backorder, none
    candidates = models.JSONField()
    allocations = models.JSONField()
    explanation = models.TextField()
    extra_cost = models.DecimalField(
        max_digits=10, decimal_places=2, default=0, help_text="What a split costs over one parcel."
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-decided_at", "-id"]

    def __str__(self):
        return f"{self.order_id}: {self.plan}"


class Allocation(models.Model):
    """Which node fills how much of a line (the reservation lives in inventory)."""

    # Indexed by (line, active).
    line = models.ForeignKey(
        OrderLine, on_delete=models.CASCADE, related_name="allocations", db_index=False
    )
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    reservation_id = models.BigIntegerField(null=True, blank=True)
    dropship = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["line", "active"])]

    def __str__(self):
        return f"{self.line_id}: {self.quantity}@{self.location_id}"
