"""Finance API: thin views over the finance selectors and services."""

from datetime import date

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from erp.api import filters
from erp.api.idempotency import IdempotentPostMixin
from erp.api.pagination import IdCursorPagination
from erp.api.permissions import ScopedIsAuthenticated
from erp.errors import ValidationFailed
from erp.models import Channel
from finance import selectors
from finance.api import serializers as s
from finance.models import Account, AccountType, JournalEntry, JournalLine
from finance.services import periods


class NewestFirst(IdCursorPagination):
    ordering = "-id"


class AccountFilter(filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=AccountType.choices)
    channel = django_filters.CharFilter(field_name="channel__code")

    class Meta:
        model = Account
        fields = ["type", "role", "channel", "active"]


class AccountViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The chart of accounts."""

    serializer_class = s.AccountSerializer
    filterset_class = AccountFilter

    def get_queryset(self):
        return selectors.accounts()


class JournalEntryFilter(filters.FilterSet):
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")
    account = django_filters.CharFilter(method="filter_account", help_text="Account code")
    order_id = django_filters.NumberFilter(method="filter_order")
    source_kind = django_filters.CharFilter()
    source_id = django_filters.NumberFilter()
    event = django_filters.CharFilter()

    class Meta:
        model = JournalEntry
        fields = ["source_kind", "source_id", "event"]

    def filter_account(self, queryset, name, value):
        return queryset.filter(lines__account__code=value).distinct()

    def filter_order(self, queryset, name, value):
        return queryset.filter(lines__order_id=value).distinct()


class JournalEntryViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Journal entries with their lines, newest first (read only: postings come from the
    posting rules, corrections are reversing entries)."""

    serializer_class = s.JournalEntrySerializer
    filterset_class = JournalEntryFilter
    pagination_class = NewestFirst

    def get_queryset(self):
        return selectors.journal_entries()


class PeriodViewSet(
    IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Accounting months; close, lock or reopen one (finance and managers)."""

    serializer_class = s.PeriodSerializer
    filterset_fields = ["year", "status"]
    pagination_class = NewestFirst

    def get_queryset(self):
        return selectors.periods()

    def get_permissions(self):
        # The period services check `finance.close_period` themselves.
        if self.action in ("close", "lock", "reopen"):
            return [ScopedIsAuthenticated()]
        return super().get_permissions()

    def _act(self, service):
        data = s.PeriodActionSerializer(data=self.request.data)
        data.is_valid(raise_exception=True)
        period = service(**data.validated_data, actor=self.request.user)
        return Response(s.PeriodSerializer(period).data)

    @extend_schema(request=s.PeriodActionSerializer, responses={200: s.PeriodSerializer})
    @action(detail=False, methods=["post"])
    def close(self, request):
        """Close an ended month: nothing posts into it any more."""
        return self._act(periods.close_period)

    @extend_schema(request=s.PeriodActionSerializer, responses={200: s.PeriodSerializer})
    @action(detail=False, methods=["post"])
    def lock(self, request):
        """Lock a closed month for good."""
        return self._act(periods.lock_period)

    @extend_schema(request=s.PeriodActionSerializer, responses={200: s.PeriodSerializer})
    @action(detail=False, methods=["post"])
    def reopen(self, request):
        """Reopen a closed month that is not locked."""
        return self._act(periods.reopen_period)


def _date(params, name) -> date | None:
    value = params.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            "Use an ISO date (YYYY-MM-DD).", field=name, code="invalid"
        ) from None


MARGIN_LIMIT_MAX = 1000


class MarginView(GenericAPIView):
    """Margin per channel, SKU or order from the postings: revenue (sales, shipping charged,
    restocking fees) − refunds − COGS − marketplace fees − shipping cost."""

    queryset = JournalLine.objects.none()
    serializer_class = s.MarginSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("by", str, enum=list(selectors.MARGIN_GROUPS), default="channel"),
            OpenApiParameter("date_from", date, description="Postings dated from (ISO date)"),
            OpenApiParameter("date_to", date, description="Postings dated up to (ISO date)"),
            OpenApiParameter("channel", str, description="Channel code"),
            OpenApiParameter(
                "limit", int, description=f"Rows (default 100, at most {MARGIN_LIMIT_MAX})"
            ),
        ]
    )
    def get(self, request):
        params = request.query_params
        by = params.get("by", "channel")
        if by not in selectors.MARGIN_GROUPS:
            raise ValidationFailed(
                f"Group by one of {', '.join(selectors.MARGIN_GROUPS)}.",
                field="by",
                code="invalid_choice",
            )
        limit = params.get("limit", "100")
        if not limit.isdigit() or not 1 <= int(limit) <= MARGIN_LIMIT_MAX:
            raise ValidationFailed(
                f"Give a limit from 1 to {MARGIN_LIMIT_MAX}.", field="limit", code="invalid"
            )
        channel_id = None
        if params.get("channel"):
            channel_id = (
                Channel.objects.filter(code=params["channel"]).values_list("pk", flat=True).first()
            )
            if channel_id is None:
                raise ValidationFailed("No such channel.", field="channel", code="does_not_exist")
        rows = list(
            selectors.margin_rows(
                group=by,
                date_from=_date(params, "date_from"),
                date_to=_date(params, "date_to"),
                channel_id=channel_id,
            )
        )
        shown = rows[: int(limit)]
        return Response(
            s.MarginSerializer(
                {
                    "by": by,
                    "rows": shown,
                    "total": selectors.margin_total(rows),
                    "truncated": len(rows) > len(shown),
                }
            ).data
        )


class TrialBalanceView(GenericAPIView):
    """Debit and credit totals per account and currency, up to a date."""

    queryset = JournalLine.objects.none()
    serializer_class = s.TrialBalanceSerializer

    @extend_schema(parameters=[OpenApiParameter("as_of", date, description="ISO date")])
    def get(self, request):
        as_of = _date(request.query_params, "as_of")
        balance = selectors.trial_balance(as_of=as_of)
        totals = [
            {"currency": currency, "debits": debits, "credits": credits}
            for currency, (debits, credits) in balance.totals().items()
        ]
        return Response(
            s.TrialBalanceSerializer(
                {
                    "as_of": as_of,
                    "balanced": balance.balanced,
                    "rows": balance.rows,
                    "totals": totals,
                }
            ).data
        )
