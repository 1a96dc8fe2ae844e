"""API representations for fulfillment; input serializers only parse, services decide."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from erp.api.base import StrictFieldsMixin, id_field
from erp.models import Channel, Endpoint, Location, Sku
from fulfillment.models import (
    Box,
    Carrier,
    CarrierService,
    ChannelFulfillmentPolicy,
    Package,
    PackageLine,
    PickList,
    PickTask,
    RateCard,
    Shipment,
    ShipmentLine,
    ShortPick,
    Slot,
)
from orders.models import Order


def enum_field(choices, component: str):
    """A read-only choice named in the schema (several models here have a `state`)."""
    schema = {"type": "string", "enum": [value for value, _ in choices]}

    @extend_schema_field(schema, component_name=component)
    class NamedChoiceField(serializers.ChoiceField):
        pass

    return NamedChoiceField(choices=choices, read_only=True)


def code_field(model, **kwargs):
    return serializers.SlugRelatedField(slug_field="code", queryset=model.objects.all(), **kwargs)


@extend_schema_field(OpenApiTypes.STR)
class ServiceKeyField(serializers.RelatedField):
    """A carrier service as `CARRIER:SERVICE` (service codes are unique per carrier only),
    the key the rate engine uses in its explanations."""

    default_error_messages = {
        "invalid": "Use CARRIER:SERVICE, e.g. UPS:GROUND.",
        "does_not_exist": "No carrier service {service_key}.",
    }

    def __init__(self, **kwargs):
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", CarrierService.objects.select_related("carrier"))
        super().__init__(**kwargs)

    def to_representation(self, value):
        return f"{value.carrier.code}:{value.code}"

    def to_internal_value(self, data):
        if not isinstance(data, str) or data.count(":") != 1:
            self.fail("invalid")
        carrier, code = data.split(":")
        service = self.get_queryset().filter(carrier__code=carrier, code=code).first()
        if service is None:
            self.fail("does_not_exist", service_key=data)
        return service


# --- master data ---------------------------------------------------------------------------------


class CarrierSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Carrier
        fields = ["id", "code", "name", "tracking_url_template", "tracking_pattern", "active"]
        read_only_fields = ["id"]


class CarrierServiceSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    carrier = code_field(Carrier)
    key = serializers.SerializerMethodField()

    class Meta:
        model = CarrierService
        fields = [
            "id",
            "key",
            "carrier",
            "code",
            "name",
            "service_level",
            "cutoff_time",
            "max_weight_grams",
            "active",
        ]
        read_only_fields = ["id"]
        validators = []  # a code unique per carrier is checked by the service

    def get_key(self, service) -> str:
        return f"{service.carrier.code}:{service.code}"


class RateCardSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    service = ServiceKeyField()

    class Meta:
        model = RateCard
        fields = [
            "id",
            "service",
            "origin_region",
            "zone",
            "min_weight_grams",
            "max_weight_grams",
            "price",
            "transit_days",
        ]
        read_only_fields = ["id"]
        validators = []  # bands and their overlaps are checked by the service


class BoxSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Box
        fields = [
            "id",
            "code",
            "name",
            "length_mm",
            "width_mm",
            "height_mm",
            "max_weight_grams",
            "tare_grams",
            "cost",
            "active",
        ]
        read_only_fields = ["id"]


class SlotSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    location = code_field(Location)
    sku = code_field(Sku)

    class Meta:
        model = Slot
        fields = ["id", "location", "sku", "code", "sort_key"]
        read_only_fields = ["id", "sort_key"]
        # The service reads the code (a-1-3 is A-1-3) and keeps one slot per SKU and node.
        extra_kwargs = {"code": {"validators": []}}
        validators = []


class SlotMoveSerializer(StrictFieldsMixin, serializers.Serializer):
    code = serializers.CharField(max_length=16)


class ChannelPolicySerializer(StrictFieldsMixin, serializers.ModelSerializer):
    channel = code_field(Channel)
    tracking_endpoint = code_field(Endpoint, required=False, allow_null=True)
    notification_endpoint = code_field(Endpoint, required=False, allow_null=True)

    class Meta:
        model = ChannelFulfillmentPolicy
        fields = [
            "id",
            "channel",
            "strict_penalties",
            "confirm_window_hours",
            "tracking_endpoint",
            "notification_endpoint",
            "notify_customer",
        ]
        read_only_fields = ["id"]


# --- the warehouse floor -----------------------------------------------------------------------


class PickTaskSerializer(serializers.ModelSerializer):
    order = serializers.IntegerField(source="order_id", read_only=True)
    order_reference = serializers.SerializerMethodField()
    line = serializers.IntegerField(source="line_id", read_only=True)
    sku = serializers.CharField(source="sku.code", read_only=True)
    title = serializers.SerializerMethodField()
    remaining = serializers.IntegerField(read_only=True)
    picked_by = serializers.CharField(source="picked_by.username", allow_null=True, read_only=True)
    state = enum_field(PickTask.State.choices, "PickTaskStateEnum")

    class Meta:
        model = PickTask
        fields = [
            "id",
            "sequence",
            "order",
            "order_reference",
            "line",
            "sku",
            "title",
            "slot_code",
            "quantity",
            "quantity_picked",
            "quantity_short",
            "remaining",
            "state",
            "picked_by",
            "picked_at",
        ]

    def get_order_reference(self, task) -> str:
        return str(task.order)

    def get_title(self, task) -> str:
        return task.line.title or task.sku.name


class PickListSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    wave_number = serializers.CharField(source="wave.number", read_only=True)
    location = serializers.CharField(source="location.code", read_only=True)
    assigned_to = serializers.CharField(
        source="assigned_to.username", allow_null=True, read_only=True
    )
    lines_total = serializers.IntegerField(read_only=True)
    lines_done = serializers.IntegerField(read_only=True)
    state = enum_field(PickList.State.choices, "PickListStateEnum")

    class Meta:
        model = PickList
        fields = [
            "id",
            "number",
            "wave",
            "wave_number",
            "sequence",
            "location",
            "state",
            "assigned_to",
            "started_at",
            "completed_at",
            "lines_total",
            "lines_done",
        ]


class PickListDetailSerializer(PickListSerializer):
    tasks = PickTaskSerializer(many=True, read_only=True)

    class Meta(PickListSerializer.Meta):
        fields = [*PickListSerializer.Meta.fields, "tasks"]


class ConfirmPickSerializer(StrictFieldsMixin, serializers.Serializer):
    slot_code = serializers.CharField(max_length=16, allow_blank=True, default="")
    barcode = serializers.CharField(max_length=128)
    quantity = serializers.IntegerField()
    lot_code = serializers.CharField(max_length=64, required=False, allow_null=True)
    serials = serializers.ListField(
        child=serializers.CharField(max_length=128), required=False, default=list
    )


class ShortPickInputSerializer(StrictFieldsMixin, serializers.Serializer):
    quantity_found = serializers.IntegerField()
    note = serializers.CharField(max_length=500, allow_blank=True, default="")
    lot_code = serializers.CharField(max_length=64, required=False, allow_null=True)
    serials = serializers.ListField(
        child=serializers.CharField(max_length=128), required=False, default=list
    )


class ShortPickSerializer(serializers.ModelSerializer):
    reported_by = serializers.CharField(source="reported_by.username", read_only=True)
    task = PickTaskSerializer(read_only=True)

    class Meta:
        model = ShortPick
        fields = [
            "id",
            "task",
            "quantity",
            "note",
            "reported_by",
            "reported_at",
            "count",
            "rerouted",
        ]


class PackLineSerializer(StrictFieldsMixin, serializers.Serializer):
    line = id_field(help_text="The order line's id.")
    quantity = serializers.IntegerField()


class DimensionsSerializer(StrictFieldsMixin, serializers.Serializer):
    length_mm = serializers.IntegerField(min_value=1)
    width_mm = serializers.IntegerField(min_value=1)
    height_mm = serializers.IntegerField(min_value=1)


class PackInputSerializer(StrictFieldsMixin, serializers.Serializer):
    order = id_field(help_text="The order's id.")
    location = code_field(Location)
    lines = PackLineSerializer(many=True, allow_empty=False)
    box = serializers.CharField(
        max_length=32, required=False, allow_null=True, allow_blank=True, default=None
    )
    dimensions = DimensionsSerializer(
        required=False, allow_null=True, default=None, help_text="Without a box: the outer size."
    )
    weight_grams = serializers.IntegerField()

    def service_lines(self) -> dict[int, int]:
        """{order line id: units}; a line named twice packs both quantities."""
        lines: dict[int, int] = {}
        for entry in self.validated_data["lines"]:
            lines[entry["line"]] = lines.get(entry["line"], 0) + entry["quantity"]
        return lines

    def service_dimensions(self):
        dims = self.validated_data.get("dimensions")
        return (dims["length_mm"], dims["width_mm"], dims["height_mm"]) if dims else None


class PackageLineSerializer(serializers.ModelSerializer):
    line = serializers.IntegerField(source="line_id", read_only=True)
    sku = serializers.CharField(source="line.sku.code", read_only=True)

    class Meta:
        model = PackageLine
        fields = ["line", "sku", "quantity"]


class PackageSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    location = serializers.CharField(source="location.code", read_only=True)
    box = serializers.CharField(source="box.code", allow_null=True, read_only=True)
    suggested_box = serializers.CharField(
        source="suggested_box.code", allow_null=True, read_only=True
    )
    packed_by = serializers.CharField(source="packed_by.username", read_only=True)
    lines = PackageLineSerializer(many=True, read_only=True)

    class Meta:
        model = Package
        fields = [
            "id",
            "number",
            "order",
            "location",
            "box",
            "suggested_box",
            "length_mm",
            "width_mm",
            "height_mm",
            "weight_grams",
            "packed_by",
            "packed_at",
            "lines",
        ]


class LabelInputSerializer(StrictFieldsMixin, serializers.Serializer):
    package = id_field(help_text="The package's id.")
    service = serializers.CharField(
        max_length=100,
        required=False,
        allow_null=True,
        allow_blank=True,
        default=None,
        help_text="CARRIER:SERVICE of a quoted service; empty for the recommended one.",
    )


class VoidInputSerializer(StrictFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(max_length=500, allow_blank=True, default="")


MANIFEST_MAX = 500


class ManifestInputSerializer(StrictFieldsMixin, serializers.Serializer):
    """The labelled shipments loaded on the truck, confirmed together (all or none)."""

    shipment_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        min_length=1,
        max_length=MANIFEST_MAX,
    )


class ShipmentLineSerializer(serializers.ModelSerializer):
    line = serializers.IntegerField(source="line_id", read_only=True)
    sku = serializers.CharField(source="sku.code", read_only=True)
    lot = serializers.CharField(source="lot.code", allow_null=True, read_only=True)

    class Meta:
        model = ShipmentLine
        fields = ["line", "sku", "quantity", "lot", "serials"]


class ShipmentSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    order_reference = serializers.SerializerMethodField()
    channel = serializers.CharField(source="order.channel.code", read_only=True)
    location = serializers.CharField(source="location.code", read_only=True)
    carrier = serializers.CharField(source="carrier.code", read_only=True)
    service = ServiceKeyField(read_only=True, allow_null=True)
    tracking_url = serializers.SerializerMethodField()
    lines = ShipmentLineSerializer(many=True, read_only=True)
    state = enum_field(Shipment.State.choices, "ShipmentStateEnum")
    source = enum_field(Shipment.Source.choices, "ShipmentSourceEnum")

    class Meta:
        model = Shipment
        fields = [
            "id",
            "number",
            "order",
            "order_reference",
            "channel",
            "location",
            "package",
            "carrier",
            "service",
            "tracking_number",
            "tracking_url",
            "state",
            "source",
            "external_reference",
            "cost",
            "transit_days",
            "promised_by",
            "created_at",
            "shipped_at",
            "lines",
            "rate_explanation",
        ]

    def get_order_reference(self, shipment) -> str:
        return str(shipment.order)

    def get_tracking_url(self, shipment) -> str:
        return shipment.carrier.tracking_url(shipment.tracking_number)


class ExternalLineSerializer(StrictFieldsMixin, serializers.Serializer):
    line_id = id_field(required=False, help_text="Our order line's id.")
    sku = serializers.CharField(max_length=64, required=False, help_text="Or the SKU's code.")
    quantity = serializers.IntegerField()
    lot = serializers.CharField(max_length=64, required=False)
    serials = serializers.ListField(
        child=serializers.CharField(max_length=128), required=False, default=list
    )


class ExternalShipmentSerializer(StrictFieldsMixin, serializers.Serializer):
    """A 3PL or WMS shipped (part of) an order from its node; name the order by our id, or
    by the channel's code and the channel's order id."""

    order = id_field(required=False, help_text="Our order id.")
    channel = serializers.CharField(max_length=32, required=False)
    external_id = serializers.CharField(max_length=128, required=False)
    location = serializers.CharField(max_length=32, help_text="The node that shipped.")
    carrier = serializers.CharField(max_length=32)
    service = serializers.CharField(max_length=48, required=False, allow_blank=True, default="")
    tracking_number = serializers.CharField(max_length=64)
    external_reference = serializers.CharField(
        max_length=128, required=False, allow_blank=True, default=""
    )
    lines = ExternalLineSerializer(many=True, allow_empty=False)

    def validate(self, data):
        if data.get("order") is None and not (data.get("channel") and data.get("external_id")):
            raise serializers.ValidationError(
                {"order": "Name the order: its id, or channel and external_id."}, code="required"
            )
        return data

    def order_id(self):
        """Our order id; the channel's order id is looked up (None when unknown)."""
        data = self.validated_data
        if data.get("order") is not None:
            return data["order"]
        return (
            Order.objects.filter(channel__code=data["channel"], external_id=data["external_id"])
            .values_list("pk", flat=True)
            .first()
        )

    def service_lines(self) -> list[dict]:
        return [
            {key: value for key, value in line.items() if value not in (None, "")}
            for line in self.validated_data["lines"]
        ]
