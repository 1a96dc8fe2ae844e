"""Purchasing API representations (output) and inputs (validated, then a service call)."""

from rest_framework import serializers

from erp.api.base import StrictFieldsMixin, id_field
from erp.models import Endpoint, Location, Sku
from purchasing.models import (
    LandedCharge,
    LandedChargeAllocation,
    OverReceipt,
    Proposal,
    ProposalLine,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    Receipt,
    ReceiptLine,
    ReplenishmentRun,
    Supplier,
    SupplierContact,
    SupplierItem,
)


def code_field(model, **kwargs):
    return serializers.SlugRelatedField(slug_field="code", queryset=model.objects.all(), **kwargs)


class SupplierContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = SupplierContact
        fields = ["id", "name", "role", "email", "phone"]


class SupplierSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    order_endpoint = code_field(Endpoint, required=False, allow_null=True)
    dropship_location = code_field(Location, required=False, allow_null=True)
    contacts = SupplierContactSerializer(many=True, read_only=True)
    item_count = serializers.IntegerField(read_only=True)
    open_orders = serializers.IntegerField(read_only=True)

    class Meta:
        model = Supplier
        fields = [
            "id",
            "code",
            "name",
            "currency",
            "payment_terms",
            "order_email",
            "order_endpoint",
            "dropship_location",
            "qa_hold",
            "over_receipt_tolerance_percent",
            "notes",
            "active",
            "contacts",
            "item_count",
            "open_orders",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # The service checks uniqueness (one message, one place).
        extra_kwargs = {"code": {"validators": []}}


class SupplierItemSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    supplier = code_field(Supplier)
    sku = code_field(Sku)

    class Meta:
        model = SupplierItem
        fields = [
            "id",
            "supplier",
            "sku",
            "supplier_sku",
            "unit_cost",
            "lead_time_days",
            "moq",
            "pack_multiple",
            "preferred",
            "qa_hold",
            "active",
            "updated_at",
        ]
        read_only_fields = ["id", "updated_at"]
        validators = []  # supplier + SKU is an upsert key for the service, not a refusal


class SupplierItemUpdateSerializer(SupplierItemSerializer):
    class Meta(SupplierItemSerializer.Meta):
        read_only_fields = ["id", "updated_at", "supplier", "sku"]


class PriceListInputSerializer(StrictFieldsMixin, serializers.Serializer):
    file = serializers.FileField(
        required=False,
        help_text="CSV: "
        + ", ".join(
            (
                "sku",
                "supplier_sku",
                "unit_cost",
                "lead_time_days",
                "moq",
                "pack_multiple",
                "[preferred]",
            )
        ),
    )
    content = serializers.CharField(
        required=False, trim_whitespace=False, help_text="The CSV as text."
    )

    def validate(self, data):
        if bool(data.get("file")) == bool(data.get("content")):
            raise serializers.ValidationError({"file": "Send the CSV as `file` or as `content`."})
        return data


class RefusedRowSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    field = serializers.CharField()
    message = serializers.CharField()


class PriceListReportSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    refused = RefusedRowSerializer(many=True)


class PurchaseOrderLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    supplier_sku = serializers.SerializerMethodField()
    open_quantity = serializers.IntegerField(read_only=True)

    class Meta:
        model = PurchaseOrderLine
        fields = [
            "id",
            "line_number",
            "sku",
            "supplier_sku",
            "quantity_ordered",
            "quantity_received",
            "over_receipt_approved",
            "open_quantity",
            "unit_cost",
            "expected_date",
            "landed_cost",
            "reference",
        ]

    def get_supplier_sku(self, line) -> str:
        return line.supplier_item.supplier_sku if line.supplier_item else ""


class PurchaseOrderEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", allow_null=True)

    class Meta:
        model = PurchaseOrderEvent
        fields = ["kind", "from_state", "to_state", "message", "actor", "at"]


class PurchaseOrderSerializer(serializers.ModelSerializer):
    supplier = serializers.CharField(source="supplier.code")
    destination = serializers.CharField(source="destination.code")
    requested_by = serializers.CharField(source="requested_by.username")
    approval = serializers.IntegerField(source="approval_id", allow_null=True)
    line_count = serializers.IntegerField(read_only=True)
    units_ordered = serializers.IntegerField(read_only=True)
    units_received = serializers.IntegerField(read_only=True)
    total = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)

    class Meta:
        model = PurchaseOrder
        fields = [
            "id",
            "number",
            "supplier",
            "destination",
            "kind",
            "state",
            "currency",
            "exchange_rate",
            "expected_date",
            "requested_by",
            "approval",
            "note",
            "reference",
            "cancel_reason",
            "line_count",
            "units_ordered",
            "units_received",
            "total",
            "created_at",
            "submitted_at",
            "approved_at",
            "sent_at",
            "received_at",
            "closed_at",
            "cancelled_at",
            "escalated_at",
        ]


class PurchaseOrderDetailSerializer(PurchaseOrderSerializer):
    lines = PurchaseOrderLineSerializer(many=True)
    events = PurchaseOrderEventSerializer(many=True)

    class Meta(PurchaseOrderSerializer.Meta):
        fields = [*PurchaseOrderSerializer.Meta.fields, "lines", "events"]


class PurchaseOrderLineInputSerializer(StrictFieldsMixin, serializers.Serializer):
    sku = code_field(Sku)
    quantity = serializers.IntegerField(min_value=1)
    unit_cost = serializers.DecimalField(
        max_digits=12, decimal_places=4, required=False, help_text="Default: the supplier's price."
    )
    expected_date = serializers.DateField(required=False)


class PurchaseOrderCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    supplier = code_field(Supplier)
    destination = code_field(Location)
    exchange_rate = serializers.DecimalField(max_digits=12, decimal_places=6, required=False)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    reference = serializers.CharField(required=False, allow_blank=True, default="", max_length=128)
    lines = PurchaseOrderLineInputSerializer(many=True, allow_empty=False, max_length=1000)


class PurchaseOrderUpdateSerializer(StrictFieldsMixin, serializers.Serializer):
    destination = code_field(Location, required=False)
    exchange_rate = serializers.DecimalField(max_digits=12, decimal_places=6, required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    lines = PurchaseOrderLineInputSerializer(
        many=True, allow_empty=False, max_length=1000, required=False
    )


class PurchaseOrderDecisionSerializer(StrictFieldsMixin, serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class PurchaseOrderReasonSerializer(StrictFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class GoodsReceiptLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    lot = serializers.CharField(source="lot.code", allow_null=True)
    line = serializers.IntegerField(source="purchase_order_line_id")

    class Meta:
        model = ReceiptLine
        fields = [
            "id",
            "line",
            "sku",
            "scanned_code",
            "quantity",
            "status",
            "lot",
            "serials",
            "unit_cost",
        ]


class GoodsReceiptSerializer(serializers.ModelSerializer):
    purchase_order = serializers.CharField(source="purchase_order.number")
    location = serializers.CharField(source="location.code")
    received_by = serializers.CharField(source="received_by.username")
    lines = GoodsReceiptLineSerializer(many=True)

    class Meta:
        model = Receipt
        fields = [
            "id",
            "number",
            "purchase_order",
            "location",
            "received_by",
            "received_at",
            "note",
            "lines",
        ]


class GoodsReceiptLineInputSerializer(StrictFieldsMixin, serializers.Serializer):
    line = id_field(required=False, help_text="The PO line id; or give `sku` instead.")
    sku = serializers.CharField(
        required=False, max_length=128, help_text="SKU code, barcode or supplier SKU as scanned."
    )
    quantity = serializers.IntegerField(min_value=1)
    lot = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    expires_on = serializers.DateField(required=False, allow_null=True, default=None)
    serials = serializers.ListField(
        child=serializers.CharField(max_length=128), required=False, default=list, max_length=10000
    )
    status = serializers.ChoiceField(
        choices=["sellable", "inspection"], required=False, allow_null=True, default=None
    )

    def validate(self, data):
        if ("line" in data) == ("sku" in data):
            raise serializers.ValidationError({"line": "Give the PO line id or the scanned SKU."})
        return data


class GoodsReceiptCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    purchase_order = serializers.SlugRelatedField(
        slug_field="number", queryset=PurchaseOrder.objects.all()
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)
    lines = GoodsReceiptLineInputSerializer(many=True, allow_empty=False, max_length=1000)


class OverReceiptSerializer(serializers.ModelSerializer):
    line = serializers.IntegerField(source="purchase_order_line_id")
    requested_by = serializers.CharField(source="requested_by.username")
    approval = serializers.IntegerField(source="approval_id", allow_null=True)

    class Meta:
        model = OverReceipt
        fields = [
            "id",
            "line",
            "quantity",
            "state",
            "requested_by",
            "approval",
            "note",
            "created_at",
        ]


class OverReceiptCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    line = serializers.PrimaryKeyRelatedField(
        queryset=PurchaseOrderLine.objects.all(), pk_field=id_field()
    )
    quantity = serializers.IntegerField(min_value=1)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)


class LandedChargeAllocationSerializer(serializers.ModelSerializer):
    line = serializers.IntegerField(source="purchase_order_line_id")

    class Meta:
        model = LandedChargeAllocation
        fields = ["line", "amount", "capitalized", "expensed"]


class LandedChargeSerializer(serializers.ModelSerializer):
    purchase_order = serializers.CharField(source="purchase_order.number")
    allocations = LandedChargeAllocationSerializer(many=True)

    class Meta:
        model = LandedCharge
        fields = [
            "id",
            "purchase_order",
            "kind",
            "description",
            "amount",
            "currency",
            "exchange_rate",
            "basis",
            "capitalized",
            "expensed",
            "applied_at",
            "allocations",
        ]


class LandedChargeCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    purchase_order = serializers.SlugRelatedField(
        slug_field="number", queryset=PurchaseOrder.objects.all()
    )
    kind = serializers.ChoiceField(choices=LandedCharge.Kind.choices)
    # Negative amounts reach the service, which refuses them with its own message.
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    basis = serializers.ChoiceField(
        choices=LandedCharge.Basis.choices, default=LandedCharge.Basis.VALUE
    )
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=255
    )
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False)
    exchange_rate = serializers.DecimalField(max_digits=12, decimal_places=6, required=False)


# --- replenishment proposals -----------------------------------------------------------------


class ProposalLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    supplier_sku = serializers.CharField(source="supplier_item.supplier_sku")
    moq = serializers.IntegerField(source="supplier_item.moq")
    pack_multiple = serializers.IntegerField(source="supplier_item.pack_multiple")
    purchase_order_line = serializers.IntegerField(source="purchase_order_line_id", allow_null=True)

    class Meta:
        model = ProposalLine
        fields = [
            "id",
            "sku",
            "supplier_sku",
            "state",
            "velocity",
            "sigma",
            "lead_time_days",
            "review_period_days",
            "on_hand",
            "on_order",
            "in_transit",
            "position",
            "safety_stock",
            "reorder_point",
            "order_up_to",
            "cover_days",
            "raw_quantity",
            "suggested_quantity",
            "quantity",
            "moq",
            "pack_multiple",
            "reason",
            "purchase_order_line",
        ]
        read_only_fields = fields


class ProposalSerializer(serializers.ModelSerializer):
    supplier = serializers.CharField(source="supplier.code")
    destination = serializers.CharField(source="destination.code")
    run = serializers.IntegerField(source="run_id")
    purchase_order = serializers.CharField(
        source="purchase_order.number", allow_null=True, default=None
    )
    lines = ProposalLineSerializer(many=True)

    class Meta:
        model = Proposal
        fields = [
            "id",
            "run",
            "supplier",
            "destination",
            "state",
            "purchase_order",
            "decided_at",
            "created_at",
            "lines",
        ]
        read_only_fields = fields


class ProposalAcceptSerializer(StrictFieldsMixin, serializers.Serializer):
    exchange_rate = serializers.DecimalField(
        max_digits=12, decimal_places=6, required=False, allow_null=True
    )


class ProposalLineChangeSerializer(StrictFieldsMixin, serializers.Serializer):
    line = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    quantity = serializers.IntegerField(
        required=False, min_value=1, max_value=2**31 - 1, help_text="Order this many."
    )
    drop = serializers.BooleanField(required=False, default=False, help_text="Leave it out.")

    def validate(self, attrs):
        if attrs.get("quantity") is None and not attrs.get("drop"):
            raise serializers.ValidationError({"quantity": "Give a quantity, or drop the line."})
        return attrs


class ReplenishmentRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReplenishmentRun
        fields = [
            "id",
            "trigger",
            "started_at",
            "finished_at",
            "window_days",
            "service_level_z",
            "review_period_days",
            "recent_weight",
            "pairs_evaluated",
            "lines_proposed",
            "without_supplier",
        ]
        read_only_fields = fields
