"""Returns API: thin views that parse input, call a service or selector, serialize."""

from decimal import ROUND_HALF_UP, Decimal

import django_filters
from django.db.models import Exists, OuterRef
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from erp.api import filters
from erp.api.idempotency import IdempotentPostMixin
from erp.api.permissions import ScopedIsAuthenticated
from erp.errors import NotFound, ValidationFailed
from orders.models import Order
from returns import selectors
from returns.api import serializers as s
from returns.models import (
    OPEN_RMA_STATES,
    Refund,
    RefundState,
    ReturnReason,
    Rma,
    RmaLine,
    RmaState,
)
from returns.services import inspection, receiving, refunds, rmas
from returns.services.refund_amounts import quote_refund


class RmaFilter(filters.FilterSet):
    channel = django_filters.CharFilter(field_name="channel__code")
    state = django_filters.ChoiceFilter(choices=RmaState.choices)
    source = django_filters.ChoiceFilter(choices=Rma.Source.choices)
    order_id = django_filters.NumberFilter()
    order_external_id = django_filters.CharFilter(field_name="order__external_id")
    external_reference = django_filters.CharFilter()
    sku = django_filters.CharFilter(method="filter_sku")
    authorized_after = filters.IsoDateTimeFilter(field_name="authorized_at", lookup_expr="gte")
    authorized_before = filters.IsoDateTimeFilter(field_name="authorized_at", lookup_expr="lt")
    overdue = django_filters.BooleanFilter(method="filter_overdue")

    class Meta:
        model = Rma
        fields = ["channel", "state", "source", "order_id", "external_reference"]

    def filter_sku(self, queryset, name, value):
        return queryset.filter(Exists(RmaLine.objects.filter(rma=OuterRef("pk"), sku__code=value)))

    def filter_overdue(self, queryset, name, value):
        overdue = {"state__in": OPEN_RMA_STATES, "expected_by__lt": timezone.now()}
        return queryset.filter(**overdue) if value else queryset.exclude(**overdue)


def _order_id(data: dict) -> int:
    if "order_id" in data:
        return data["order_id"]
    order_id = (
        Order.objects.filter(channel__code=data["channel"], external_id=data["order_external_id"])
        .values_list("pk", flat=True)
        .first()
    )
    if order_id is None:
        raise NotFound(
            f"No order {data['order_external_id']} on channel {data['channel']}.",
            field="order_external_id",
        )
    return order_id


class RmaViewSet(
    IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """RMAs: authorize (create), receive, inspect, refund, close, cancel."""

    filterset_class = RmaFilter

    def get_queryset(self):
        if self.action == "list":
            return selectors.rma_list()
        return selectors.rma_detail()

    def get_serializer_class(self):
        return s.RmaSummarySerializer if self.action == "list" else s.RmaSerializer

    def _detail(self, rma_id: int, code=status.HTTP_200_OK) -> Response:
        return Response(s.RmaSerializer(selectors.rma_detail().get(pk=rma_id)).data, status=code)

    def _input(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _rma_id(self) -> int:
        # The services lock the RMA; here we only check that it exists.
        rma_id = Rma.objects.filter(pk=self.kwargs["pk"]).values_list("pk", flat=True).first()
        if rma_id is None:
            raise NotFound("No such RMA.", field="rma")
        return rma_id

    @extend_schema(request=s.RmaCreateSerializer, responses={201: s.RmaSerializer})
    def create(self, request):
        data = self._input(s.RmaCreateSerializer)
        external_refund = data.get("external_refund")
        rma = rmas.create_rma(
            order_id=_order_id(data),
            lines=[dict(line) for line in data["lines"]],
            actor=request.user,
            source=data["source"],
            expected_by=data.get("expected_by"),
            return_label_reference=data.get("return_label_reference", ""),
            external_reference=data.get("external_reference", ""),
            override_reason=data.get("override_reason", ""),
            note=data.get("note", ""),
            external_refund=dict(external_refund) if external_refund else None,
        )
        return self._detail(rma.pk, status.HTTP_201_CREATED)

    @extend_schema(request=s.ReceiptInputSerializer, responses={201: s.RmaSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ScopedIsAuthenticated])
    def receipts(self, request, pk=None):
        data = self._input(s.ReceiptInputSerializer)
        rma_id = self._rma_id()
        receiving.receive_return(
            rma_id=rma_id,
            location=data["location"],
            lines=[dict(line) for line in data.get("lines", [])],
            unexpected=[dict(item) for item in data.get("unexpected", [])],
            actor=request.user,
            note=data.get("note", ""),
        )
        return self._detail(rma_id, status.HTTP_201_CREATED)

    @extend_schema(request=s.InspectionsInputSerializer, responses={201: s.RmaSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ScopedIsAuthenticated])
    def inspections(self, request, pk=None):
        data = self._input(s.InspectionsInputSerializer)
        rma_id = self._rma_id()
        inspection.inspect_return(
            rma_id=rma_id, results=[dict(result) for result in data["results"]], actor=request.user
        )
        return self._detail(rma_id, status.HTTP_201_CREATED)

    @extend_schema(request=s.RefundRequestSerializer, responses={201: s.RefundSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ScopedIsAuthenticated])
    def refunds(self, request, pk=None):
        data = self._input(s.RefundRequestSerializer)
        refund = refunds.request_refund(
            rma_id=self._rma_id(),
            actor=request.user,
            amount=data.get("amount"),
            note=data.get("note", ""),
        )
        return Response(_refund_data(refund.pk), status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ExternalRefundSerializer, responses={201: s.RefundSerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path="channel-refunds",
        permission_classes=[ScopedIsAuthenticated],
    )
    def channel_refunds(self, request, pk=None):
        data = self._input(s.ExternalRefundSerializer)
        refund = refunds.record_channel_refund(rma_id=self._rma_id(), actor=request.user, **data)
        return Response(_refund_data(refund.pk), status=status.HTTP_201_CREATED)

    @extend_schema(responses=s.RefundQuoteSerializer)
    @action(detail=True, methods=["get"], url_path="refund-quote")
    def refund_quote(self, request, pk=None):
        rma = self.get_object()
        return Response(s.RefundQuoteSerializer(quote_refund(rma)).data)

    @extend_schema(request=s.DecisionNoteSerializer, responses=s.RmaSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ScopedIsAuthenticated])
    def close(self, request, pk=None):
        data = self._input(s.DecisionNoteSerializer)
        rma_id = self._rma_id()
        rmas.close_rma(rma_id=rma_id, actor=request.user, note=data["note"])
        return self._detail(rma_id)

    @extend_schema(request=s.CancelReasonSerializer, responses=s.RmaSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ScopedIsAuthenticated])
    def cancel(self, request, pk=None):
        data = self._input(s.CancelReasonSerializer)
        rma_id = self._rma_id()
        rmas.cancel_rma(rma_id=rma_id, actor=request.user, reason=data["reason"])
        return self._detail(rma_id)


def _refund_queryset():
    return Refund.objects.select_related("rma", "channel", "requested_by").prefetch_related("lines")


def _refund_data(refund_id: int) -> dict:
    return s.RefundSerializer(_refund_queryset().get(pk=refund_id)).data


class RefundFilter(filters.FilterSet):
    channel = django_filters.CharFilter(field_name="channel__code")
    state = django_filters.ChoiceFilter(choices=RefundState.choices)
    rma = django_filters.CharFilter(field_name="rma__number")
    order_id = django_filters.NumberFilter()

    class Meta:
        model = Refund
        fields = ["channel", "state", "rma", "order_id"]


class RefundViewSet(
    IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Refunds; approve/reject decide a waiting refund through the shared approvals (the
    same decision as in the approvals inbox)."""

    serializer_class = s.RefundSerializer
    filterset_class = RefundFilter

    def get_queryset(self):
        return _refund_queryset()

    def _decide(self, request, approve: bool):
        serializer = s.DecisionNoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        refund = refunds.decide_refund(
            refund_id=self.get_object().pk,
            actor=request.user,
            approve=approve,
            note=serializer.validated_data["note"],
        )
        return Response(_refund_data(refund.pk))

    @extend_schema(request=s.DecisionNoteSerializer, responses=s.RefundSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ScopedIsAuthenticated])
    def approve(self, request, pk=None):
        return self._decide(request, approve=True)

    @extend_schema(request=s.DecisionNoteSerializer, responses=s.RefundSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ScopedIsAuthenticated])
    def reject(self, request, pk=None):
        return self._decide(request, approve=False)

    @extend_schema(request=s.DecisionNoteSerializer, responses=s.RefundSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ScopedIsAuthenticated])
    def withdraw(self, request, pk=None):
        serializer = s.DecisionNoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        refund = refunds.withdraw_refund(
            refund_id=self.get_object().pk,
            actor=request.user,
            note=serializer.validated_data["note"],
        )
        return Response(_refund_data(refund.pk))


class ReturnReasonViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The reason codes RMAs may use."""

    serializer_class = s.ReturnReasonSerializer
    queryset = ReturnReason.objects.all()
    filterset_fields = ["active"]
    pagination_class = None


def _hours(value) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(value.total_seconds()) / Decimal(3600)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


class ReturnFiguresView(GenericAPIView):
    """Return, recoverable and damage rates per SKU, channel or reason, and the return
    cycle time (authorization → first posted refund)."""

    queryset = Rma.objects.none()
    serializer_class = s.FiguresSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("by", str, enum=list(selectors.GROUPINGS), default="sku"),
            OpenApiParameter(
                "since",
                str,
                description="ISO 8601: rates count orders placed from then, the cycle time "
                "RMAs authorized from then",
            ),
            OpenApiParameter("until", str, description="ISO 8601, exclusive, as `since`"),
            OpenApiParameter("channel", str, description="Channel code"),
        ]
    )
    def get(self, request):
        params = request.query_params
        by = params.get("by", "sku")
        if by not in selectors.GROUPINGS:
            raise ValidationFailed(
                f"Group by one of {', '.join(selectors.GROUPINGS)}.",
                field="by",
                code="invalid_choice",
            )
        since, until = _moment(params, "since"), _moment(params, "until")
        channel = params.get("channel") or None
        figures = selectors.return_figures(by=by, since=since, until=until, channel_code=channel)
        cycle = selectors.return_cycle_time(since=since, until=until, channel_code=channel)
        figures["cycle_time"] = {
            "count": cycle["count"],
            "average_hours": _hours(cycle["average"]),
            "longest_hours": _hours(cycle["longest"]),
        }
        return Response(s.FiguresSerializer(figures).data)


def _moment(params, name):
    value = params.get(name)
    if not value:
        return None
    return filters.parse_moment(value, field=name)
