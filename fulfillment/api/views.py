"""Fulfillment API: thin views that parse input, call a service and serialize the result."""

import django_filters
from drf_spectacular.utils import extend_schema

from erp.api.base import ServiceViewSet
from fulfillment.api import serializers as s
from fulfillment.models import (
    Box,
    Carrier,
    CarrierService,
    ChannelFulfillmentPolicy,
    RateCard,
    ServiceLevel,
    Slot,
)
from fulfillment.services import master_data
from fulfillment.services.waves import assign_slot

# --- master data ---------------------------------------------------------------------------------


class CarrierViewSet(ServiceViewSet):
    """Carriers, looked up by code."""

    serializer_class = s.CarrierSerializer
    queryset = Carrier.objects.all()
    filterset_fields = ["code", "active"]
    lookup_field = "code"
    create_service = staticmethod(master_data.create_carrier)
    update_service = staticmethod(
        lambda carrier, **kw: master_data.update_carrier(carrier=carrier, **kw)
    )


class CarrierServiceFilter(django_filters.FilterSet):
    carrier = django_filters.CharFilter(field_name="carrier__code")
    service_level = django_filters.ChoiceFilter(choices=ServiceLevel.choices)

    class Meta:
        model = CarrierService
        fields = ["carrier", "code", "service_level", "active"]


class CarrierServiceViewSet(ServiceViewSet):
    """Carrier services with their level, cutoff time and weight limit."""

    serializer_class = s.CarrierServiceSerializer
    queryset = CarrierService.objects.select_related("carrier")
    filterset_class = CarrierServiceFilter
    create_service = staticmethod(master_data.create_carrier_service)
    update_service = staticmethod(
        lambda service, **kw: master_data.update_carrier_service(service=service, **kw)
    )


class RateCardFilter(django_filters.FilterSet):
    carrier = django_filters.CharFilter(field_name="service__carrier__code")
    service = django_filters.CharFilter(method="filter_service", label="CARRIER:SERVICE")
    weight_grams = django_filters.NumberFilter(
        method="filter_weight", label="Bands that price a parcel of this many grams"
    )

    class Meta:
        model = RateCard
        fields = ["carrier", "service", "origin_region", "zone"]

    def filter_service(self, queryset, name, value):
        carrier, _, code = value.partition(":")
        return queryset.filter(service__carrier__code=carrier, service__code=code)

    def filter_weight(self, queryset, name, value):
        # Bands include their upper bound (fulfillment.services.rates).
        return queryset.filter(min_weight_grams__lt=value, max_weight_grams__gte=value)


class RateCardViewSet(ServiceViewSet):
    """Price and transit days per service × origin region × destination zone × weight band."""

    serializer_class = s.RateCardSerializer
    queryset = RateCard.objects.select_related("service__carrier")
    filterset_class = RateCardFilter
    create_service = staticmethod(master_data.create_rate_card)
    update_service = staticmethod(
        lambda rate_card, **kw: master_data.update_rate_card(rate_card=rate_card, **kw)
    )


class BoxViewSet(ServiceViewSet):
    """Cartons the packers use, looked up by code."""

    serializer_class = s.BoxSerializer
    queryset = Box.objects.all()
    filterset_fields = ["code", "active"]
    lookup_field = "code"
    create_service = staticmethod(master_data.create_box)
    update_service = staticmethod(lambda box, **kw: master_data.update_box(box=box, **kw))


class SlotFilter(django_filters.FilterSet):
    location = django_filters.CharFilter(field_name="location__code")
    sku = django_filters.CharFilter(field_name="sku__code")

    class Meta:
        model = Slot
        fields = ["location", "sku", "code"]


class SlotViewSet(ServiceViewSet):
    """Where each SKU lives at a node (aisle-bay-level); pick lists walk them in order.
    POSTing a slot for a SKU that has one at that node moves it; PATCH moves it too."""

    serializer_class = s.SlotSerializer
    queryset = Slot.objects.select_related("location", "sku")
    filterset_class = SlotFilter
    create_service = staticmethod(lambda *, actor, data: assign_slot(actor=actor, **data))
    update_service = staticmethod(
        lambda slot, *, actor, data: assign_slot(
            sku=slot.sku, location=slot.location, code=data["code"], actor=actor
        )
    )

    def get_input_serializer(self, *args, **kwargs):
        if args and isinstance(args[0], Slot):
            kwargs.setdefault("context", self.get_serializer_context())
            return s.SlotMoveSerializer(*args, **kwargs)
        return super().get_input_serializer(*args, **kwargs)

    @extend_schema(request=s.SlotMoveSerializer, responses=s.SlotSerializer)
    def update(self, request, *args, **kwargs):
        return super().update(request, *args, **kwargs)

    @extend_schema(request=s.SlotMoveSerializer, responses=s.SlotSerializer)
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)


class ChannelPolicyFilter(django_filters.FilterSet):
    channel = django_filters.CharFilter(field_name="channel__code")

    class Meta:
        model = ChannelFulfillmentPolicy
        fields = ["channel", "strict_penalties"]


class ChannelPolicyViewSet(ServiceViewSet):
    """Per channel: tracking and notification endpoints, strict penalties, confirm window."""

    serializer_class = s.ChannelPolicySerializer
    queryset = ChannelFulfillmentPolicy.objects.select_related(
        "channel", "tracking_endpoint", "notification_endpoint"
    )
    filterset_class = ChannelPolicyFilter
    create_service = staticmethod(master_data.create_channel_policy)
    update_service = staticmethod(
        lambda policy, **kw: master_data.update_channel_policy(policy=policy, **kw)
    )
