"""Purchase orders: list with filters, detail with its actions, create and edit drafts."""

import re

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from erp.errors import DomainError, NotFound
from erp.exports import export_format
from erp.list_export import Column, export_rows
from erp.services import approvals
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import add_domain_errors, raise_if_not_permitted
from erp.views.rendering import render_page_or_fragment
from inventory.views.outcomes import PAGE_SIZE, after_write
from purchasing import documents, selectors
from purchasing.forms import (
    DecisionForm,
    LandedChargeForm,
    PurchaseOrderFilterForm,
    PurchaseOrderForm,
    PurchaseOrderLineFormSet,
    ReasonForm,
)
from purchasing.models import OverReceipt, PurchaseOrder, PurchaseOrderState
from purchasing.services import landed_cost, purchase_orders, timeline

VIEW_POS = "purchasing.view_purchaseorder"
CHANGE_POS = "purchasing.change_purchaseorder"
LINE_FIELD = re.compile(r"^lines\[(\d+)\]\.(\w+)$")
S = PurchaseOrderState
EXPORT_COLUMNS = [
    Column("PO", "number"),
    Column("Supplier", "supplier__code"),
    Column("Supplier name", "supplier__name"),
    Column("Ship to", "destination__code"),
    Column("Kind", "kind", choices=PurchaseOrder._meta.get_field("kind").choices),
    Column("State", "state", choices=PurchaseOrderState.choices),
    Column("Currency", "currency"),
    Column("Lines", "line_count"),
    Column("Units ordered", "units_ordered"),
    Column("Units received", "units_received"),
    Column("Total", "total"),
    Column("Expected", "expected_date"),
    Column("Reference", "reference"),
    Column("Requested by", "requested_by__username"),
    Column("Created at", "created_at"),
    Column("Sent at", "sent_at"),
]


@require_GET
@backoffice_view
def purchase_order_list(request):
    forbid_unless_permitted(request.user, VIEW_POS)
    filters = PurchaseOrderFilterForm(request.GET)
    rows = selectors.purchase_orders()
    if filters.state_value():
        rows = rows.filter(state=filters.state_value())
    if filters.supplier_value():
        rows = rows.filter(supplier=filters.supplier_value())
    rows = filters.received_between(rows)
    if filters.overdue_value():
        rows = rows.filter(state__in=timeline.OPEN_INBOUND, expected_date__lt=timezone.localdate())
    if filters.search():
        term = filters.search()
        rows = rows.filter(
            Q(number__icontains=term)
            | Q(supplier__code__icontains=term)
            | Q(supplier__name__icontains=term)
            | Q(reference__icontains=term)
        )
    if fmt := export_format(request):
        return export_rows("purchase-orders", rows.order_by("-id"), EXPORT_COLUMNS, fmt)
    context = {
        "section": "purchasing",
        "filters": filters,
        "today": timezone.localdate(),
        "page": Paginator(rows.order_by("-id"), PAGE_SIZE).get_page(request.GET.get("page")),
        "can_create": request.user.has_perm("purchasing.add_purchaseorder"),
    }
    return render_page_or_fragment(
        request,
        page="purchasing/po_list.html",
        fragment="purchasing/partials/po_results.html",
        context=context,
    )


def _render_detail(request, purchase_order_id: int, *, forms=None, status=200):
    try:
        purchase_order = selectors.purchase_order_detail(purchase_order_id)
    except NotFound as error:
        raise Http404(error.message) from error
    user, state = request.user, purchase_order.state
    request_ = purchase_order.approval
    forms = forms or {}
    context = {
        "section": "purchasing",
        "po": purchase_order,
        "lines": list(purchase_order.lines.all()),
        "events": list(purchase_order.events.all()),
        "receipts": list(purchase_order.receipts.all()),
        "charges": list(purchase_order.landed_charges.all()),
        "can_edit": state == S.DRAFT and user.has_perm(CHANGE_POS),
        "can_submit": state == S.DRAFT and user.has_perm(CHANGE_POS),
        "can_decide": bool(
            state == S.SUBMITTED
            and request_
            and request_.state == request_.State.PENDING
            and approvals.can_decide(request=request_, actor=user)
            and user.pk != purchase_order.requested_by_id
        ),
        "can_cancel": state in timeline.CANCELLABLE and user.has_perm(CHANGE_POS),
        "can_close": state in (S.PARTIALLY_RECEIVED, S.RECEIVED, S.SENT)
        and user.has_perm(CHANGE_POS),
        "can_mark_sent": state == S.APPROVED and user.has_perm(CHANGE_POS),
        "can_receive": state in timeline.RECEIVABLE
        and user.has_perm("purchasing.receive_purchaseorder"),
        "can_charge": purchase_order.units_received > 0
        and user.has_perm("purchasing.add_landedcharge"),
        "decision_form": forms.get("decision") or DecisionForm(),
        "cancel_form": forms.get("cancel") or ReasonForm(),
        "close_form": forms.get("close") or ReasonForm(),
        "charge_form": forms.get("charge") or LandedChargeForm(),
        "action_error": forms.get("error"),
    }
    return render_page_or_fragment(
        request,
        page="purchasing/po_detail.html",
        fragment="purchasing/partials/po_actions.html",
        context=context,
        status=status,
    )


@require_GET
@backoffice_view
def purchase_order_detail(request, pk: int):
    forbid_unless_permitted(request.user, VIEW_POS)
    return _render_detail(request, pk)


def _po_or_404(pk: int) -> PurchaseOrder:
    return get_object_or_404(PurchaseOrder, pk=pk)


def _act(request, pk: int, form_name: str, form, call, message):
    """Run a PO action from its form; a refusal re-renders the detail with the message."""
    purchase_order = _po_or_404(pk)
    if form is not None and not form.is_valid():
        return _render_detail(request, pk, forms={form_name: form}, status=400)
    try:
        result = call(purchase_order, form.cleaned_data if form is not None else {})
    except DomainError as error:
        raise_if_not_permitted(error)
        if form is not None:
            add_domain_errors(form, error)
        return _render_detail(
            request, pk, forms={form_name: form, "error": error.message}, status=400
        )
    result.refresh_from_db()
    return after_write(
        request, reverse("purchasing:purchaseorder-detail", args=[pk]), message(result)
    )


@require_POST
@backoffice_view
def purchase_order_submit(request, pk: int):
    forbid_unless_permitted(request.user, CHANGE_POS)
    return _act(
        request,
        pk,
        "submit",
        None,
        lambda po, data: purchase_orders.submit_purchase_order(
            purchase_order=po, actor=request.user
        ),
        lambda po: f"{po.number} submitted: {po.get_state_display().lower()}.",
    )


@require_POST
@backoffice_view
def purchase_order_decide(request, pk: int):
    forbid_unless_permitted(request.user, "purchasing.approve_purchaseorder")
    return _act(
        request,
        pk,
        "decision",
        DecisionForm(request.POST),
        lambda po, data: purchase_orders.decide_purchase_order(
            purchase_order=po,
            actor=request.user,
            approve=data["decision"] == "approve",
            note=data["note"],
        ),
        lambda po: f"{po.number} {po.get_state_display().lower()}.",
    )


@require_POST
@backoffice_view
def purchase_order_cancel(request, pk: int):
    forbid_unless_permitted(request.user, CHANGE_POS)
    return _act(
        request,
        pk,
        "cancel",
        ReasonForm(request.POST),
        lambda po, data: purchase_orders.cancel_purchase_order(
            purchase_order=po, actor=request.user, reason=data["reason"]
        ),
        lambda po: f"{po.number} cancelled.",
    )


@require_POST
@backoffice_view
def purchase_order_close(request, pk: int):
    forbid_unless_permitted(request.user, CHANGE_POS)
    return _act(
        request,
        pk,
        "close",
        ReasonForm(request.POST),
        lambda po, data: purchase_orders.close_purchase_order(
            purchase_order=po, actor=request.user, reason=data["reason"]
        ),
        lambda po: f"{po.number} closed.",
    )


@require_POST
@backoffice_view
def purchase_order_mark_sent(request, pk: int):
    forbid_unless_permitted(request.user, CHANGE_POS)
    return _act(
        request,
        pk,
        "sent",
        None,
        lambda po, data: purchase_orders.mark_sent_by_file(purchase_order=po, actor=request.user),
        lambda po: f"{po.number} marked sent.",
    )


@require_POST
@backoffice_view
def purchase_order_charge(request, pk: int):
    forbid_unless_permitted(request.user, "purchasing.add_landedcharge")

    def add(po, data):
        landed_cost.add_landed_charge(purchase_order=po, actor=request.user, **data)
        return po

    return _act(
        request,
        pk,
        "charge",
        LandedChargeForm(request.POST),
        add,
        lambda po: f"{po.number}: charge allocated to the received lines.",
    )


@require_GET
@backoffice_view
def purchase_order_file(request, pk: int, kind: str):
    forbid_unless_permitted(request.user, VIEW_POS)
    purchase_order = _po_or_404(pk)
    if kind == "csv":
        response = HttpResponse(
            documents.render_purchase_order_csv(purchase_order), content_type="text/csv"
        )
        response["Content-Disposition"] = f'attachment; filename="{purchase_order.number}.csv"'
        return response
    response = HttpResponse(
        documents.render_purchase_order_pdf(purchase_order), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="{purchase_order.number}.pdf"'
    return response


def _add_line_errors(form, lines, filled, error) -> None:
    raise_if_not_permitted(error)
    for field_error in error.errors:
        match = LINE_FIELD.match(field_error.field or "")
        if match and int(match[1]) < len(filled):
            line_form = filled[int(match[1])]
            name = match[2] if match[2] in line_form.fields else None
            line_form.add_error(name, field_error.message)
        else:
            field = field_error.field if field_error.field in form.fields else None
            form.add_error(field, field_error.message)


@require_http_methods(["GET", "POST"])
@backoffice_view
def purchase_order_edit(request, pk: int | None = None):
    """Create a draft, or change one (its lines are replaced whole)."""
    purchase_order = _po_or_404(pk) if pk else None
    forbid_unless_permitted(
        request.user, CHANGE_POS if purchase_order else "purchasing.add_purchaseorder"
    )
    if purchase_order and purchase_order.state != S.DRAFT:
        return redirect("purchasing:purchaseorder-detail", pk=purchase_order.pk)
    posted = request.POST if request.method == "POST" else None
    if purchase_order and posted is None:
        form = PurchaseOrderForm(
            initial={
                "supplier": purchase_order.supplier.code,
                "destination": purchase_order.destination.code,
                "exchange_rate": purchase_order.exchange_rate,
                "note": purchase_order.note,
            }
        )
        current = list(purchase_order.lines.select_related("sku").order_by("line_number"))
        lines = PurchaseOrderLineFormSet(
            prefix="lines",
            initial=[
                {
                    "sku": line.sku.code,
                    "quantity": line.quantity_ordered,
                    "unit_cost": line.unit_cost,
                }
                for line in current
            ],
        )
    else:
        form = PurchaseOrderForm(posted, initial=None if posted else request.GET.dict())
        lines = PurchaseOrderLineFormSet(posted, prefix="lines")
    if purchase_order:
        form.fields["supplier"].disabled = True
        form.fields["supplier"].required = False
    if posted is not None and form.is_valid() and lines.is_valid():
        filled = lines.filled_forms()
        data = form.cleaned_data
        try:
            if purchase_order:
                saved = purchase_orders.update_draft(
                    purchase_order=purchase_order,
                    actor=request.user,
                    lines=lines.filled_lines(),
                    destination=data["destination"],
                    exchange_rate=data["exchange_rate"],
                    note=data["note"],
                )
            else:
                saved = purchase_orders.create_purchase_order(
                    supplier=data["supplier"],
                    destination=data["destination"],
                    exchange_rate=data["exchange_rate"],
                    note=data["note"],
                    lines=lines.filled_lines(),
                    actor=request.user,
                )
        except DomainError as error:
            _add_line_errors(form, lines, filled, error)
        else:
            return after_write(
                request,
                reverse("purchasing:purchaseorder-detail", args=[saved.pk]),
                f"{saved.number} saved as a draft.",
            )
    return render_page_or_fragment(
        request,
        page="purchasing/po_form.html",
        fragment="purchasing/partials/po_form.html",
        context={"section": "purchasing", "form": form, "lines": lines, "po": purchase_order},
    )


@require_GET
@backoffice_view
def over_receipt_detail(request, pk: int):
    """The approvals inbox links an over-receipt here: its PO's page."""
    forbid_unless_permitted(request.user, VIEW_POS)
    over = get_object_or_404(OverReceipt.objects.select_related("purchase_order_line"), pk=pk)
    return redirect(
        "purchasing:purchaseorder-detail", pk=over.purchase_order_line.purchase_order_id
    )
