"""Inventory API: thin views that parse input, call a service and serialize the result."""

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from erp.api import filters
from erp.api.idempotency import IdempotentPostMixin
from erp.errors import NotFound, ValidationFailed
from erp.models import Channel, ChannelListing
from inventory import selectors
from inventory.api import serializers as s
from inventory.models import (
    AllocationRule,
    ChannelAvailability,
    InventoryAdjustment,
    Lot,
    LotBalance,
    MovementKind,
    Reservation,
    StockBalance,
    StockLedgerEntry,
    StockStatus,
    Transfer,
)
from inventory.services import adjustments, movements, reservations, rules, transfers
from inventory.services.lots import register_lot


def _lot(sku, code, *, actor, expires_on=None, receiving=False):
    if not code:
        return None
    if receiving:
        return register_lot(sku=sku, code=code, expires_on=expires_on, actor=actor)
    lot = Lot.objects.filter(sku=sku, code=code).first()
    if lot is None:
        raise ValidationFailed(f"No lot {code} for {sku.code}.", field="lot", code="does_not_exist")
    return lot


# --- reads --------------------------------------------------------------------------------


class BalanceFilter(filters.FilterSet):
    sku = django_filters.CharFilter(field_name="sku__code")
    location = django_filters.CharFilter(field_name="location__code")
    status = django_filters.ChoiceFilter(choices=StockStatus.choices)

    class Meta:
        model = StockBalance
        fields = ["sku", "location", "status"]


class StockBalanceViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """On hand and reserved per SKU, node and status."""

    serializer_class = s.StockBalanceSerializer
    filterset_class = BalanceFilter

    def get_queryset(self):
        return selectors.balances()


class LotBalanceFilter(BalanceFilter):
    lot = django_filters.CharFilter(field_name="lot__code")

    class Meta:
        model = LotBalance
        fields = ["sku", "location", "status", "lot"]


class LotBalanceViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """On hand per lot for lot-tracked SKUs."""

    serializer_class = s.LotBalanceSerializer
    filterset_class = LotBalanceFilter
    queryset = LotBalance.objects.select_related("sku", "location", "lot")


class LedgerFilter(filters.FilterSet):
    sku = django_filters.CharFilter(field_name="sku__code")
    location = django_filters.CharFilter(field_name="location__code")
    kind = django_filters.ChoiceFilter(choices=MovementKind.choices)
    occurred_after = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    reference = django_filters.CharFilter()

    class Meta:
        model = StockLedgerEntry
        fields = ["sku", "location", "kind", "reference"]


class LedgerViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Every stock movement, oldest first, cursor-paginated."""

    serializer_class = s.LedgerEntrySerializer
    filterset_class = LedgerFilter
    queryset = StockLedgerEntry.objects.select_related("sku", "location", "lot", "actor")


class ChannelAvailabilityView(GenericAPIView):
    """Available-to-sell per listed SKU of a channel.

    Without `changed_since`: computed now for the page of listings. With it: the figures
    published since that time (what a connector syncing deltas needs).
    """

    serializer_class = s.AvailabilitySerializer
    queryset = ChannelAvailability.objects.none()
    channel_url_kwarg = "code"

    @extend_schema(
        parameters=[OpenApiParameter("changed_since", str, description="ISO 8601 timestamp")],
        responses=s.AvailabilitySerializer(many=True),
    )
    def get(self, request, code):
        channel = Channel.objects.filter(code=code).first()
        if channel is None:
            raise NotFound(f"No channel {code}.", field="channel")
        since = request.query_params.get("changed_since")
        if since:
            return self._changed_since(channel, since)
        listings = self.paginate_queryset(
            ChannelListing.objects.filter(channel=channel, active=True)
            .select_related("sku")
            .order_by("id")
        )
        figures = selectors.compute_availability(
            channel=channel, sku_ids=[listing.sku_id for listing in listings]
        )
        rows = [
            {
                "sku": listing.sku.code,
                "channel_sku": listing.channel_sku,
                "available": figures[listing.sku_id].available,
                "pool": figures[listing.sku_id].pool,
                "reservable": figures[listing.sku_id].reservable,
                "rule": figures[listing.sku_id].rule.source,
            }
            for listing in listings
        ]
        return self.get_paginated_response(rows)

    def _changed_since(self, channel, since):
        moment = filters.parse_moment(since, field="changed_since")
        changed = self.paginate_queryset(
            ChannelAvailability.objects.filter(channel=channel, changed_at__gte=moment)
            .select_related("sku")
            .order_by("id")
        )
        listings = dict(
            ChannelListing.objects.filter(
                channel=channel, sku_id__in=[row.sku_id for row in changed]
            ).values_list("sku_id", "channel_sku")
        )
        rows = [
            {
                "sku": row.sku.code,
                "channel_sku": listings.get(row.sku_id, ""),
                "available": row.available,
                "changed_at": row.changed_at,
            }
            for row in changed
        ]
        return self.get_paginated_response(s.AvailabilitySerializer(rows, many=True).data)


# --- movements ------------------------------------------------------------------------------


class MovementView(IdempotentPostMixin, GenericAPIView):
    queryset = StockLedgerEntry.objects.none()

    def respond(self, entries):
        return Response(
            {"entries": s.LedgerEntrySerializer(entries, many=True).data},
            status=status.HTTP_201_CREATED,
        )


class ReceiptView(MovementView):
    """Receive stock without a purchase order (manual or 3PL receipt)."""

    serializer_class = s.ReceiptSerializer

    @extend_schema(request=s.ReceiptSerializer, responses={201: s.MovementResultSerializer})
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        lot = _lot(
            data["sku"],
            data.get("lot"),
            actor=request.user,
            expires_on=data.get("expires_on"),
            receiving=True,
        )
        entries = movements.receive_stock(
            sku=data["sku"],
            location=data["location"],
            quantity=data["quantity"],
            actor=request.user,
            status=data["status"],
            lot=lot,
            serials=data.get("serials"),
            reference=data["reference"],
            reason=data["reason"],
        )
        return self.respond(entries)


class StatusChangeView(MovementView):
    """Move units between statuses at one node."""

    serializer_class = s.StatusChangeSerializer

    @extend_schema(request=s.StatusChangeSerializer, responses={201: s.MovementResultSerializer})
    def post(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        entries = movements.change_status(
            sku=data["sku"],
            location=data["location"],
            quantity=data["quantity"],
            from_status=data["from_status"],
            to_status=data["to_status"],
            actor=request.user,
            lot=_lot(data["sku"], data.get("lot"), actor=request.user),
            reason=data["reason"],
            reference=data["reference"],
        )
        return self.respond(entries)


class TransferViewSet(
    IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Transfers between nodes: create (ships), receive (partially), close with discrepancy."""

    serializer_class = s.TransferSerializer
    queryset = Transfer.objects.select_related("from_location", "to_location").prefetch_related(
        "lines__sku", "lines__lot"
    )
    filterset_fields = ["state"]

    @extend_schema(request=s.TransferCreateSerializer, responses={201: s.TransferSerializer})
    def create(self, request):
        serializer = s.TransferCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        lines = [
            {
                "sku": line["sku"],
                "quantity": line["quantity"],
                "lot": _lot(line["sku"], line.get("lot"), actor=request.user),
            }
            for line in data["lines"]
        ]
        transfer = transfers.create_transfer(
            from_location=data["from_location"],
            to_location=data["to_location"],
            lines=lines,
            actor=request.user,
            reference=data["reference"],
        )
        return Response(
            self.get_serializer(self.get_queryset().get(pk=transfer.pk)).data, status=201
        )

    @extend_schema(request=s.TransferReceiveSerializer, responses=s.TransferSerializer)
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        serializer = s.TransferReceiveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        received = {line["line"]: line["quantity"] for line in serializer.validated_data["lines"]}
        transfers.receive_transfer(
            transfer_id=self.get_object().pk, received=received, actor=request.user
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(request=s.NoteSerializer, responses=s.TransferSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        serializer = s.NoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        transfers.close_transfer_with_discrepancy(
            transfer_id=self.get_object().pk,
            actor=request.user,
            note=serializer.validated_data["note"],
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=pk)).data)


class AdjustmentViewSet(
    IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Adjustments and write-offs; above the threshold they wait for a manager's decision."""

    serializer_class = s.AdjustmentSerializer
    queryset = InventoryAdjustment.objects.select_related("sku", "location", "lot", "requested_by")
    filterset_fields = ["state", "reason_code"]

    @extend_schema(request=s.AdjustmentCreateSerializer, responses={201: s.AdjustmentSerializer})
    def create(self, request):
        serializer = s.AdjustmentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        adjustment = adjustments.request_adjustment(
            sku=data["sku"],
            location=data["location"],
            quantity=data["quantity"],
            reason_code=data["reason_code"],
            actor=request.user,
            status=data["status"],
            lot=_lot(data["sku"], data.get("lot"), actor=request.user),
            note=data["note"],
        )
        return Response(self.get_serializer(adjustment).data, status=status.HTTP_201_CREATED)

    def _decide(self, request, approve: bool):
        serializer = s.NoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        adjustment = adjustments.decide_adjustment(
            adjustment=self.get_object(),
            actor=request.user,
            approve=approve,
            note=serializer.validated_data["note"],
        )
        return Response(self.get_serializer(adjustment).data)

    @extend_schema(request=s.NoteSerializer, responses=s.AdjustmentSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(request, approve=True)

    @extend_schema(request=s.NoteSerializer, responses=s.AdjustmentSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(request, approve=False)


class AllocationRuleViewSet(IdempotentPostMixin, viewsets.ModelViewSet):
    """Channel allocation rules (protected, buffer, cap, max, threshold)."""

    serializer_class = s.AllocationRuleSerializer
    queryset = AllocationRule.objects.select_related("channel", "sku")
    filterset_fields = {"channel__code": ["exact"], "sku__code": ["exact"]}

    def perform_create(self, serializer):
        serializer.instance = rules.create_allocation_rule(
            actor=self.request.user, data=serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = rules.update_allocation_rule(
            rule=serializer.instance, actor=self.request.user, data=serializer.validated_data
        )

    def perform_destroy(self, instance):
        rules.delete_allocation_rule(rule=instance, actor=self.request.user)


class ReservationViewSet(
    IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Reservations for order lines (used by order routing and external order systems)."""

    serializer_class = s.ReservationSerializer
    queryset = Reservation.objects.select_related("sku", "location", "channel")
    filterset_fields = {"state": ["exact"], "line_reference": ["exact"], "sku__code": ["exact"]}

    @extend_schema(request=s.ReservationCreateSerializer, responses={201: s.ReservationSerializer})
    def create(self, request):
        serializer = s.ReservationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reservation = reservations.reserve_stock(actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(reservation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ReservationReleaseSerializer, responses=s.ReservationSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        serializer = s.ReservationReleaseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reservation = reservations.release_reservation(
            reservation_id=self.get_object().pk,
            actor=request.user,
            quantity=serializer.validated_data.get("quantity"),
        )
        return Response(self.get_serializer(reservation).data)
