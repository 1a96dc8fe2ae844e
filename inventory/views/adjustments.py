"""Adjustments and write-offs: request one, list them by state, review one with its
history, and approve or reject it (only someone who may decide it sees the buttons;
the approvals service refuses everyone else)."""

from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from erp.errors import DomainError, NotFound
from erp.exports import export_format
from erp.list_export import Column, export_rows
from erp.models import ApprovalRequest
from erp.services import approvals
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import add_domain_errors
from erp.views.history import record_history
from erp.views.rendering import render_page_or_fragment
from inventory.forms import AdjustmentFilterForm, AdjustmentForm, NoteForm
from inventory.models import InventoryAdjustment
from inventory.services.adjustments import decide_adjustment, request_adjustment
from inventory.views.movements import MovementScreen, bind, render_movement_form
from inventory.views.outcomes import PAGE_SIZE, after_write

VIEW_ADJUSTMENTS = "inventory.view_inventoryadjustment"
ADJUST = MovementScreen(
    title="Adjust stock",
    url_name="adjustment-create",
    submit="Submit adjustment",
    intro=(
        "Correct on-hand stock or write units off. Small adjustments post at once; above "
        "the value threshold they wait for a manager's approval."
    ),
)

ADJUSTMENT_COLUMNS = [
    Column("Adjustment", "pk", display=lambda pk: f"ADJ-{pk}"),
    Column("SKU", "sku__code"),
    Column("Lot", "lot__code"),
    Column("Node", "location__code"),
    Column("Status", "status", choices=InventoryAdjustment._meta.get_field("status").choices),
    Column("Quantity", "quantity"),
    Column("Unit cost", "unit_cost"),
    Column("Value", "value"),
    Column(
        "Reason", "reason_code", choices=InventoryAdjustment._meta.get_field("reason_code").choices
    ),
    Column("State", "state", choices=InventoryAdjustment.State.choices),
    Column("Note", "note"),
    Column("Requested by", "requested_by__username"),
    Column("Requested at", "created_at"),
    Column("Posted at", "posted_at"),
]


@require_GET
@backoffice_view
def adjustment_list(request):
    forbid_unless_permitted(request.user, VIEW_ADJUSTMENTS)
    filters = AdjustmentFilterForm(request.GET)
    rows = InventoryAdjustment.objects.select_related("sku", "location", "lot", "requested_by")
    if filters.state_value():
        rows = rows.filter(state=filters.state_value())
    rows = filters.narrow(rows)
    if filters.search():
        term = filters.search()
        rows = rows.filter(
            Q(sku__code__icontains=term)
            | Q(location__code__icontains=term)
            | Q(note__icontains=term)
        )
    if fmt := export_format(request):
        return export_rows("adjustments", rows.order_by("-id"), ADJUSTMENT_COLUMNS, fmt)
    context = {
        "section": "stock",
        "filters": filters,
        "page": Paginator(rows.order_by("-id"), PAGE_SIZE).get_page(request.GET.get("page")),
        "can_adjust": request.user.has_perm("inventory.add_inventoryadjustment"),
    }
    return render_page_or_fragment(
        request,
        page="inventory/adjustment_list.html",
        fragment="inventory/partials/adjustment_results.html",
        context=context,
    )


def _outcome(adjustment: InventoryAdjustment) -> str:
    """What the service decided: posted at once, or waiting for approval."""
    label = f"ADJ-{adjustment.pk} ({adjustment.quantity:+d} × {adjustment.sku.code} at {adjustment.location.code})"
    if adjustment.state == InventoryAdjustment.State.POSTED:
        return f"{label} posted: the stock changed at once."
    return (
        f"{label} waits for a manager's approval: its value, {adjustment.value}, is above "
        "the approval threshold. Stock changes when it is approved."
    )


@require_http_methods(["GET", "POST"])
@backoffice_view
def adjustment_create(request):
    forbid_unless_permitted(request.user, "inventory.add_inventoryadjustment")
    form = bind(request, AdjustmentForm)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            adjustment = request_adjustment(
                sku=data["sku"],
                location=data["location"],
                quantity=data["quantity"],
                reason_code=data["reason_code"],
                actor=request.user,
                status=data["status"],
                lot=data["lot"],
                note=data["note"],
            )
        except DomainError as error:
            add_domain_errors(form, error)
        else:
            return after_write(
                request,
                reverse("inventoryadjustment-detail", args=[adjustment.pk]),
                _outcome(adjustment),
            )
    return render_movement_form(request, form, ADJUST)


def _approval_requests(adjustment: InventoryAdjustment) -> list[ApprovalRequest]:
    subject_type = ContentType.objects.get_for_model(InventoryAdjustment)
    return list(
        ApprovalRequest.objects.filter(subject_type=subject_type, subject_id=adjustment.pk)
        .select_related("requested_by", "decided_by")
        .order_by("-requested_at", "-id")
    )


def _render_detail(
    request,
    adjustment: InventoryAdjustment,
    decision: NoteForm | None = None,
    fragment: str = "inventory/partials/document_history.html",
):
    """The page, or for HTMX one part of it: the history (paging) or the decision panel."""
    requests = _approval_requests(adjustment)
    pending = next((r for r in requests if r.state == ApprovalRequest.State.PENDING), None)
    can_decide = bool(pending) and approvals.can_decide(request=pending, actor=request.user)
    context = {
        "section": "stock",
        "adjustment": adjustment,
        "approval_requests": requests,
        "pending_request": pending,
        "can_decide": can_decide,
        "decision": decision or NoteForm(),
        "history": record_history(adjustment, request.GET.get("page")),
        "screen": {"noun": "Adjustment"},
    }
    return render_page_or_fragment(
        request,
        page="inventory/adjustment_detail.html",
        fragment=fragment,
        context=context,
    )


def _adjustment_or_404(pk: int) -> InventoryAdjustment:
    return get_object_or_404(
        InventoryAdjustment.objects.select_related(
            "sku", "location", "lot", "requested_by", "count_line__count"
        ),
        pk=pk,
    )


@require_GET
@backoffice_view
def adjustment_detail(request, pk: int):
    forbid_unless_permitted(request.user, VIEW_ADJUSTMENTS)
    return _render_detail(request, _adjustment_or_404(pk))


@require_POST
@backoffice_view
def adjustment_decide(request, pk: int):
    """Approve (posts the stock change) or reject (a note says why) a waiting adjustment."""
    forbid_unless_permitted(request.user, VIEW_ADJUSTMENTS)
    adjustment = _adjustment_or_404(pk)
    decision = NoteForm(request.POST)
    if not decision.is_valid():
        return _render_detail(
            request, adjustment, decision, fragment="inventory/partials/adjustment_decision.html"
        )
    approve = request.POST.get("decision") == "approve"
    try:
        decide_adjustment(
            adjustment=adjustment,
            actor=request.user,
            approve=approve,
            note=decision.cleaned_data.get("note", "").strip(),
        )
    except NotFound as error:
        raise Http404(error.message) from error
    except DomainError as error:
        add_domain_errors(decision, error)
        return _render_detail(
            request,
            _adjustment_or_404(pk),
            decision,
            fragment="inventory/partials/adjustment_decision.html",
        )
    verdict = "approved and posted" if approve else "rejected"
    return after_write(
        request,
        reverse("inventoryadjustment-detail", args=[pk]),
        f"ADJ-{pk} {verdict}.",
    )
