"""KPI API for BI tools: every KPI with the dashboards' filters, read off the same facts
through the same selectors (insight.kpis)."""

from datetime import date

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from erp.api.permissions import ScopedIsAuthenticated
from erp.errors import FieldError, ValidationFailed
from insight.api import serializers as s
from insight.forms import KpiFilterForm
from insight.kpis import BREAKDOWNS, all_kpis, get_kpi
from insight.kpis.wiring import may_read
from insight.models import KpiThreshold

FILTER_PARAMETERS = [
    OpenApiParameter("date_from", date, description="Orders placed from (ISO date; 28 days back)"),
    OpenApiParameter("date_to", date, description="Orders placed up to (ISO date; today)"),
    OpenApiParameter("channel", str, description="Channel code"),
    OpenApiParameter("node", str, description="Stock node (location) code"),
    OpenApiParameter("family", str, description="SKU family (line KPIs)"),
]


def _definition(kpi) -> dict:
    return {
        "key": kpi.key,
        "name": kpi.name,
        "unit": kpi.unit,
        "formula": kpi.formula,
        "breakdowns": list(kpi.breakdowns),
        "good": kpi.good,
    }


class KpiListView(GenericAPIView):
    """Every KPI the caller may read, with its formula and breakdowns."""

    permission_classes = [ScopedIsAuthenticated]
    queryset = KpiThreshold.objects.none()  # the schema's model; KPIs are read from the facts
    serializer_class = s.KpiDefinitionSerializer
    pagination_class = None

    @extend_schema(
        operation_id="v1_insight_kpis_list",
        responses={200: s.KpiDefinitionSerializer(many=True)},
    )
    def get(self, request):
        kpis = [_definition(kpi) for kpi in all_kpis() if may_read(request.user, kpi)]
        return Response(s.KpiDefinitionSerializer(kpis, many=True).data)


class KpiFiguresView(GenericAPIView):
    """One KPI over the filters: the headline figure and, with `by`, its rows by day, week,
    channel, node or SKU family."""

    permission_classes = [ScopedIsAuthenticated]
    serializer_class = s.KpiFiguresSerializer

    @extend_schema(
        parameters=[
            *FILTER_PARAMETERS,
            OpenApiParameter("by", str, enum=list(BREAKDOWNS), description="Break down by"),
        ]
    )
    def get(self, request, key):
        kpi = get_kpi(key)
        if kpi is None:
            raise NotFound("No such KPI.")
        if not may_read(request.user, kpi):
            raise PermissionDenied(f"Your role may not read {kpi.name}.")
        form = KpiFilterForm(request.query_params)
        if not form.is_valid():
            raise ValidationFailed.from_errors(
                [
                    FieldError(field, "invalid", str(message))
                    for field, messages in form.errors.items()
                    for message in messages
                ]
            )
        by = request.query_params.get("by") or None
        if by is not None and by not in kpi.breakdowns:
            raise ValidationFailed(
                f"{kpi.name} breaks down by {', '.join(kpi.breakdowns)}.",
                field="by",
                code="invalid_choice",
            )
        filters = form.filters(timezone.localdate())
        headline = kpi.rows(filters, None)[0]
        rows = kpi.rows(filters, by) if by else []
        body = {
            **_definition(kpi),
            "filters": filters.__dict__,
            "value": headline["value"],
            "by": by,
            "rows": [{**row, "key": str(row["key"])} for row in rows],
        }
        return Response(s.KpiFiguresSerializer(body).data)


class ThresholdListView(GenericAPIView):
    """The KPI thresholds the digest checks (changed in the back office, with a reason)."""

    queryset = KpiThreshold.objects.all()
    serializer_class = s.ThresholdSerializer
    pagination_class = None

    @extend_schema(responses={200: s.ThresholdSerializer(many=True)})
    def get(self, request):
        return Response(s.ThresholdSerializer(self.get_queryset().order_by("key"), many=True).data)
