"""Purchasing reads: PO lists with their totals, scans resolved to PO lines, queues."""

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from erp.errors import NotFound
from purchasing.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderState,
    Supplier,
    SupplierItem,
)
from purchasing.services import timeline

_LINE_VALUE = ExpressionWrapper(
    F("lines__quantity_ordered") * F("lines__unit_cost"),
    output_field=DecimalField(max_digits=18, decimal_places=4),
)


def purchase_orders() -> QuerySet:
    """POs with their supplier, destination, line count, units and value (one query)."""
    return PurchaseOrder.objects.select_related("supplier", "destination", "requested_by").annotate(
        line_count=Count("lines"),
        units_ordered=Coalesce(Sum("lines__quantity_ordered"), 0),
        units_received=Coalesce(Sum("lines__quantity_received"), 0),
        total=Coalesce(
            Sum(_LINE_VALUE), Value(0), output_field=DecimalField(max_digits=18, decimal_places=4)
        ),
    )


def purchase_order_detail(pk: int) -> PurchaseOrder:
    purchase_order = (
        purchase_orders()
        .select_related("approval", "approved_by")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=PurchaseOrderLine.objects.select_related("sku", "supplier_item").order_by(
                    "line_number"
                ),
            ),
            "events__actor",
            "receipts__lines__sku",
            "receipts__received_by",
            "landed_charges",
        )
        .filter(pk=pk)
        .first()
    )
    if purchase_order is None:
        raise NotFound("No such purchase order.")
    return purchase_order


def suppliers() -> QuerySet:
    return Supplier.objects.select_related("dropship_location", "order_endpoint").annotate(
        item_count=Count("items", distinct=True),
        open_orders=Count(
            "purchase_orders",
            filter=Q(
                purchase_orders__state__in=[*timeline.OPEN_INBOUND, PurchaseOrderState.SUBMITTED]
            ),
            distinct=True,
        ),
    )


def supplier_items() -> QuerySet:
    return SupplierItem.objects.select_related("supplier", "sku")


def inbound_delayed() -> QuerySet:
    """Escalated POs still waiting for goods, the longest overdue first."""
    return (
        purchase_orders()
        .filter(escalated_at__isnull=False, state__in=timeline.OPEN_INBOUND)
        .order_by("expected_date", "pk")
    )


def receivable_purchase_orders() -> QuerySet:
    return purchase_orders().filter(state__in=timeline.RECEIVABLE)


def find_purchase_order_by_scan(code: str) -> PurchaseOrder | None:
    code = (code or "").strip()
    if not code:
        return None
    return PurchaseOrder.objects.filter(number__iexact=code).first()


def open_lines_for_scan(purchase_order: PurchaseOrder, code: str) -> list[PurchaseOrderLine]:
    """The PO's lines a scanned code names: SKU code, barcode or the supplier's SKU."""
    code = (code or "").strip()
    if not code:
        return []
    return list(
        PurchaseOrderLine.objects.select_related("sku", "supplier_item")
        .filter(purchase_order=purchase_order)
        .filter(
            Q(sku__code__iexact=code)
            | Q(sku__barcode=code)
            | Q(supplier_item__supplier_sku__iexact=code)
        )
        .order_by("line_number")
    )


def receivable_orders_for_sku_scan(code: str) -> QuerySet:
    """POs that can still receive the SKU a scanned code names (scan SKU first)."""
    code = (code or "").strip()
    return (
        receivable_purchase_orders()
        .filter(
            Q(lines__sku__code__iexact=code) | Q(lines__sku__barcode=code),
            lines__quantity_received__lt=F("lines__quantity_ordered"),
        )
        .distinct()
        .order_by("expected_date", "pk")
    )
