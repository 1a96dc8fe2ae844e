"""API for master data: SKUs (with catalog bulk upsert), locations, channels, listings."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from erp import selectors
from erp.api import filters
from erp.api.base import ServiceViewSet, StrictFieldsMixin
from erp.models import Channel, ChannelListing, Endpoint, Location, Sku
from erp.models.master_data import code_validator
from erp.services import master_data as services

# --- serializers ---------------------------------------------------------------------------


class SkuSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    substitutes = serializers.SlugRelatedField(
        slug_field="code", many=True, required=False, queryset=Sku.objects.all()
    )

    class Meta:
        model = Sku
        fields = [
            "id",
            "code",
            "name",
            "barcode",
            "unit_of_measure",
            "pack_quantity",
            "weight_grams",
            "length_mm",
            "width_mm",
            "height_mm",
            "unit_cost",
            "product_family",
            "substitutes",
            "lot_tracked",
            "serial_tracked",
            "expiry_tracked",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class SkuBulkRowSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Sku
        fields = [
            "code",
            "name",
            *[name for name in services.BULK_SKU_FIELDS if name != "name"],
        ]
        # Uniqueness is checked set-based by the service, not one query per row.
        extra_kwargs = {"code": {"validators": [code_validator]}, "barcode": {"validators": []}}


class SkuBulkUpsertSerializer(StrictFieldsMixin, serializers.Serializer):
    skus = SkuBulkRowSerializer(many=True, allow_empty=False, max_length=services.MAX_BULK_ROWS)


class SkuBulkUpsertResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    created_codes = serializers.ListField(child=serializers.CharField())
    updated_codes = serializers.ListField(child=serializers.CharField())


class LocationSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Location
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "region",
            "postal_zone",
            "can_ship",
            "shelf_floor",
            "priority",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class ChannelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    eligible_locations = serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=Location.objects.all()
    )
    availability_endpoint = serializers.SlugRelatedField(
        slug_field="code", queryset=Endpoint.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Channel
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "currency",
            "ship_by_sla_hours",
            "fee_rate",
            "return_window_days",
            "refund_timing",
            "eligible_locations",
            "availability_endpoint",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class ChannelListingSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    channel = serializers.SlugRelatedField(slug_field="code", queryset=Channel.objects.all())
    sku = serializers.SlugRelatedField(slug_field="code", queryset=Sku.objects.all())

    class Meta:
        model = ChannelListing
        fields = [
            "id",
            "channel",
            "sku",
            "channel_sku",
            "external_listing_id",
            "active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


# --- filters -------------------------------------------------------------------------------


class SkuFilter(filters.FilterSet):
    code_prefix = django_filters.CharFilter(field_name="code", lookup_expr="startswith")
    updated_since = filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    q = django_filters.CharFilter(method="search", label="Code, name or barcode")

    class Meta:
        model = Sku
        fields = ["code", "barcode", "product_family", "active", "lot_tracked", "serial_tracked"]

    def search(self, queryset, name, value):
        return queryset & selectors.sku_list(search=value)


class LocationFilter(filters.FilterSet):
    class Meta:
        model = Location
        fields = ["code", "kind", "region", "can_ship", "active"]


class ChannelFilter(filters.FilterSet):
    class Meta:
        model = Channel
        fields = ["code", "kind", "currency", "active"]


class ChannelListingFilter(filters.FilterSet):
    channel = django_filters.CharFilter(field_name="channel__code")
    sku = django_filters.CharFilter(field_name="sku__code")
    updated_since = filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = ChannelListing
        fields = ["channel", "sku", "channel_sku", "external_listing_id", "active"]


# --- views ---------------------------------------------------------------------------------


class SkuViewSet(ServiceViewSet):
    """SKUs, looked up by code. POST `bulk-upsert/` loads a catalog of up to 1,000 SKUs."""

    serializer_class = SkuSerializer
    filterset_class = SkuFilter
    lookup_field = "code"
    lookup_value_regex = r"[^/]+"
    create_service = staticmethod(services.create_sku)
    update_service = staticmethod(lambda sku, **kw: services.update_sku(sku=sku, **kw))

    def get_queryset(self):
        return Sku.objects.prefetch_related("substitutes")

    @extend_schema(request=SkuBulkUpsertSerializer, responses=SkuBulkUpsertResultSerializer)
    @action(detail=False, methods=["post"], url_path="bulk-upsert")
    def bulk_upsert(self, request):
        serializer = SkuBulkUpsertSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.bulk_upsert_skus(
            actor=request.user, rows=serializer.validated_data["skus"]
        )
        return Response(
            {
                "created": len(result.created),
                "updated": len(result.updated),
                "unchanged": len(result.unchanged),
                "created_codes": result.created,
                "updated_codes": result.updated,
            }
        )


class LocationViewSet(ServiceViewSet):
    serializer_class = LocationSerializer
    filterset_class = LocationFilter
    lookup_field = "code"
    queryset = Location.objects.all()
    create_service = staticmethod(services.create_location)
    update_service = staticmethod(
        lambda location, **kw: services.update_location(location=location, **kw)
    )


class ChannelViewSet(ServiceViewSet):
    serializer_class = ChannelSerializer
    filterset_class = ChannelFilter
    lookup_field = "code"
    channel_url_kwarg = "code"
    queryset = Channel.objects.prefetch_related("eligible_locations")
    create_service = staticmethod(services.create_channel)
    update_service = staticmethod(
        lambda channel, **kw: services.update_channel(channel=channel, **kw)
    )


class ChannelListingViewSet(ServiceViewSet):
    serializer_class = ChannelListingSerializer
    filterset_class = ChannelListingFilter
    queryset = ChannelListing.objects.select_related("channel", "sku")
    create_service = staticmethod(services.create_listing)
    update_service = staticmethod(
        lambda listing, **kw: services.update_listing(listing=listing, **kw)
    )
