"""The routing rules over the API: channel order policies, shipping zones and rates,
drop-ship sources and substitution rules. Reads for every role that may see them;
writes carry a reason and go through `orders.services.settings`, the services the back
office's settings screens call, so both refuse the same input."""

from rest_framework import serializers

from erp.api.base import ReasonMixin, SettingViewSet, StrictFieldsMixin
from erp.models import Channel, Location, Sku
from orders.models import (
    ChannelOrderPolicy,
    DropshipSource,
    ShippingRate,
    ShippingZone,
    SubstitutionRule,
)
from orders.services import settings as services


class _Setting(StrictFieldsMixin, ReasonMixin, serializers.ModelSerializer):
    class Meta:
        validators = []  # uniqueness and cross-record rules are the services'


class OrderPolicySerializer(_Setting):
    channel = serializers.SlugRelatedField(slug_field="code", queryset=Channel.objects.all())

    class Meta(_Setting.Meta):
        model = ChannelOrderPolicy
        fields = [
            "id",
            "channel",
            "risk_threshold",
            "require_captured_payment",
            "allow_substitution",
            "priority",
            "reason",
        ]
        read_only_fields = ["id"]


class ShippingZoneSerializer(_Setting):
    class Meta(_Setting.Meta):
        model = ShippingZone
        fields = ["id", "country", "postal_prefix", "zone", "reason"]
        read_only_fields = ["id"]


class ShippingRateSerializer(_Setting):
    class Meta(_Setting.Meta):
        model = ShippingRate
        fields = ["id", "origin_region", "zone", "cost", "transit_days", "reason"]
        read_only_fields = ["id"]


class DropshipSourceSerializer(_Setting):
    sku = serializers.SlugRelatedField(slug_field="code", queryset=Sku.objects.all())
    location = serializers.SlugRelatedField(slug_field="code", queryset=Location.objects.all())

    class Meta(_Setting.Meta):
        model = DropshipSource
        fields = ["id", "sku", "location", "cost", "transit_days", "reason"]
        read_only_fields = ["id"]


class SubstitutionRuleSerializer(_Setting):
    class Meta(_Setting.Meta):
        model = SubstitutionRule
        fields = ["id", "product_family", "allowed", "reason"]
        read_only_fields = ["id"]


class OrderPolicyViewSet(SettingViewSet):
    """Per channel: the risk score above which orders are held, payment capture,
    substitution and wave priority."""

    serializer_class = OrderPolicySerializer
    queryset = ChannelOrderPolicy.objects.select_related("channel").order_by("channel__code")
    filterset_fields = ["allow_substitution"]
    create_service = staticmethod(services.create_order_policy)
    update_service = staticmethod(
        lambda policy, **kw: services.update_order_policy(policy=policy, **kw)
    )


class ShippingZoneViewSet(SettingViewSet):
    """Destination zones by country and postal prefix (the longest prefix wins)."""

    serializer_class = ShippingZoneSerializer
    queryset = ShippingZone.objects.order_by("country", "postal_prefix")
    filterset_fields = ["country", "zone"]
    create_service = staticmethod(services.create_shipping_zone)
    update_service = staticmethod(lambda zone, **kw: services.update_shipping_zone(zone=zone, **kw))


class ShippingRateViewSet(SettingViewSet):
    """Cost and transit days from an origin region to a zone: what routing compares."""

    serializer_class = ShippingRateSerializer
    queryset = ShippingRate.objects.order_by("origin_region", "zone")
    filterset_fields = ["origin_region", "zone"]
    create_service = staticmethod(services.create_shipping_rate)
    update_service = staticmethod(lambda rate, **kw: services.update_shipping_rate(rate=rate, **kw))


class DropshipSourceViewSet(SettingViewSet):
    """SKUs a drop-ship supplier node ships directly, at a cost and transit time."""

    serializer_class = DropshipSourceSerializer
    queryset = DropshipSource.objects.select_related("sku", "location").order_by(
        "sku__code", "location__code"
    )
    create_service = staticmethod(services.create_dropship_source)
    update_service = staticmethod(
        lambda source, **kw: services.update_dropship_source(source=source, **kw)
    )


class SubstitutionRuleViewSet(SettingViewSet):
    """Product families whose out-of-stock SKUs may ship a listed substitute."""

    serializer_class = SubstitutionRuleSerializer
    queryset = SubstitutionRule.objects.order_by("product_family")
    filterset_fields = ["allowed"]
    create_service = staticmethod(services.create_substitution_rule)
    update_service = staticmethod(
        lambda rule, **kw: services.update_substitution_rule(rule=rule, **kw)
    )
