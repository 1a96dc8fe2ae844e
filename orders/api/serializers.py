from rest_framework import serializers

from erp.api.base import StrictFieldsMixin
from erp.api.schema import ErrorDetailSerializer
from orders.models import Allocation, Order, OrderHold, OrderLine, OrderState


class AllocationSerializer(serializers.ModelSerializer):
    location = serializers.CharField(source="location.code")
    sku = serializers.CharField(source="sku.code")

    class Meta:
        model = Allocation
        fields = ["location", "sku", "quantity", "dropship", "reservation_id"]


class OrderLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code", allow_null=True)
    ordered_sku = serializers.CharField(source="ordered_sku.code", allow_null=True)
    allocations = serializers.SerializerMethodField()

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "line_number",
            "external_line_id",
            "channel_sku",
            "sku",
            "ordered_sku",
            "title",
            "quantity",
            "quantity_cancelled",
            "quantity_shipped",
            "unit_price",
            "tax",
            "discount",
            "presentment_unit_price",
            "presentment_tax",
            "presentment_discount",
            "state",
            "allocations",
        ]

    def get_allocations(self, line) -> list[dict]:
        return AllocationSerializer([a for a in line.allocations.all() if a.active], many=True).data


class HoldSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderHold
        fields = ["reason", "detail", "created_at", "resolved_at", "resolution"]


class OrderSerializer(serializers.ModelSerializer):
    """Money in `currency` (the shop's: what settles and posts); when the buyer paid in
    another currency, `presentment_*` carry what the buyer saw (what refunds and mails
    use), else they are empty. Money is null while the channel withholds prices."""

    channel = serializers.CharField(source="channel.code")
    ship_to = serializers.SerializerMethodField()
    lines = OrderLineSerializer(many=True)
    holds = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id",
            "channel",
            "external_id",
            "order_number",
            "state",
            "placed_at",
            "ship_by",
            "service_level",
            "currency",
            "payment_status",
            "risk_score",
            "customer_email",
            "ship_to",
            "shipping_total",
            "tax_total",
            "discount_total",
            "gift_wrap_total",
            "total",
            "presentment_currency",
            "presentment_shipping_total",
            "presentment_tax_total",
            "presentment_discount_total",
            "presentment_total",
            "received_at",
            "released_at",
            "cancelled_at",
            "escalated_at",
            "holds",
            "lines",
        ]

    def get_ship_to(self, order) -> dict:
        return {
            name[5:]: getattr(order, name)
            for name in (
                "ship_name",
                "ship_company",
                "ship_line1",
                "ship_line2",
                "ship_city",
                "ship_region",
                "ship_postal_code",
                "ship_country",
                "ship_phone",
            )
        }

    def get_holds(self, order) -> list[dict]:
        return HoldSerializer(
            [h for h in order.holds.all() if h.resolved_at is None], many=True
        ).data


class OrderSummarySerializer(serializers.Serializer):
    """Declared fields (not a ModelSerializer): it answers every ingested order, and
    building a ModelSerializer's fields from the model costs more than the answer."""

    id = serializers.IntegerField(read_only=True)
    channel = serializers.CharField(source="channel.code", read_only=True)
    external_id = serializers.CharField(read_only=True)
    order_number = serializers.CharField(read_only=True)
    state = serializers.ChoiceField(choices=OrderState.choices, read_only=True)
    placed_at = serializers.DateTimeField(read_only=True)
    ship_by = serializers.DateTimeField(read_only=True, allow_null=True)
    currency = serializers.CharField(read_only=True)
    # null while the channel withholds prices (Amazon Pending)
    total = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, allow_null=True
    )
    payment_status = serializers.CharField(read_only=True)


class IngestResultSerializer(serializers.Serializer):
    outcome = serializers.CharField()
    order = OrderSummarySerializer()


class IngestBatchItemSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The payload's position in `orders`.")
    outcome = serializers.CharField(help_text="created, updated, unchanged or refused")
    order = OrderSummarySerializer(required=False, help_text="Unless refused.")
    errors = ErrorDetailSerializer(many=True, required=False, help_text="When refused.")


class IngestBatchResultSerializer(serializers.Serializer):
    results = IngestBatchItemSerializer(many=True)


class CancelSerializer(StrictFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class ManualLineSerializer(StrictFieldsMixin, serializers.Serializer):
    sku = serializers.CharField(max_length=128, help_text="The channel's SKU or ours.")
    quantity = serializers.IntegerField(min_value=1, max_value=10_000)
    unit_price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text="Per unit; ignored (0) for replacements.",
    )


class ManualShipToSerializer(StrictFieldsMixin, serializers.Serializer):
    name = serializers.CharField(max_length=255, allow_blank=True, required=False)
    company = serializers.CharField(max_length=255, allow_blank=True, required=False)
    line1 = serializers.CharField(max_length=255, allow_blank=True, required=False)
    line2 = serializers.CharField(max_length=255, allow_blank=True, required=False)
    city = serializers.CharField(max_length=128, allow_blank=True, required=False)
    region = serializers.CharField(max_length=64, allow_blank=True, required=False)
    postal_code = serializers.CharField(max_length=32, allow_blank=True, required=False)
    country = serializers.CharField(max_length=3, allow_blank=True, required=False)
    phone = serializers.CharField(max_length=64, allow_blank=True, required=False)


class ManualOrderSerializer(StrictFieldsMixin, serializers.Serializer):
    channel = serializers.CharField(max_length=32, help_text="A manual or B2B channel's code.")
    kind = serializers.ChoiceField(choices=["phone", "b2b", "replacement"])
    reference = serializers.CharField(
        max_length=64, required=False, allow_blank=True, help_text="Unique per channel."
    )
    replaces_rma = serializers.CharField(max_length=64, required=False, allow_blank=True)
    payment_status = serializers.ChoiceField(
        choices=["captured", "authorized", "pending"], required=False
    )
    customer_email = serializers.EmailField(required=False, allow_blank=True)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True)
    ship_to = ManualShipToSerializer()
    lines = ManualLineSerializer(many=True, allow_empty=False, max_length=50)


class ReplaySerializer(StrictFieldsMixin, serializers.Serializer):
    payload = serializers.JSONField(
        required=False, help_text="The corrected payload; omitted: replay as received."
    )
