"""API representations for inventory; input serializers only parse, services decide."""

from rest_framework import serializers

from erp.api.base import StrictFieldsMixin, id_field
from erp.input_bounds import change_reason_max_length
from erp.models import Channel, Location, Sku
from inventory.models import (
    AllocationRule,
    InventoryAdjustment,
    LotBalance,
    Reservation,
    StockBalance,
    StockLedgerEntry,
    StockStatus,
    Transfer,
    TransferLine,
)


def sku_field(**kwargs):
    return serializers.SlugRelatedField(slug_field="code", queryset=Sku.objects.all(), **kwargs)


def location_field(**kwargs):
    return serializers.SlugRelatedField(
        slug_field="code", queryset=Location.objects.all(), **kwargs
    )


class StockBalanceSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    location = serializers.CharField(source="location.code")
    available = serializers.IntegerField(
        read_only=True,
        help_text="Available to promise: sellable on hand − reserved − safety stock − a store's "
        "shelf floor, floored at 0; 0 at nodes that do not ship and for other statuses.",
    )

    class Meta:
        model = StockBalance
        fields = [
            "id",
            "sku",
            "location",
            "status",
            "on_hand",
            "reserved",
            "available",
            "updated_at",
        ]


class LotBalanceSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    location = serializers.CharField(source="location.code")
    lot = serializers.CharField(source="lot.code")
    expires_on = serializers.DateField(source="lot.expires_on")

    class Meta:
        model = LotBalance
        fields = ["id", "sku", "location", "status", "lot", "expires_on", "on_hand"]


class LedgerEntrySerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    location = serializers.CharField(source="location.code")
    lot = serializers.CharField(source="lot.code", allow_null=True)
    actor = serializers.CharField(source="actor.username")

    class Meta:
        model = StockLedgerEntry
        fields = [
            "id",
            "sku",
            "location",
            "status",
            "lot",
            "quantity",
            "kind",
            "reference",
            "reason",
            "actor",
            "occurred_at",
            "recorded_at",
        ]


class ReceiptSerializer(StrictFieldsMixin, serializers.Serializer):
    sku = sku_field()
    location = location_field()
    quantity = serializers.IntegerField(min_value=1)
    status = serializers.ChoiceField(
        choices=[
            StockStatus.SELLABLE,
            StockStatus.INSPECTION,
            StockStatus.QUARANTINE,
            StockStatus.DAMAGED,
        ],
        default=StockStatus.SELLABLE,
    )
    lot = serializers.CharField(required=False, allow_blank=False, max_length=64)
    expires_on = serializers.DateField(required=False, allow_null=True)
    serials = serializers.ListField(child=serializers.CharField(max_length=128), required=False)
    reference = serializers.CharField(required=False, allow_blank=True, max_length=128, default="")
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=255, default="receipt"
    )


class StatusChangeSerializer(StrictFieldsMixin, serializers.Serializer):
    sku = sku_field()
    location = location_field()
    quantity = serializers.IntegerField(min_value=1)
    from_status = serializers.ChoiceField(choices=StockStatus.choices)
    to_status = serializers.ChoiceField(choices=StockStatus.choices)
    lot = serializers.CharField(required=False, max_length=64)
    reason = serializers.CharField(max_length=255)
    reference = serializers.CharField(required=False, allow_blank=True, max_length=128, default="")


class MovementResultSerializer(serializers.Serializer):
    entries = LedgerEntrySerializer(many=True)


class TransferLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    lot = serializers.CharField(source="lot.code", allow_null=True)
    outstanding = serializers.IntegerField(read_only=True)

    class Meta:
        model = TransferLine
        fields = [
            "id",
            "sku",
            "lot",
            "quantity_shipped",
            "quantity_received",
            "quantity_missing",
            "outstanding",
        ]


class TransferSerializer(serializers.ModelSerializer):
    from_location = serializers.CharField(source="from_location.code")
    to_location = serializers.CharField(source="to_location.code")
    lines = TransferLineSerializer(many=True)

    class Meta:
        model = Transfer
        fields = [
            "id",
            "number",
            "from_location",
            "to_location",
            "state",
            "reference",
            "shipped_at",
            "closed_at",
            "lines",
        ]


class TransferLineInputSerializer(StrictFieldsMixin, serializers.Serializer):
    sku = sku_field()
    quantity = serializers.IntegerField(min_value=1)
    lot = serializers.CharField(required=False, max_length=64)


class TransferCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    from_location = location_field()
    to_location = location_field()
    reference = serializers.CharField(required=False, allow_blank=True, max_length=128, default="")
    lines = TransferLineInputSerializer(many=True, allow_empty=False, max_length=500)


class TransferReceiptLineSerializer(StrictFieldsMixin, serializers.Serializer):
    line = id_field()
    quantity = serializers.IntegerField(min_value=0)


class TransferReceiveSerializer(StrictFieldsMixin, serializers.Serializer):
    lines = TransferReceiptLineSerializer(many=True, allow_empty=False)


class NoteSerializer(StrictFieldsMixin, serializers.Serializer):
    # Closing a transfer or deciding an adjustment records the note as the change reason.
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=min(
            change_reason_max_length(Transfer), change_reason_max_length(InventoryAdjustment)
        ),
        default="",
    )


class AdjustmentSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    location = serializers.CharField(source="location.code")
    lot = serializers.CharField(source="lot.code", allow_null=True)
    requested_by = serializers.CharField(source="requested_by.username")

    class Meta:
        model = InventoryAdjustment
        fields = [
            "id",
            "sku",
            "location",
            "status",
            "lot",
            "quantity",
            "reason_code",
            "note",
            "unit_cost",
            "value",
            "state",
            "requested_by",
            "created_at",
            "posted_at",
        ]


class AdjustmentCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    sku = sku_field()
    location = location_field()
    quantity = serializers.IntegerField()
    reason_code = serializers.ChoiceField(
        choices=InventoryAdjustment._meta.get_field("reason_code").choices
    )
    status = serializers.ChoiceField(choices=StockStatus.choices, default=StockStatus.SELLABLE)
    lot = serializers.CharField(required=False, max_length=64)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class AllocationRuleSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    channel = serializers.SlugRelatedField(slug_field="code", queryset=Channel.objects.all())
    sku = sku_field(required=False, allow_null=True)

    class Meta:
        model = AllocationRule
        fields = [
            "id",
            "channel",
            "sku",
            "protected",
            "buffer",
            "cap",
            "max_units",
            "threshold",
            "updated_at",
        ]
        read_only_fields = ["id", "updated_at"]
        validators = []  # uniqueness per (channel, sku) is checked by the service


class ReservationSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    location = serializers.CharField(source="location.code")
    channel = serializers.CharField(source="channel.code")

    class Meta:
        model = Reservation
        fields = [
            "id",
            "sku",
            "location",
            "channel",
            "line_reference",
            "quantity",
            "state",
            "created_at",
            "closed_at",
        ]


class ReservationCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    sku = sku_field()
    location = location_field()
    channel = serializers.SlugRelatedField(slug_field="code", queryset=Channel.objects.all())
    quantity = serializers.IntegerField(min_value=1)
    line_reference = serializers.CharField(max_length=128)


class ReservationReleaseSerializer(StrictFieldsMixin, serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, required=False)


class AvailabilitySerializer(serializers.Serializer):
    sku = serializers.CharField()
    channel_sku = serializers.CharField()
    available = serializers.IntegerField()
    pool = serializers.IntegerField(required=False)
    reservable = serializers.IntegerField(required=False)
    rule = serializers.CharField(required=False)
    changed_at = serializers.DateTimeField(required=False)
