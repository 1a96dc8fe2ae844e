"""Orders API: native-payload ingestion per channel, order reads, cancellation."""

import json
from decimal import Decimal

import django_filters
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch
from drf_spectacular.utils import (
    OpenApiResponse,
    OpenApiTypes,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from erp.api import filters
from erp.api.errors import error_response
from erp.api.idempotency import IdempotentPostMixin
from erp.api.parsers import paths_with_nul
from erp.api.permissions import ScopedIsAuthenticated
from erp.errors import DomainError, FieldError, PayloadTooLarge, ValidationFailed
from erp.input_bounds import NUL_MESSAGE
from orders.api import serializers as s
from orders.models import Allocation, HoldReason, Order, OrderHold, OrderLine, OrderState
from orders.services import cancellation
from orders.services.ingestion import get_channel, ingest_order, record_ingestion_error
from orders.services.ingestion_errors import replay_ingestion_error
from orders.services.manual_orders import ManualLine, create_manual_order

MAX_BATCH = 500
# One instance answers every ingestion: a serializer builds (deep-copies) its fields when
# instantiated, which costs more than representing one order; to_representation is
# stateless, so sharing the instance is safe.
INGEST_RESULT = s.IngestResultSerializer()


class RawBodyParser(BaseParser):
    """Ingestion reads the body itself: it must keep the raw bytes of refused payloads."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return None


class OrderIngestView(IdempotentPostMixin, APIView):
    """POST a channel's native order payload (or {"orders": [...]} for up to 500)."""

    parser_classes = [RawBodyParser]
    queryset = Order.objects.none()
    channel_url_kwarg = "code"

    def _limit(self) -> int:
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={
            200: PolymorphicProxySerializer(
                component_name="IngestAnswer",
                serializers=[s.IngestResultSerializer, s.IngestBatchResultSerializer],
                resource_type_field_name=None,
            ),
            201: s.IngestResultSerializer,
            400: OpenApiResponse(description="refused; kept in the ingestion-errors queue"),
            413: OpenApiResponse(description="body too large"),
        },
        description="The body is the channel's own order JSON (Shopify Order, Amazon {order, items}, eBay "
        "order, Walmart order, WooCommerce order, or the normalized format for b2b/manual). "
        'Batch: {"orders": [payload, …]} answers one result per payload.',
    )
    def post(self, request, code):
        size = int(request.META.get("CONTENT_LENGTH") or 0)
        if size > self._limit():
            # Refused before reading it all; the first 4 KiB are kept for CS.
            head = request._request.read(4096) if hasattr(request._request, "read") else b""
            error = PayloadTooLarge(
                f"The body is {size} bytes; at most {self._limit()} are accepted."
            )
            record_ingestion_error(channel_code=code, raw_body=head, error=error)
            return error_response(
                [e.as_dict() for e in error.errors], status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
            )
        raw = request._request.body
        try:
            channel = get_channel(code)
            payload = self._parse(raw)
        except DomainError as error:
            # A NUL byte cannot be kept in text: it is kept as U+FFFD, as undecodable bytes are.
            kept = raw.replace(b"\x00", "\ufffd".encode())
            record_ingestion_error(channel_code=code, raw_body=kept, error=error)
            raise
        if isinstance(payload, dict) and isinstance(payload.get("orders"), list):
            return self._batch(channel, payload["orders"], request)
        return self._one(channel, payload, request, raw)

    def _parse(self, raw: bytes):
        try:
            payload = json.loads(raw, parse_float=Decimal)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValidationFailed(
                f"Malformed JSON: {error}.", field=None, code="parse_error"
            ) from None
        refused = [
            FieldError(path or None, "null_characters_not_allowed", NUL_MESSAGE)
            for path in paths_with_nul(payload)
        ]
        if refused:
            raise ValidationFailed.from_errors(refused)
        return payload

    def _one(self, channel, payload, request, raw):
        try:
            result = ingest_order(channel=channel, payload=payload, actor=request.user)
        except ValidationFailed as error:
            record_ingestion_error(channel_code=channel.code, raw_body=raw, error=error)
            raise
        code = status.HTTP_201_CREATED if result.outcome == "created" else status.HTTP_200_OK
        return Response(INGEST_RESULT.to_representation(result), status=code)

    def _batch(self, channel, payloads, request):
        if len(payloads) > MAX_BATCH:
            raise ValidationFailed(
                f"At most {MAX_BATCH} orders per batch.", field="orders", code="too_many"
            )
        results = []
        for index, payload in enumerate(payloads):
            try:
                result = ingest_order(channel=channel, payload=payload, actor=request.user)
                results.append({"index": index, **INGEST_RESULT.to_representation(result)})
            except ValidationFailed as error:
                record_ingestion_error(
                    channel_code=channel.code,
                    raw_body=json.dumps(payload, default=str),
                    error=error,
                )
                results.append(
                    {
                        "index": index,
                        "outcome": "refused",
                        "errors": [e.as_dict() for e in error.errors],
                    }
                )
        return Response({"results": results}, status=status.HTTP_200_OK)


class OrderFilter(filters.FilterSet):
    channel = django_filters.CharFilter(field_name="channel__code")
    state = django_filters.ChoiceFilter(choices=OrderState.choices)
    placed_after = filters.IsoDateTimeFilter(field_name="placed_at", lookup_expr="gte")
    placed_before = filters.IsoDateTimeFilter(field_name="placed_at", lookup_expr="lt")
    hold_reason = django_filters.ChoiceFilter(choices=HoldReason.choices, method="filter_hold")
    external_id = django_filters.CharFilter()

    class Meta:
        model = Order
        fields = ["channel", "state", "external_id"]

    def filter_hold(self, queryset, name, value):
        return queryset.filter(holds__reason=value, holds__resolved_at__isnull=True).distinct()


class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Orders with lines, allocations and open holds."""

    serializer_class = s.OrderSerializer
    filterset_class = OrderFilter

    def get_queryset(self):
        return Order.objects.select_related("channel").prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("sku", "ordered_sku")),
            Prefetch(
                "lines__allocations", queryset=Allocation.objects.select_related("location", "sku")
            ),
            Prefetch("holds", queryset=OrderHold.objects.all()),
        )

    # The service checks `orders.cancel_order`; the model-permission default would ask for add_order.
    @extend_schema(request=s.CancelSerializer, responses=s.OrderSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ScopedIsAuthenticated])
    def cancel(self, request, pk=None):
        serializer = s.CancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = self.get_object()
        cancellation.cancel_order(
            order_id=order.pk, actor=request.user, reason=serializer.validated_data["reason"]
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=order.pk)).data)


class ManualOrderView(IdempotentPostMixin, APIView):
    """A keyed-in order (phone, B2B, replacement): the same service as the back-office
    form, which hands it to ingestion."""

    permission_classes = [ScopedIsAuthenticated]  # the service checks orders.add_order
    queryset = Order.objects.none()

    @extend_schema(
        request=s.ManualOrderSerializer,
        responses={201: s.IngestResultSerializer, 409: OpenApiResponse(description="duplicate")},
    )
    def post(self, request):
        serializer = s.ManualOrderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = create_manual_order(
            channel_code=data["channel"],
            kind=data["kind"],
            lines=[
                ManualLine(line["sku"], line["quantity"], line.get("unit_price"))
                for line in data["lines"]
            ],
            ship_to=dict(data["ship_to"]),
            actor=request.user,
            reference=data.get("reference", ""),
            customer_email=data.get("customer_email", ""),
            payment_status=data.get("payment_status", ""),
            replaces_rma=data.get("replaces_rma", ""),
            note=data.get("note", ""),
        )
        return Response(INGEST_RESULT.to_representation(result), status=status.HTTP_201_CREATED)


class IngestionErrorReplayView(APIView):
    """Replay a refused payload (as received, or the corrected `payload`) into its order."""

    permission_classes = [ScopedIsAuthenticated]  # the service checks add_order and change_order
    queryset = Order.objects.none()

    @extend_schema(
        request=s.ReplaySerializer,
        responses={
            201: s.IngestResultSerializer,
            400: OpenApiResponse(description="ingestion still refuses it; nothing written"),
            409: OpenApiResponse(description="already resolved, or now a duplicate"),
        },
    )
    def post(self, request, error_id: int):
        serializer = s.ReplaySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payload = serializer.validated_data.get("payload")
        body = None if payload is None else json.dumps(payload, cls=DjangoJSONEncoder)
        result = replay_ingestion_error(error_id=error_id, actor=request.user, body=body)
        return Response(INGEST_RESULT.to_representation(result), status=status.HTTP_201_CREATED)
