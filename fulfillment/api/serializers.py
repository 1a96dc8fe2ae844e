"""API representations for fulfillment; input serializers only parse, services decide."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from erp.api.base import StrictFieldsMixin
from erp.models import Channel, Endpoint, Location, Sku
from fulfillment.models import (
    Box,
    Carrier,
    CarrierService,
    ChannelFulfillmentPolicy,
    RateCard,
    Slot,
)


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
