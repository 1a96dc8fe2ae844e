"""API representations for returns; input serializers only parse, services decide."""

from datetime import date, datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from erp.api.base import StrictFieldsMixin, id_field
from erp.api.schema import ErrorDetailSerializer
from erp.input_bounds import change_reason_max_length, max_length, storable_datetime
from erp.models import Location
from inventory.models import Lot
from returns.models import (
    Disposition,
    Grade,
    Inspection,
    ReceivedItem,
    Refund,
    RefundLine,
    ReturnReason,
    Rma,
    RmaLine,
)

# --- input --------------------------------------------------------------------------------

# Where the text lands: lot codes, serial numbers, and notes kept as history change reasons.
LOT_CODE_MAX = max_length(Lot, "code")
SERIAL_MAX = max_length(ReceivedItem, "serial")
CHANGE_REASON_MAX = min(change_reason_max_length(Rma), change_reason_max_length(Refund))


@extend_schema_field(OpenApiTypes.DATETIME)
class DateOrDateTimeField(serializers.Field):
    """An ISO date (the end of that day) or an ISO date-time."""

    default_error_messages = {"invalid": "Use an ISO 8601 date or date-time."}

    def to_internal_value(self, data) -> date | datetime:
        text = str(data).strip()
        try:
            value = parse_datetime(text) or parse_date(text)
        except ValueError:
            value = None
        if value is None:
            self.fail("invalid")
        if isinstance(value, datetime):
            try:
                return storable_datetime(value)
            except DjangoValidationError as error:
                raise serializers.ValidationError(error.messages, code=error.code) from None
        return value

    def to_representation(self, value):
        return value.isoformat()


class RmaLineInputSerializer(StrictFieldsMixin, serializers.Serializer):
    order_line_id = id_field(required=False, help_text="Our order line id.")
    external_line_id = serializers.CharField(
        required=False, help_text="The channel's line id, instead of order_line_id."
    )
    quantity = serializers.IntegerField(min_value=1)
    reason = serializers.CharField(
        max_length=max_length(ReturnReason, "code"),
        help_text="A return reason code (GET /returns/reasons/).",
    )
    lot = serializers.CharField(
        required=False, max_length=LOT_CODE_MAX, help_text="Lot code expected back."
    )
    serials = serializers.ListField(
        child=serializers.CharField(max_length=SERIAL_MAX), required=False
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)

    def validate(self, data):
        if "order_line_id" not in data and "external_line_id" not in data:
            raise serializers.ValidationError(
                {"order_line_id": ["Name the order line (or external_line_id)."]}, code="required"
            )
        return data


class ExternalRefundSerializer(StrictFieldsMixin, serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    reference = serializers.CharField(required=False, allow_blank=True, max_length=128)
    refunded_at = serializers.DateTimeField(required=False)
    note = serializers.CharField(required=False, allow_blank=True)


class RmaCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    order_id = id_field(required=False)
    channel = serializers.CharField(required=False, help_text="With order_external_id.")
    order_external_id = serializers.CharField(required=False)
    source = serializers.ChoiceField(choices=Rma.Source.choices, default=Rma.Source.CHANNEL_API)
    external_reference = serializers.CharField(required=False, allow_blank=True, max_length=128)
    return_label_reference = serializers.CharField(required=False, allow_blank=True, max_length=128)
    expected_by = DateOrDateTimeField(required=False)
    override_reason = serializers.CharField(required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True)
    lines = RmaLineInputSerializer(many=True, allow_empty=False)
    external_refund = ExternalRefundSerializer(
        required=False, help_text="A refund the channel already made: recorded, not sent back."
    )

    def validate(self, data):
        if "order_id" not in data and not ("channel" in data and "order_external_id" in data):
            raise serializers.ValidationError(
                {"order_id": ["Name the order: order_id, or channel and order_external_id."]},
                code="required",
            )
        return data


class ReceiptLineInputSerializer(StrictFieldsMixin, serializers.Serializer):
    rma_line_id = id_field()
    quantity = serializers.IntegerField(min_value=1)
    serials = serializers.ListField(
        child=serializers.CharField(max_length=SERIAL_MAX), required=False
    )
    lot = serializers.CharField(required=False, max_length=LOT_CODE_MAX)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class UnexpectedItemInputSerializer(StrictFieldsMixin, serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField(min_value=1)
    serials = serializers.ListField(
        child=serializers.CharField(max_length=SERIAL_MAX), required=False
    )
    lot = serializers.CharField(required=False, max_length=LOT_CODE_MAX)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class ReceiptInputSerializer(StrictFieldsMixin, serializers.Serializer):
    location = serializers.SlugRelatedField(slug_field="code", queryset=Location.objects.all())
    lines = ReceiptLineInputSerializer(many=True, required=False)
    unexpected = UnexpectedItemInputSerializer(many=True, required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class InspectionInputSerializer(StrictFieldsMixin, serializers.Serializer):
    received_item_id = id_field(required=False)
    serial = serializers.CharField(required=False, max_length=SERIAL_MAX)
    rma_line_id = id_field(required=False)
    quantity = serializers.IntegerField(min_value=1, required=False)
    grade = serializers.ChoiceField(choices=Grade.choices)
    disposition = serializers.ChoiceField(choices=Disposition.choices)
    supplier = serializers.CharField(required=False, allow_blank=True, max_length=128)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class InspectionsInputSerializer(StrictFieldsMixin, serializers.Serializer):
    results = InspectionInputSerializer(many=True, allow_empty=False)


class RefundRequestSerializer(StrictFieldsMixin, serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        help_text="An agreed amount instead of the computed one; never above what is left.",
    )
    note = serializers.CharField(required=False, allow_blank=True)


class DecisionNoteSerializer(StrictFieldsMixin, serializers.Serializer):
    # Closing an RMA or deciding a refund records the note as the change reason.
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=CHANGE_REASON_MAX
    )


class CancelReasonSerializer(StrictFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=CHANGE_REASON_MAX)


# --- output -------------------------------------------------------------------------------


class ReturnReasonSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReturnReason
        fields = ["code", "label", "active", "counts_as_damage", "our_fault"]


class RmaLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    lot = serializers.CharField(source="lot.code", allow_null=True)
    reason = serializers.CharField(source="reason.code")
    order_line_id = id_field()
    external_line_id = serializers.CharField(source="order_line.external_line_id")

    class Meta:
        model = RmaLine
        fields = [
            "id",
            "order_line_id",
            "external_line_id",
            "sku",
            "quantity",
            "quantity_received",
            "lot",
            "serials",
            "reason",
            "note",
        ]


class ReceivedItemSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    lot = serializers.CharField(source="lot.code", allow_null=True)
    location = serializers.CharField(source="location.code")
    received_by = serializers.CharField(source="receipt.received_by.username")
    units_inspected = serializers.IntegerField()

    class Meta:
        model = ReceivedItem
        fields = [
            "id",
            "receipt_id",
            "rma_line_id",
            "sku",
            "lot",
            "serial",
            "quantity",
            "units_inspected",
            "location",
            "received_at",
            "received_by",
            "discrepancy",
            "note",
            "discrepancy_resolved_at",
            "discrepancy_resolution",
        ]


class InspectionSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="received_item.sku.code")
    serial = serializers.CharField(source="received_item.serial")
    inspected_by = serializers.CharField(source="inspected_by.username")
    write_off = serializers.SerializerMethodField()
    repair_order_id = serializers.SerializerMethodField()
    supplier_claim = serializers.SerializerMethodField()

    class Meta:
        model = Inspection
        fields = [
            "id",
            "received_item_id",
            "sku",
            "serial",
            "quantity",
            "grade",
            "disposition",
            "note",
            "inspected_by",
            "inspected_at",
            "write_off",
            "repair_order_id",
            "supplier_claim",
        ]

    def get_write_off(self, inspection) -> dict | None:
        adjustment = inspection.write_off
        if adjustment is None:
            return None
        return {"id": adjustment.pk, "state": adjustment.state, "value": str(adjustment.value)}

    def get_repair_order_id(self, inspection) -> int | None:
        repair = getattr(inspection, "repair_order", None)
        return repair.pk if repair else None

    def get_supplier_claim(self, inspection) -> dict | None:
        claim = getattr(inspection, "supplier_claim", None)
        if claim is None:
            return None
        return {"id": claim.pk, "supplier": claim.supplier, "amount": str(claim.amount)}


class RefundLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = RefundLine
        fields = [
            "rma_line_id",
            "quantity",
            "items_amount",
            "discount_amount",
            "tax_amount",
            "restocking_fee",
            "presentment_items_amount",
            "presentment_tax_amount",
            "presentment_restocking_fee",
        ]


class RefundSerializer(serializers.ModelSerializer):
    rma = serializers.CharField(source="rma.number")
    channel = serializers.CharField(source="channel.code")
    requested_by = serializers.CharField(source="requested_by.username")
    lines = RefundLineSerializer(many=True)

    class Meta:
        model = Refund
        fields = [
            "id",
            "number",
            "rma",
            "rma_id",
            "order_id",
            "channel",
            "state",
            "currency",
            "items_amount",
            "tax_amount",
            "shipping_amount",
            "restocking_fee",
            "computed_amount",
            "amount",
            "capped",
            "presentment_currency",
            "presentment_shipping_amount",
            "presentment_computed_amount",
            "presentment_amount",
            "note",
            "external_reference",
            "requested_by",
            "requested_at",
            "posted_at",
            "closed_at",
            "outbox_message_id",
            "lines",
        ]


class RmaSummarySerializer(serializers.ModelSerializer):
    channel = serializers.CharField(source="channel.code")
    order_external_id = serializers.CharField(source="order.external_id")
    order_number = serializers.CharField(source="order.order_number")
    units = serializers.IntegerField()
    units_received = serializers.IntegerField()

    class Meta:
        model = Rma
        fields = [
            "id",
            "number",
            "channel",
            "order_id",
            "order_external_id",
            "order_number",
            "state",
            "source",
            "external_reference",
            "return_label_reference",
            "expected_by",
            "units",
            "units_received",
            "authorized_at",
            "state_changed_at",
        ]


class RmaSerializer(serializers.ModelSerializer):
    channel = serializers.CharField(source="channel.code")
    order_external_id = serializers.CharField(source="order.external_id")
    order_number = serializers.CharField(source="order.order_number")
    created_by = serializers.CharField(source="created_by.username")
    lines = RmaLineSerializer(many=True)
    received_items = ReceivedItemSerializer(many=True)
    inspections = InspectionSerializer(many=True)
    refunds = RefundSerializer(many=True)

    class Meta:
        model = Rma
        fields = [
            "id",
            "number",
            "channel",
            "order_id",
            "order_external_id",
            "order_number",
            "state",
            "source",
            "external_reference",
            "return_label_reference",
            "channel_returns_centre",
            "expected_by",
            "override_reason",
            "note",
            "created_by",
            "authorized_at",
            "first_received_at",
            "received_at",
            "inspected_at",
            "closed_at",
            "cancelled_at",
            "lines",
            "received_items",
            "inspections",
            "refunds",
        ]


class RefundQuoteLineSerializer(serializers.Serializer):
    rma_line_id = id_field(source="rma_line.pk")
    quantity = serializers.IntegerField()
    items_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    discount_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    tax_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    restocking_fee = serializers.DecimalField(max_digits=12, decimal_places=2)


class RefundQuoteSerializer(serializers.Serializer):
    lines = RefundQuoteLineSerializer(many=True)
    items_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    tax_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    shipping_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    restocking_fee = serializers.DecimalField(max_digits=12, decimal_places=2)
    computed_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    paid = serializers.DecimalField(max_digits=12, decimal_places=2)
    refunded = serializers.DecimalField(max_digits=12, decimal_places=2)
    remaining_paid = serializers.DecimalField(max_digits=12, decimal_places=2)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    capped = serializers.BooleanField()
    not_due = serializers.ListField(child=serializers.CharField())


class FigureRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    shipped = serializers.IntegerField()
    returned = serializers.IntegerField()
    return_rate = serializers.DecimalField(max_digits=7, decimal_places=4, allow_null=True)
    inspected = serializers.IntegerField()
    restocked = serializers.IntegerField()
    recoverable_rate = serializers.DecimalField(max_digits=7, decimal_places=4, allow_null=True)
    damaged = serializers.IntegerField()
    damage_rate = serializers.DecimalField(max_digits=7, decimal_places=4, allow_null=True)


class CycleTimeSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    average_hours = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    longest_hours = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)


class FiguresSerializer(serializers.Serializer):
    by = serializers.CharField()
    rows = FigureRowSerializer(many=True)
    totals = FigureRowSerializer()
    cycle_time = CycleTimeSerializer()


# --- marketplace-initiated returns ----------------------------------------------------------


class ChannelReturnResultSerializer(serializers.Serializer):
    """What became of one channel return: created (a new RMA, with the channel's refund
    when it made one), refund_recorded (on the RMA already known), matched (the channel
    echoed a refund of ours), unchanged (delivered again), refused (queued in "channel
    returns to match", with the reasons)."""

    outcome = serializers.ChoiceField(
        choices=["created", "refund_recorded", "matched", "unchanged", "refused"]
    )
    return_id = serializers.CharField()
    order_external_id = serializers.CharField()
    lines = serializers.ListField(
        child=serializers.IntegerField(),
        source="line_numbers",
        help_text="Report lines of this return (the header is line 1); empty for JSON.",
    )
    rma = serializers.SerializerMethodField()
    refund = serializers.SerializerMethodField()
    errors = ErrorDetailSerializer(many=True)

    @extend_schema_field(OpenApiTypes.STR)
    def get_rma(self, result):
        return result.rma.number if result.rma else None

    @extend_schema_field(OpenApiTypes.STR)
    def get_refund(self, result):
        return result.refund.number if result.refund else None

    def to_representation(self, result):
        data = super().to_representation(result)
        data["errors"] = [error.as_dict() for error in result.errors]
        return data


class ReturnsReportResultSerializer(serializers.Serializer):
    report = serializers.CharField(source="source_format")
    rows = serializers.IntegerField()
    created = serializers.SerializerMethodField()
    refunds_recorded = serializers.SerializerMethodField()
    matched = serializers.SerializerMethodField()
    unchanged = serializers.SerializerMethodField()
    refused = serializers.SerializerMethodField()
    results = ChannelReturnResultSerializer(many=True)

    @extend_schema_field(OpenApiTypes.INT)
    def get_created(self, report):
        return report.count("created")

    @extend_schema_field(OpenApiTypes.INT)
    def get_refunds_recorded(self, report):
        return report.count("refund_recorded")

    @extend_schema_field(OpenApiTypes.INT)
    def get_matched(self, report):
        return report.count("matched")

    @extend_schema_field(OpenApiTypes.INT)
    def get_unchanged(self, report):
        return report.count("unchanged")

    @extend_schema_field(OpenApiTypes.INT)
    def get_refused(self, report):
        return report.count("refused")
