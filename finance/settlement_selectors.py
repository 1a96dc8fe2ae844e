"""Reading settlements: the list, one settlement's lines and orders, the variances queue."""

from django.db.models import Count, Q, QuerySet

from finance.models import (
    Settlement,
    SettlementImport,
    SettlementLine,
    SettlementOrder,
    SettlementVariance,
    VarianceState,
)


def settlement_list() -> QuerySet[Settlement]:
    return Settlement.objects.select_related("channel").annotate(
        open_variances=Count("variances", filter=Q(variances__state=VarianceState.OPEN))
    )


def settlement_lines(settlement_id: int) -> QuerySet[SettlementLine]:
    return SettlementLine.objects.filter(settlement_id=settlement_id).order_by("line_no", "id")


def settlement_orders(settlement_id: int) -> QuerySet[SettlementOrder]:
    return SettlementOrder.objects.filter(settlement_id=settlement_id).select_related("order")


def variances() -> QuerySet[SettlementVariance]:
    return SettlementVariance.objects.select_related(
        "settlement", "channel", "order", "line", "decided_by"
    )


def open_variances() -> QuerySet[SettlementVariance]:
    """The settlement variances queue: open ones (disputed ones wait on the marketplace)."""
    return variances().filter(state=VarianceState.OPEN)


def recent_imports(user) -> QuerySet[SettlementImport]:
    return (
        SettlementImport.objects.filter(created_by=user)
        .select_related("channel", "settlement")
        .defer("content")[:10]
    )
