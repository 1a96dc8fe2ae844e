"""Settlements API under /api/v1/finance/: upload a settlement file (imported and
reconciled at once; the same settlement again answers 200 with the first import), list
settlements and their lines, list variances and accept or dispute them."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from erp.api import filters
from erp.api.base import StrictFieldsMixin
from erp.api.idempotency import IdempotentPostMixin
from erp.api.parsers import MultiPartParser
from erp.api.permissions import ScopedIsAuthenticated
from erp.api.routers import Router
from erp.errors import NotFound, ValidationFailed
from erp.models import Channel
from finance import settlement_selectors as selectors
from finance.models import (
    LineType,
    MatchStatus,
    Settlement,
    SettlementLine,
    SettlementSource,
    SettlementState,
    SettlementVariance,
    VarianceKind,
    VarianceState,
)
from finance.services import settlements as services

MAX_UPLOAD_BYTES = 200 * 1024 * 1024


class SettlementSerializer(serializers.ModelSerializer):
    channel = serializers.SlugRelatedField(slug_field="code", read_only=True)
    open_variances = serializers.SerializerMethodField()

    class Meta:
        model = Settlement
        fields = [
            "id",
            "channel",
            "source",
            "external_id",
            "period_start",
            "period_end",
            "deposit_date",
            "currency",
            "total_amount",
            "sales_amount",
            "refunds_amount",
            "fees_amount",
            "other_amount",
            "line_count",
            "order_count",
            "matched_orders",
            "state",
            "open_variances",
            "file_name",
            "file_hash",
            "journal_entry",
            "imported_at",
        ]

    def get_open_variances(self, settlement) -> int:
        value = getattr(settlement, "open_variances", None)
        if value is None:
            value = settlement.variances.filter(state=VarianceState.OPEN).count()
        return value


class SettlementLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = SettlementLine
        fields = [
            "id",
            "line_no",
            "type",
            "category",
            "raw_type",
            "description",
            "order_ref",
            "order",
            "reference",
            "sku_ref",
            "amount",
            "posted_on",
            "status",
        ]


class VarianceSerializer(serializers.ModelSerializer):
    channel = serializers.SlugRelatedField(slug_field="code", read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = SettlementVariance
        fields = [
            "id",
            "settlement",
            "channel",
            "kind",
            "order",
            "order_ref",
            "line",
            "description",
            "currency",
            "expected",
            "actual",
            "difference",
            "state",
            "note",
            "created_at",
            "decided_by",
            "decided_at",
            "journal_entry",
        ]


class UploadSerializer(StrictFieldsMixin, serializers.Serializer):
    channel = serializers.SlugRelatedField(
        slug_field="code", queryset=Channel.objects.all(), help_text="The channel's code."
    )
    file = serializers.FileField(
        help_text="Amazon flat file V2, Shopify payout + balance transactions JSON, or eBay "
        "Finances getTransactions JSON for one payout."
    )


class VarianceNoteSerializer(StrictFieldsMixin, serializers.Serializer):
    note = serializers.CharField(max_length=2000)


class SettlementFilter(filters.FilterSet):
    channel = django_filters.CharFilter(field_name="channel__code")
    source = django_filters.ChoiceFilter(choices=SettlementSource.choices)
    state = django_filters.ChoiceFilter(choices=SettlementState.choices)
    external_id = django_filters.CharFilter()

    class Meta:
        model = Settlement
        fields = ["channel", "source", "state", "external_id"]


class LineFilter(filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=LineType.choices)
    status = django_filters.ChoiceFilter(choices=MatchStatus.choices)
    order_ref = django_filters.CharFilter()

    class Meta:
        model = SettlementLine
        fields = ["type", "status", "order_ref"]


class VarianceFilter(filters.FilterSet):
    channel = django_filters.CharFilter(field_name="channel__code")
    kind = django_filters.ChoiceFilter(choices=VarianceKind.choices)
    state = django_filters.ChoiceFilter(choices=VarianceState.choices)
    settlement = django_filters.NumberFilter(field_name="settlement_id")

    class Meta:
        model = SettlementVariance
        fields = ["channel", "kind", "state", "settlement"]


class SettlementViewSet(
    IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Marketplace settlements: upload a file (imported, reconciled and posted at once),
    list them, read one and its lines."""

    queryset = Settlement.objects.none()
    serializer_class = SettlementSerializer
    filterset_class = SettlementFilter

    def get_queryset(self):
        return selectors.settlement_list()

    def get_permissions(self):
        if getattr(self, "action", None) == "create":
            return [ScopedIsAuthenticated()]  # the import service checks finance.upload_settlement
        return super().get_permissions()

    def get_parsers(self):
        if getattr(self, "action", None) == "create" or self.request is None:
            return [MultiPartParser()]
        return super().get_parsers()

    @extend_schema(
        request={"multipart/form-data": UploadSerializer},
        responses={201: SettlementSerializer, 200: SettlementSerializer},
        description="Import a settlement file. 201 when imported; 200 with the settlement "
        "already imported when the same file or the same settlement comes again (nothing "
        "changes). A bad file is a 400 naming the line; nothing is written.",
    )
    def create(self, request):
        serializer = UploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationFailed(
                "The file is larger than 200 MB.", field="file", code="too_large"
            )
        result = services.import_settlement(
            channel=serializer.validated_data["channel"],
            source="",
            data=upload.read(),
            actor=request.user,
            file_name=upload.name or "",
        )
        settlement = selectors.settlement_list().get(pk=result.settlement.pk)
        return Response(
            SettlementSerializer(settlement).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class SettlementLineViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """One settlement's lines, in file order, filterable by type, match status, order."""

    queryset = SettlementLine.objects.none()
    serializer_class = SettlementLineSerializer
    filterset_class = LineFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False) or "settlement_pk" not in self.kwargs:
            return SettlementLine.objects.none()
        raw = str(self.kwargs.get("settlement_pk", ""))
        settlement_id = (
            Settlement.objects.filter(pk=int(raw)).values_list("pk", flat=True).first()
            if raw.isdigit() and len(raw) < 19
            else None
        )
        if settlement_id is None:
            raise NotFound("No such settlement.", field="settlement")
        return selectors.settlement_lines(settlement_id)


class VarianceViewSet(
    IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Settlement variances: what a settlement paid that the books did not expect.
    Accept (posted to the settlement variance account) or dispute, each with a note."""

    queryset = SettlementVariance.objects.none()
    serializer_class = VarianceSerializer
    filterset_class = VarianceFilter

    def get_queryset(self):
        return selectors.variances()

    def _note(self) -> str:
        serializer = VarianceNoteSerializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data["note"]

    def _answer(self, variance_id: int) -> Response:
        return Response(VarianceSerializer(selectors.variances().get(pk=variance_id)).data)

    def _variance_id(self) -> int:
        found = (
            SettlementVariance.objects.filter(pk=self.kwargs["pk"])
            .values_list("pk", flat=True)
            .first()
        )
        if found is None:
            raise NotFound("No such settlement variance.", field="variance")
        return found

    @extend_schema(request=VarianceNoteSerializer, responses=VarianceSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ScopedIsAuthenticated])
    def accept(self, request, pk=None):
        note = self._note()
        variance = services.accept_variance(
            variance_id=self._variance_id(), actor=request.user, note=note
        )
        return self._answer(variance.pk)

    @extend_schema(request=VarianceNoteSerializer, responses=VarianceSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ScopedIsAuthenticated])
    def dispute(self, request, pk=None):
        note = self._note()
        variance = services.dispute_variance(
            variance_id=self._variance_id(), actor=request.user, note=note
        )
        return self._answer(variance.pk)


router = Router()
router.register("finance/settlements", SettlementViewSet, basename="settlement")
router.register(
    r"finance/settlements/(?P<settlement_pk>[0-9]+)/lines",
    SettlementLineViewSet,
    basename="settlement-line",
)
router.register("finance/settlement-variances", VarianceViewSet, basename="settlement-variance")

urlpatterns = router.urls
