"""Purchasing API: thin views that parse input, call a service and serialize the result."""

import django_filters
from django.db.models import Prefetch
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from erp.api import filters
from erp.api.base import ServiceViewSet
from erp.api.idempotency import IdempotentPostMixin
from erp.api.permissions import RoleModelPermissions
from erp.errors import ValidationFailed
from purchasing import documents, selectors
from purchasing.api import serializers as s
from purchasing.models import (
    LandedCharge,
    OverReceipt,
    Proposal,
    ProposalLine,
    PurchaseOrder,
    PurchaseOrderState,
    Receipt,
    Supplier,
    SupplierItem,
)
from purchasing.services import landed_cost, purchase_orders, receiving, replenishment, suppliers

# --- suppliers and price lists -------------------------------------------------------------


class SupplierFilter(filters.FilterSet):
    code = django_filters.CharFilter()
    active = django_filters.BooleanFilter()
    currency = django_filters.CharFilter()

    class Meta:
        model = Supplier
        fields = ["code", "active", "currency"]


class SupplierViewSet(ServiceViewSet):
    """Suppliers: contacts, currency, payment terms, QA hold, drop-ship node."""

    serializer_class = s.SupplierSerializer
    filterset_class = SupplierFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.suppliers().prefetch_related("contacts")

    @staticmethod
    def create_service(*, actor, data):
        return suppliers.save_supplier(actor=actor, **data)

    @staticmethod
    def update_service(instance, *, actor, data):
        return suppliers.save_supplier(actor=actor, supplier=instance, **data)

    @extend_schema(
        request={
            "multipart/form-data": s.PriceListInputSerializer,
            "application/json": s.PriceListInputSerializer,
        },
        responses={200: s.PriceListReportSerializer},
    )
    @action(detail=True, methods=["post"], url_path="price-list")
    def price_list(self, request, pk=None):
        """Import the supplier's price list (CSV), all rows or none. When any row is refused
        nothing is written and the 400 lists every refused row as `rows[<line>].<column>`
        (the line number in the file, the header being line 1)."""
        supplier = self.get_object()
        serializer = s.PriceListInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        content = data.get("content")
        if content is None:
            try:
                content = data["file"].read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ValidationFailed(
                    "The file is not UTF-8 text.", field="file", code="encoding"
                ) from None
        report = suppliers.import_price_list(supplier=supplier, content=content, actor=request.user)
        return Response(report.as_dict())


class SupplierItemFilter(filters.FilterSet):
    supplier = django_filters.CharFilter(field_name="supplier__code")
    sku = django_filters.CharFilter(field_name="sku__code")
    preferred = django_filters.BooleanFilter()
    active = django_filters.BooleanFilter()

    class Meta:
        model = SupplierItem
        fields = ["supplier", "sku", "preferred", "active"]


class SupplierItemViewSet(ServiceViewSet):
    """Supplier SKUs: cost, lead time, MOQ, pack multiple, preferred (one per SKU)."""

    serializer_class = s.SupplierItemSerializer
    filterset_class = SupplierItemFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.supplier_items()

    def get_input_serializer(self, *args, **kwargs):
        if args:  # an update: supplier and SKU stay
            kwargs.setdefault("context", self.get_serializer_context())
            return s.SupplierItemUpdateSerializer(*args, **kwargs)
        return super().get_input_serializer(*args, **kwargs)

    @staticmethod
    def create_service(*, actor, data):
        return suppliers.save_supplier_item(actor=actor, **data)

    @staticmethod
    def update_service(instance, *, actor, data):
        return suppliers.save_supplier_item(
            actor=actor, supplier=instance.supplier, sku=instance.sku, **data
        )


# --- purchase orders ------------------------------------------------------------------------


class PurchaseOrderFilter(filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=PurchaseOrderState.choices)
    supplier = django_filters.CharFilter(field_name="supplier__code")
    destination = django_filters.CharFilter(field_name="destination__code")
    kind = django_filters.ChoiceFilter(choices=PurchaseOrder.Kind.choices)
    number = django_filters.CharFilter()
    escalated = django_filters.BooleanFilter(
        field_name="escalated_at", lookup_expr="isnull", exclude=True
    )

    class Meta:
        model = PurchaseOrder
        fields = ["state", "supplier", "destination", "kind", "number", "escalated"]


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes | str) else str(data)


class PDFRenderer(BaseRenderer):
    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else str(data).encode()


class PurchaseOrderViewSet(ServiceViewSet):
    """Purchase orders: create and edit drafts, submit (approval above the threshold),
    approve or reject, cancel with a reason, close; the PO as CSV or PDF."""

    filterset_class = PurchaseOrderFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    input_serializer_class = s.PurchaseOrderCreateSerializer

    def get_queryset(self):
        if self.action == "list":
            return selectors.purchase_orders()
        return selectors.purchase_orders().prefetch_related(
            "lines__sku", "lines__supplier_item", "events__actor"
        )

    def get_serializer_class(self):
        return (
            s.PurchaseOrderSerializer if self.action == "list" else s.PurchaseOrderDetailSerializer
        )

    def get_input_serializer(self, *args, **kwargs):
        kwargs.setdefault("context", self.get_serializer_context())
        if args:
            return s.PurchaseOrderUpdateSerializer(data=kwargs["data"], context=kwargs["context"])
        return s.PurchaseOrderCreateSerializer(*args, **kwargs)

    @staticmethod
    def create_service(*, actor, data):
        return purchase_orders.create_purchase_order(actor=actor, **data)

    @staticmethod
    def update_service(instance, *, actor, data):
        return purchase_orders.update_draft(purchase_order=instance, actor=actor, **data)

    @extend_schema(
        request=s.PurchaseOrderCreateSerializer, responses={201: s.PurchaseOrderDetailSerializer}
    )
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)

    @extend_schema(
        request=s.PurchaseOrderUpdateSerializer, responses=s.PurchaseOrderDetailSerializer
    )
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def _detail(self, purchase_order):
        return Response(
            s.PurchaseOrderDetailSerializer(self.get_queryset().get(pk=purchase_order.pk)).data
        )

    @extend_schema(request=None, responses=s.PurchaseOrderDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Submit a draft: above the approval threshold it waits for a manager, else it is
        approved and sent to the supplier."""
        return self._detail(
            purchase_orders.submit_purchase_order(
                purchase_order=self.get_object(), actor=request.user
            )
        )

    @extend_schema(
        request=s.PurchaseOrderDecisionSerializer, responses=s.PurchaseOrderDetailSerializer
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve (or reject, with a note) a submitted PO; never your own."""
        serializer = s.PurchaseOrderDecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._detail(
            purchase_orders.decide_purchase_order(
                purchase_order=self.get_object(), actor=request.user, **serializer.validated_data
            )
        )

    @extend_schema(
        request=s.PurchaseOrderReasonSerializer, responses=s.PurchaseOrderDetailSerializer
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        serializer = s.PurchaseOrderReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._detail(
            purchase_orders.cancel_purchase_order(
                purchase_order=self.get_object(), actor=request.user, **serializer.validated_data
            )
        )

    @extend_schema(
        request=s.PurchaseOrderReasonSerializer, responses=s.PurchaseOrderDetailSerializer
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close a received PO, or short-close a partly received one (with a reason)."""
        serializer = s.PurchaseOrderReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._detail(
            purchase_orders.close_purchase_order(
                purchase_order=self.get_object(), actor=request.user, **serializer.validated_data
            )
        )

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, CSVRenderer])
    def csv(self, request, pk=None):
        purchase_order = self.get_object()
        response = HttpResponse(
            documents.render_purchase_order_csv(purchase_order), content_type="text/csv"
        )
        response["Content-Disposition"] = f'attachment; filename="{purchase_order.number}.csv"'
        return response

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PDFRenderer])
    def pdf(self, request, pk=None):
        purchase_order = self.get_object()
        response = HttpResponse(
            documents.render_purchase_order_pdf(purchase_order), content_type="application/pdf"
        )
        response["Content-Disposition"] = f'inline; filename="{purchase_order.number}.pdf"'
        return response


# --- receiving, over-receipts, landed charges ------------------------------------------------


class ReceiptFilter(filters.FilterSet):
    purchase_order = django_filters.CharFilter(field_name="purchase_order__number")
    location = django_filters.CharFilter(field_name="location__code")
    received_after = filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")

    class Meta:
        model = Receipt
        fields = ["purchase_order", "location", "received_after"]


class ReceiptViewSet(
    IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Goods received against a PO (what a scanner or a 3PL booked)."""

    serializer_class = s.GoodsReceiptSerializer
    filterset_class = ReceiptFilter
    queryset = Receipt.objects.select_related(
        "purchase_order", "location", "received_by"
    ).prefetch_related("lines__sku", "lines__lot")

    @extend_schema(
        request=s.GoodsReceiptCreateSerializer, responses={201: s.GoodsReceiptSerializer}
    )
    def create(self, request):
        """Receive units: each line names the PO line, or the scanned SKU code/barcode."""
        serializer = s.GoodsReceiptCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        receipt = receiving.receive_goods(
            purchase_order=data["purchase_order"],
            actor=request.user,
            note=data["note"],
            lines=[
                receiving.ScannedLine(
                    line_id=line.get("line"),
                    scanned_code=line.get("sku", ""),
                    quantity=line["quantity"],
                    lot_code=line["lot"],
                    expires_on=line["expires_on"],
                    serials=line["serials"],
                    status=line["status"],
                )
                for line in data["lines"]
            ],
        )
        return Response(
            self.get_serializer(self.get_queryset().get(pk=receipt.pk)).data, status=201
        )


class OverReceiptViewSet(
    IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Requests to receive more than a line allows; a manager decides in the approvals inbox."""

    serializer_class = s.OverReceiptSerializer
    queryset = OverReceipt.objects.select_related("requested_by")
    filterset_fields = ["state"]

    @extend_schema(request=s.OverReceiptCreateSerializer, responses={201: s.OverReceiptSerializer})
    def create(self, request):
        serializer = s.OverReceiptCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        over = receiving.request_over_receipt(actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=over.pk)).data, status=201)


class LandedChargeViewSet(
    IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Freight, duty and other charges, allocated to the PO's received lines at once."""

    serializer_class = s.LandedChargeSerializer
    queryset = LandedCharge.objects.select_related("purchase_order").prefetch_related("allocations")
    filterset_fields = ["kind", "basis"]

    @extend_schema(
        request=s.LandedChargeCreateSerializer, responses={201: s.LandedChargeSerializer}
    )
    def create(self, request):
        serializer = s.LandedChargeCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        charge = landed_cost.add_landed_charge(actor=request.user, **serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=charge.pk)).data, status=201)


# --- replenishment proposals -----------------------------------------------------------------


class ProposalPermissions(RoleModelPermissions):
    """Reading needs view_proposal; accepting, editing and running need the planner's
    permission (the services check it again, with run_replenishment for a run)."""

    perms_map = {**RoleModelPermissions.perms_map, "POST": ["purchasing.accept_proposal"]}


class ProposalFilter(filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=Proposal.State.choices)
    supplier = django_filters.CharFilter(field_name="supplier__code")
    destination = django_filters.CharFilter(field_name="destination__code")
    run = django_filters.NumberFilter(field_name="run_id")

    class Meta:
        model = Proposal
        fields = ["state", "supplier", "destination", "run"]


class ProposalViewSet(
    IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Reorder proposals: one per supplier and node, each line with the figures that
    explain it. Edit or drop lines, accept (→ a draft PO) or drop a proposal, run now."""

    serializer_class = s.ProposalSerializer
    filterset_class = ProposalFilter
    permission_classes = [ProposalPermissions]
    queryset = Proposal.objects.select_related(
        "supplier", "destination", "purchase_order"
    ).prefetch_related(
        Prefetch(
            "lines",
            queryset=ProposalLine.objects.select_related("sku", "supplier_item").order_by(
                "sku__code"
            ),
        )
    )

    def _detail(self, proposal):
        return Response(s.ProposalSerializer(self.get_queryset().get(pk=proposal.pk)).data)

    @extend_schema(request=s.ProposalAcceptSerializer, responses=s.PurchaseOrderDetailSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """The open lines become one draft PO (validated like any PO: MOQ, pack, active
        SKUs); answers the draft PO."""
        serializer = s.ProposalAcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        purchase_order = replenishment.accept_proposal(
            proposal=self.get_object(),
            actor=request.user,
            exchange_rate=serializer.validated_data.get("exchange_rate"),
        )
        detail = (
            selectors.purchase_orders()
            .prefetch_related("lines__sku", "lines__supplier_item", "events__actor")
            .get(pk=purchase_order.pk)
        )
        return Response(s.PurchaseOrderDetailSerializer(detail).data)

    @extend_schema(request=None, responses=s.ProposalSerializer)
    @action(detail=True, methods=["post"])
    def drop(self, request, pk=None):
        """Drop the whole proposal."""
        return self._detail(
            replenishment.drop_proposal(proposal=self.get_object(), actor=request.user)
        )

    @extend_schema(request=s.ProposalLineChangeSerializer, responses=s.ProposalSerializer)
    @action(detail=True, methods=["post"], url_path="lines")
    def change_line(self, request, pk=None):
        """Set a line's quantity (MOQ and pack apply) or drop it."""
        proposal = self.get_object()
        serializer = s.ProposalLineChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        line = ProposalLine.objects.filter(proposal=proposal, pk=data["line"]).first()
        if line is None:
            raise ValidationFailed("No such line on this proposal.", field="line", code="invalid")
        if data["drop"]:
            replenishment.drop_line(line=line, actor=request.user)
        else:
            replenishment.set_line_quantity(
                line=line, quantity=data["quantity"], actor=request.user
            )
        return self._detail(proposal)

    @extend_schema(request=None, responses={201: s.ReplenishmentRunSerializer})
    @action(detail=False, methods=["post"])
    def run(self, request):
        """Compute every proposal now (the open ones are superseded)."""
        result = replenishment.run_replenishment(actor=request.user)
        return Response(s.ReplenishmentRunSerializer(result).data, status=status.HTTP_201_CREATED)
