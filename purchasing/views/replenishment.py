"""Replenishment: the planner's review queue (proposals grouped by supplier, each line
explained), run now, and the planning settings managers tune."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from erp.errors import DomainError
from erp.exports import export_format
from erp.list_export import Column, export_rows
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import add_domain_errors, raise_if_not_permitted
from inventory.views.outcomes import after_write
from purchasing.forms import ProposalLineForm, ReplenishmentSettingsForm
from purchasing.models import Proposal, ProposalLine, ReplenishmentRun, ReplenishmentSettings
from purchasing.services import replenishment

VIEW_PROPOSALS = "purchasing.view_proposal"
ACCEPT = "purchasing.accept_proposal"
PROPOSALS_PER_PAGE = 20
EXPORT_COLUMNS = [
    Column("Proposal", "proposal_id"),
    Column("Supplier", "proposal__supplier__code"),
    Column("Ship to", "proposal__destination__code"),
    Column("SKU", "sku__code"),
    Column("Supplier SKU", "supplier_item__supplier_sku"),
    Column("Velocity / day", "velocity"),
    Column("Lead time days", "lead_time_days"),
    Column("On hand", "on_hand"),
    Column("On order", "on_order"),
    Column("In transit", "in_transit"),
    Column("Safety stock", "safety_stock"),
    Column("Reorder point", "reorder_point"),
    Column("Order up to", "order_up_to"),
    Column("Suggested", "suggested_quantity"),
    Column("Quantity", "quantity"),
    Column("Reason", "reason"),
    Column("Proposed at", "proposal__created_at"),
]


def _supplier_matches(term: str, prefix: str = "") -> Q:
    """The queue's supplier search (code or name), for proposals or their lines."""
    return Q(**{f"{prefix}supplier__code__icontains": term}) | Q(
        **{f"{prefix}supplier__name__icontains": term}
    )


def _export(supplier: str, fmt: str):
    lines = ProposalLine.objects.filter(
        state=ProposalLine.State.OPEN, proposal__state=Proposal.State.OPEN
    ).order_by(
        "proposal__supplier__code", "proposal__destination__code", "proposal_id", "sku__code"
    )
    if supplier:
        lines = lines.filter(_supplier_matches(supplier, "proposal__"))
    return export_rows("replenishment-proposals", lines, EXPORT_COLUMNS, fmt)


def _queue(request, *, errors=None, status=200):
    rows = (
        Proposal.objects.filter(state=Proposal.State.OPEN)
        .select_related("supplier", "destination", "run")
        .annotate(open_lines=Count("lines", filter=Q(lines__state=ProposalLine.State.OPEN)))
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=ProposalLine.objects.filter(state=ProposalLine.State.OPEN)
                .select_related("sku", "supplier_item")
                .order_by("sku__code"),
                to_attr="open_line_list",
            )
        )
        .order_by("supplier__code", "destination__code", "id")
    )
    supplier = request.GET.get("supplier", "").strip()
    if supplier:
        rows = rows.filter(_supplier_matches(supplier))
    page = Paginator(rows, PROPOSALS_PER_PAGE).get_page(request.GET.get("page"))
    groups: list[dict] = []
    errors = errors or {}
    for proposal in page.object_list:
        proposal.value = sum((line.value for line in proposal.open_line_list), 0)
        proposal.error = errors.get(f"proposal-{proposal.pk}")
        for line in proposal.open_line_list:
            line.error = errors.get(f"line-{line.pk}")
        if groups and groups[-1]["supplier"].pk == proposal.supplier_id:
            groups[-1]["proposals"].append(proposal)
        else:
            groups.append({"supplier": proposal.supplier, "proposals": [proposal]})
    context = {
        "section": "replenishment",
        "page": page,
        "groups": groups,
        "supplier_query": supplier,
        "last_run": ReplenishmentRun.objects.select_related("started_by").first(),
        "settings": ReplenishmentSettings.current(),
        "can_plan": request.user.has_perm(ACCEPT),
        "can_run": request.user.has_perm("purchasing.run_replenishment"),
        "can_tune": request.user.has_perm("purchasing.change_replenishmentsettings"),
        "errors": errors,
    }
    return render(request, "purchasing/proposal_queue.html", context, status=status)


@require_GET
@backoffice_view
def proposal_queue(request):
    forbid_unless_permitted(request.user, VIEW_PROPOSALS)
    if fmt := export_format(request):
        return _export(request.GET.get("supplier", "").strip(), fmt)
    return _queue(request)


def _back(request) -> str:
    url = reverse("purchasing:proposal-queue")
    query = request.POST.get("back", "")
    return f"{url}?{query}" if query and "\n" not in query else url


def _refused(request, error: DomainError, key: str):
    raise_if_not_permitted(error)
    return _queue(request, errors={key: error.message}, status=400)


@require_POST
@backoffice_view
def run_now(request):
    forbid_unless_permitted(request.user, "purchasing.run_replenishment")
    try:
        run = replenishment.run_replenishment(actor=request.user)
    except DomainError as error:
        return _refused(request, error, "run")
    return after_write(
        request,
        reverse("purchasing:proposal-queue"),
        f"Replenishment ran over {run.pairs_evaluated} SKU × node rows: "
        f"{run.lines_proposed} lines proposed.",
    )


@require_POST
@backoffice_view
def line_quantity(request, pk: int):
    forbid_unless_permitted(request.user, ACCEPT)
    line = get_object_or_404(ProposalLine, pk=pk)
    form = ProposalLineForm(request.POST)
    if not form.is_valid():
        return _queue(request, errors={f"line-{pk}": form.errors["quantity"][0]}, status=400)
    try:
        line = replenishment.set_line_quantity(
            line=line, quantity=form.cleaned_data["quantity"], actor=request.user
        )
    except DomainError as error:
        return _refused(request, error, f"line-{pk}")
    messages.success(request, f"{line.sku.code}: {line.quantity} to order.")
    return redirect(_back(request))


@require_POST
@backoffice_view
def line_drop(request, pk: int):
    forbid_unless_permitted(request.user, ACCEPT)
    line = get_object_or_404(ProposalLine, pk=pk)
    try:
        line = replenishment.drop_line(line=line, actor=request.user)
    except DomainError as error:
        return _refused(request, error, f"line-{pk}")
    messages.success(request, f"{line.sku.code} dropped from proposal {line.proposal_id}.")
    return redirect(_back(request))


@require_POST
@backoffice_view
def proposal_accept(request, pk: int):
    forbid_unless_permitted(request.user, ACCEPT)
    proposal = get_object_or_404(Proposal, pk=pk)
    try:
        purchase_order = replenishment.accept_proposal(proposal=proposal, actor=request.user)
    except DomainError as error:
        return _refused(request, error, f"proposal-{pk}")
    messages.success(
        request,
        f"Proposal {pk} accepted: draft {purchase_order.number} to "
        f"{purchase_order.supplier.name}. Review and submit it.",
    )
    return redirect(_back(request))


@require_POST
@backoffice_view
def proposal_drop(request, pk: int):
    forbid_unless_permitted(request.user, ACCEPT)
    proposal = get_object_or_404(Proposal, pk=pk)
    try:
        replenishment.drop_proposal(proposal=proposal, actor=request.user)
    except DomainError as error:
        return _refused(request, error, f"proposal-{pk}")
    messages.success(request, f"Proposal {pk} dropped.")
    return redirect(_back(request))


@require_http_methods(["GET", "POST"])
@backoffice_view
def settings_edit(request):
    forbid_unless_permitted(request.user, "purchasing.view_replenishmentsettings")
    current = ReplenishmentSettings.current()
    can_tune = request.user.has_perm("purchasing.change_replenishmentsettings")
    form = ReplenishmentSettingsForm(
        request.POST if request.method == "POST" else None,
        initial={
            name: getattr(current, name)
            for name in ("window_days", "service_level_z", "review_period_days", "recent_weight")
        },
    )
    if request.method == "POST":
        forbid_unless_permitted(request.user, "purchasing.change_replenishmentsettings")
        if form.is_valid():
            try:
                replenishment.update_settings(actor=request.user, **form.cleaned_data)
            except DomainError as error:
                add_domain_errors(form, error)
            else:
                return after_write(
                    request,
                    reverse("purchasing:proposal-queue"),
                    "Replenishment settings saved: the next run uses them.",
                )
    history = list(current.history.select_related("history_user").order_by("-history_date")[:10])
    return render(
        request,
        "purchasing/replenishment_settings.html",
        {"section": "replenishment", "form": form, "can_tune": can_tune, "history": history},
        status=400 if form.is_bound and form.errors else 200,
    )
