"""Fulfillment API: thin views that parse input, call a service and serialize the result."""

import json

import django_filters
from django.db.models import Count, Prefetch, Q
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from erp.api import filters
from erp.api.base import ServiceViewSet
from erp.api.idempotency import IdempotentPostMixin
from erp.api.permissions import ScopedIsAuthenticated
from erp.errors import NotFound, ValidationFailed
from fulfillment.api import serializers as s
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
    ServiceLevel,
    Shipment,
    ShipmentLine,
    ShortPick,
    Slot,
)
from fulfillment.services import labels, master_data, packing, picking, shipping
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


class CarrierServiceFilter(filters.FilterSet):
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


class RateCardFilter(filters.FilterSet):
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


class SlotFilter(filters.FilterSet):
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


class ChannelPolicyFilter(filters.FilterSet):
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


# --- the warehouse floor -----------------------------------------------------------------------


class PDFRenderer(BaseRenderer):
    """Lets a client ask for `application/pdf`; a refusal still answers JSON bytes."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else json.dumps(data).encode()


def pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


PDF_SCHEMA = {(200, "application/pdf"): OpenApiTypes.BINARY}
LIVE = ~Q(tasks__state=PickTask.State.CANCELLED)


class PickListFilter(filters.FilterSet):
    node = django_filters.CharFilter(field_name="location__code")
    state = django_filters.ChoiceFilter(choices=PickList.State.choices)
    wave = django_filters.NumberFilter(field_name="wave_id")

    class Meta:
        model = PickList
        fields = ["node", "state", "wave"]


class PickListViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Pick lists of the waves, with their progress; the detail lists the tasks in the
    order they are walked."""

    filterset_class = PickListFilter

    def get_queryset(self):
        queryset = PickList.objects.select_related("wave", "location", "assigned_to").annotate(
            lines_total=Count("tasks", filter=LIVE),
            lines_done=Count(
                "tasks",
                filter=Q(tasks__state__in=[PickTask.State.PICKED, PickTask.State.SHORT]),
            ),
        )
        if self.action == "retrieve":
            tasks = PickTask.objects.select_related(
                "sku", "line", "order__channel", "picked_by"
            ).order_by("sequence")
            queryset = queryset.prefetch_related(Prefetch("tasks", queryset=tasks))
        return queryset

    def get_serializer_class(self):
        return s.PickListDetailSerializer if self.action == "retrieve" else s.PickListSerializer


class PickTaskViewSet(IdempotentPostMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """One pick: confirm it with what the scanner read, or report it short."""

    serializer_class = s.PickTaskSerializer
    queryset = PickTask.objects.select_related("sku", "line", "order__channel", "picked_by")

    def _task(self, pk) -> PickTask:
        return self.get_queryset().get(pk=pk)

    # The services check the permissions (change_picktask, add_shortpick).
    @extend_schema(request=s.ConfirmPickSerializer, responses=s.PickTaskSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ScopedIsAuthenticated])
    def confirm(self, request, pk=None):
        serializer = s.ConfirmPickSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task = picking.confirm_pick(
            task_id=self.get_object().pk, actor=request.user, **serializer.validated_data
        )
        return Response(self.get_serializer(self._task(task.pk)).data)

    @extend_schema(request=s.ShortPickInputSerializer, responses={201: s.ShortPickSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ScopedIsAuthenticated])
    def short(self, request, pk=None):
        serializer = s.ShortPickInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        short = picking.report_short_pick(
            task_id=self.get_object().pk, actor=request.user, **serializer.validated_data
        )
        short = ShortPick.objects.select_related(
            "reported_by", "task__sku", "task__line", "task__order__channel", "task__picked_by"
        ).get(pk=short.pk)
        return Response(s.ShortPickSerializer(short).data, status=status.HTTP_201_CREATED)


class PackageFilter(filters.FilterSet):
    order = django_filters.NumberFilter(field_name="order_id")
    node = django_filters.CharFilter(field_name="location__code")

    class Meta:
        model = Package
        fields = ["order", "node"]


class PackageViewSet(
    IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Packages: POST one to record what was packed (box, weight); its packing slip as PDF."""

    serializer_class = s.PackageSerializer
    filterset_class = PackageFilter
    queryset = Package.objects.select_related(
        "location", "box", "suggested_box", "packed_by"
    ).prefetch_related(Prefetch("lines", queryset=PackageLine.objects.select_related("line__sku")))

    def get_permissions(self):
        # pack_order checks add_package itself.
        return [ScopedIsAuthenticated()] if self.action == "create" else super().get_permissions()

    @extend_schema(request=s.PackInputSerializer, responses={201: s.PackageSerializer})
    def create(self, request):
        serializer = s.PackInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        package = packing.pack_order(
            order_id=data["order"],
            location_id=data["location"].pk,
            lines=serializer.service_lines(),
            box_code=data["box"] or None,
            weight_grams=data["weight_grams"],
            dimensions=serializer.service_dimensions(),
            actor=request.user,
        )
        return Response(
            self.get_serializer(self.get_queryset().get(pk=package.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(responses=PDF_SCHEMA)
    @action(
        detail=True,
        methods=["get"],
        url_path="packing-slip",
        renderer_classes=[JSONRenderer, PDFRenderer],
    )
    def packing_slip(self, request, pk=None):
        package = self.get_object()
        return pdf_response(
            labels.render_packing_slip_pdf(package), f"{package.number}-packing-slip.pdf"
        )


class ShipmentFilter(filters.FilterSet):
    order = django_filters.NumberFilter(field_name="order_id")
    node = django_filters.CharFilter(field_name="location__code")
    carrier = django_filters.CharFilter(field_name="carrier__code")
    state = django_filters.ChoiceFilter(choices=Shipment.State.choices)
    source = django_filters.ChoiceFilter(choices=Shipment.Source.choices)
    tracking_number = django_filters.CharFilter()
    shipped_after = filters.IsoDateTimeFilter(field_name="shipped_at", lookup_expr="gte")
    shipped_before = filters.IsoDateTimeFilter(field_name="shipped_at", lookup_expr="lt")

    class Meta:
        model = Shipment
        fields = ["order", "node", "carrier", "state", "source", "tracking_number"]


class ShipmentViewSet(
    IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Shipments with tracking: labels bought here and shipments 3PLs reported. POST
    `confirm/` when the parcel leaves (or `manifest/` with the ids of a truck's parcels),
    `void/` to cancel an unshipped label; GET `label/` for the 4×6 PDF."""

    serializer_class = s.ShipmentSerializer
    filterset_class = ShipmentFilter
    queryset = Shipment.objects.select_related(
        "order__channel", "location", "carrier", "service__carrier"
    ).prefetch_related(
        Prefetch("lines", queryset=ShipmentLine.objects.select_related("sku", "lot").order_by("pk"))
    )

    def _respond(self, shipment, code=status.HTTP_200_OK):
        return Response(
            self.get_serializer(self.get_queryset().get(pk=shipment.pk)).data, status=code
        )

    @extend_schema(request=None, responses=s.ShipmentSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ScopedIsAuthenticated])
    def confirm(self, request, pk=None):
        """Confirm that a labelled package left (fulfillment.confirm_shipment)."""
        shipment = shipping.confirm_shipment(shipment_id=self.get_object().pk, actor=request.user)
        return self._respond(shipment)

    @extend_schema(request=s.ManifestInputSerializer, responses=s.ShipmentSerializer(many=True))
    @action(detail=False, methods=["post"], permission_classes=[ScopedIsAuthenticated])
    def manifest(self, request):
        """Confirm several labelled packages at once (the truck is loaded): all ship, or
        none does and the error names the one that cannot."""
        serializer = s.ManifestInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        shipped = shipping.confirm_shipments(
            shipment_ids=serializer.validated_data["shipment_ids"], actor=request.user
        )
        by_pk = self.get_queryset().in_bulk([shipment.pk for shipment in shipped])
        return Response(self.get_serializer([by_pk[x.pk] for x in shipped], many=True).data)

    @extend_schema(request=s.VoidInputSerializer, responses=s.ShipmentSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ScopedIsAuthenticated])
    def void(self, request, pk=None):
        serializer = s.VoidInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        shipment = labels.void_label(
            shipment_id=self.get_object().pk,
            actor=request.user,
            reason=serializer.validated_data["reason"],
        )
        return self._respond(shipment)

    @extend_schema(responses=PDF_SCHEMA)
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PDFRenderer])
    def label(self, request, pk=None):
        shipment = self.get_object()
        if shipment.state == Shipment.State.VOIDED:
            raise NotFound("This label was voided.", field="shipment_id")
        return pdf_response(labels.render_label_pdf(shipment), f"{shipment.number}-label.pdf")


class LabelView(IdempotentPostMixin, GenericAPIView):
    """Buy the label of a packed package: the cheapest quoted service that meets the
    order's promise, or a quoted `service`. The answer explains every service considered."""

    serializer_class = s.ShipmentSerializer
    queryset = ShipmentViewSet.queryset
    permission_classes = [ScopedIsAuthenticated]  # create_label checks add_shipment

    @extend_schema(request=s.LabelInputSerializer, responses={201: s.ShipmentSerializer})
    def post(self, request):
        serializer = s.LabelInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        shipment = labels.create_label(
            package_id=serializer.validated_data["package"],
            actor=request.user,
            service_code=serializer.validated_data["service"] or None,
        )
        return Response(
            self.get_serializer(self.get_queryset().get(pk=shipment.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class ExternalShipmentView(IdempotentPostMixin, GenericAPIView):
    """A 3PL or WMS reports a shipment it made from its own node: stock leaves there, the
    order ships, tracking goes to the channel. Refused for an order routed elsewhere, a
    tracking number already used, more than is allocated there."""

    serializer_class = s.ShipmentSerializer
    queryset = ShipmentViewSet.queryset
    permission_classes = [ScopedIsAuthenticated]  # checks confirm_external_shipment

    @extend_schema(request=s.ExternalShipmentSerializer, responses={201: s.ShipmentSerializer})
    def post(self, request):
        serializer = s.ExternalShipmentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order_id = serializer.order_id()
        if order_id is None:
            raise ValidationFailed(
                f"No order {data['external_id']} on channel {data['channel']}.",
                field="external_id",
                code="does_not_exist",
            )
        shipment = shipping.confirm_external_shipment(
            order_id=order_id,
            location_code=data["location"],
            carrier_code=data["carrier"],
            service_code=data["service"],
            tracking_number=data["tracking_number"],
            lines=serializer.service_lines(),
            external_reference=data["external_reference"],
            actor=request.user,
        )
        return Response(
            self.get_serializer(self.get_queryset().get(pk=shipment.pk)).data,
            status=status.HTTP_201_CREATED,
        )
