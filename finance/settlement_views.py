"""Settlements in the back office: upload (a Celery task imports, the page polls its
progress), the list, one settlement with its orders and lines, and the accept/dispute
actions of the settlement variances (on the settlement and in the exception queue)."""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from erp.errors import DomainError, NotFound
from erp.exports import export_format
from erp.list_export import Column, export_rows
from erp.models import Channel
from erp.queues import get_queue
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import raise_if_not_permitted
from erp.views.rendering import render_page_or_fragment, wants_fragment
from finance import settlement_selectors as selectors
from finance.documents import postings_url
from finance.models import (
    ImportState,
    MatchStatus,
    Settlement,
    SettlementImport,
    SettlementState,
)
from finance.services import settlements as services
from finance.services.settlement_formats import SOURCE_FOR_CHANNEL_KIND

PAGE_SIZE = 50
LINES_PAGE_SIZE = 200
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
QUEUE_KEY = "settlement-variances"
QUEUES_CHANGED = "queuesChanged"
EXPORT_COLUMNS = [
    Column("Channel", "channel__code"),
    Column("Settlement", "external_id"),
    Column("Source", "source", choices=Settlement._meta.get_field("source").choices),
    Column("Period start", "period_start"),
    Column("Period end", "period_end"),
    Column("Deposit date", "deposit_date"),
    Column("Currency", "currency"),
    Column("Total", "total_amount"),
    Column("Sales", "sales_amount"),
    Column("Fees", "fees_amount"),
    Column("Refunds", "refunds_amount"),
    Column("Other", "other_amount"),
    Column("Lines", "line_count"),
    Column("Orders", "order_count"),
    Column("Matched orders", "matched_orders"),
    Column("State", "state", choices=SettlementState.choices),
    Column("File", "file_name"),
    Column("Imported by", "imported_by__username"),
    Column("Imported at", "imported_at"),
]


class UploadForm(forms.Form):
    channel = forms.ModelChoiceField(
        queryset=Channel.objects.filter(kind__in=list(SOURCE_FOR_CHANNEL_KIND)).order_by("code"),
        empty_label="Channel…",
    )
    file = forms.FileField(help_text="Amazon flat file V2 (.tsv/.txt), Shopify or eBay JSON.")


class SettlementFilterForm(forms.Form):
    channel = forms.ModelChoiceField(
        queryset=Channel.objects.filter(kind__in=list(SOURCE_FOR_CHANNEL_KIND)).order_by("code"),
        required=False,
        empty_label="All channels",
    )
    state = forms.ChoiceField(choices=[("", "Any state"), *SettlementState.choices], required=False)

    def results(self, rows):
        if not self.is_valid():
            return rows
        if self.cleaned_data.get("channel"):
            rows = rows.filter(channel=self.cleaned_data["channel"])
        if self.cleaned_data.get("state"):
            rows = rows.filter(state=self.cleaned_data["state"])
        return rows


@require_GET
@backoffice_view
def settlement_list(request):
    forbid_unless_permitted(request.user, "finance.view_settlement")
    filters = SettlementFilterForm(request.GET)
    rows = filters.results(selectors.settlement_list()).order_by("-imported_at", "-pk")
    if fmt := export_format(request):
        return export_rows("settlements", rows, EXPORT_COLUMNS, fmt)
    context = {
        "section": "settlements",
        "filters": filters,
        "upload": UploadForm(),
        "imports": selectors.recent_imports(request.user),
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        "queue": get_queue(QUEUE_KEY),
    }
    return render_page_or_fragment(
        request,
        page="finance/settlements/list.html",
        fragment="finance/settlements/partials/results.html",
        context=context,
    )


@require_POST
@backoffice_view
def upload(request):
    forbid_unless_permitted(request.user, "finance.upload_settlement")
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload_file = form.cleaned_data["file"]
        if upload_file.size > MAX_UPLOAD_BYTES:
            form.add_error("file", "The file is larger than 200 MB.")
        else:
            try:
                job = services.start_import(
                    channel=form.cleaned_data["channel"],
                    data=upload_file.read(),
                    file_name=upload_file.name,
                    actor=request.user,
                )
            except DomainError as error:
                raise_if_not_permitted(error)
                form.add_error(None, error.message)
            else:
                return redirect("settlements:import", job.pk)
    rows = selectors.settlement_list().order_by("-imported_at", "-pk")
    context = {
        "section": "settlements",
        "filters": SettlementFilterForm(),
        "upload": form,
        "imports": selectors.recent_imports(request.user),
        "page": Paginator(rows, PAGE_SIZE).get_page(1),
        "queue": get_queue(QUEUE_KEY),
    }
    return render(request, "finance/settlements/list.html", context, status=400)


def _job(request, import_id: int) -> SettlementImport:
    job = get_object_or_404(
        SettlementImport.objects.select_related("channel", "settlement").defer("content"),
        pk=import_id,
    )
    if job.created_by_id != request.user.pk and not request.user.has_perm(
        "finance.view_settlementimport"
    ):
        raise Http404("No such import.")
    return job


@require_GET
@backoffice_view
def import_progress(request, import_id: int):
    forbid_unless_permitted(request.user, "finance.view_settlement")
    job = _job(request, import_id)
    if wants_fragment(request):
        if job.state == ImportState.DONE and job.settlement_id:
            return HttpResponseClientRedirect(
                reverse("settlements:detail", args=[job.settlement_id])
            )
        return render(request, "finance/settlements/partials/progress.html", {"job": job})
    return render(
        request, "finance/settlements/import.html", {"section": "settlements", "job": job}
    )


@require_GET
@backoffice_view
def settlement_detail(request, settlement_id: int):
    forbid_unless_permitted(request.user, "finance.view_settlement")
    settlement = get_object_or_404(
        Settlement.objects.select_related("channel", "imported_by", "journal_entry"),
        pk=settlement_id,
    )
    status = request.GET.get("status", "")
    lines = selectors.settlement_lines(settlement.pk)
    if status in MatchStatus.values:
        lines = lines.filter(status=status)
    context = {
        "section": "settlements",
        "settlement": settlement,
        "variances": selectors.variances().filter(settlement=settlement).order_by("pk"),
        "orders": Paginator(
            selectors.settlement_orders(settlement.pk).order_by("matched", "pk"), PAGE_SIZE
        ).get_page(request.GET.get("orders_page")),
        "lines": Paginator(lines, LINES_PAGE_SIZE).get_page(request.GET.get("page")),
        "status": status,
        "statuses": MatchStatus.choices,
        "queue": get_queue(QUEUE_KEY),
        "postings_url": _postings_url(settlement),
    }
    return render_page_or_fragment(
        request,
        page="finance/settlements/detail.html",
        fragment="finance/settlements/partials/lines.html",
        context=context,
    )


def _back(request) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("exception-queue", args=[QUEUE_KEY])


def _row_place(request) -> dict:
    """A row answered on the settlement page has no owner cells (they belong to the
    queue page, which the row also serves)."""
    queue_url = reverse("exception-queue", args=[QUEUE_KEY])
    return {"claims_hidden": not _back(request).startswith(queue_url)}


def _postings_url(settlement) -> str:
    """The journal's page of this settlement's postings, where the ledger screens exist."""
    try:
        return postings_url("settlement", settlement.pk)
    except NoReverseMatch:
        return ""


def _decide(request, variance_id: int, service, done: str):
    forbid_unless_permitted(request.user, "finance.decide_settlementvariance")
    queue = get_queue(QUEUE_KEY)
    note = request.POST.get("note", "")
    try:
        variance = service(variance_id=variance_id, actor=request.user, note=note)
    except NotFound as error:
        raise Http404(error.message) from error
    except DomainError as error:
        raise_if_not_permitted(error)
        if not wants_fragment(request):
            messages.error(request, error.message)
            return redirect(_back(request))
        row = selectors.variances().filter(pk=variance_id).first()
        if row is None:
            raise Http404("No such variance.") from error
        context = {"queue": queue, "row": row, "action_error": error.message}
        return render(request, queue.row_template, {**context, **_row_place(request)})
    if not wants_fragment(request):
        messages.success(request, f"Variance #{variance.pk} {done}.")
        return redirect(_back(request))
    row = selectors.variances().get(pk=variance.pk)
    context = {"queue": queue, "row": row, "action_done": done, **_row_place(request)}
    response = render(request, queue.row_template, context)
    return trigger_client_event(response, QUEUES_CHANGED)


@require_POST
@backoffice_view
def accept_variance(request, variance_id: int):
    return _decide(request, variance_id, services.accept_variance, "accepted")


@require_POST
@backoffice_view
def dispute_variance(request, variance_id: int):
    return _decide(request, variance_id, services.dispute_variance, "marked for dispute")
