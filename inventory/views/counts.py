"""Cycle counts: open one, count it at the shelf with a scanner, close it.

Counting is blind: the expected quantities never reach a counter's screen. Once a count
is closed, people who decide adjustments see each line's variance and the adjustment it
became.
"""

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from erp.errors import DomainError, NotFound
from erp.exports import export_format
from erp.list_export import Column, export_rows
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import add_domain_errors, raise_if_not_permitted
from erp.views.rendering import render_page_or_fragment, wants_fragment
from inventory.forms import CountFilterForm, CountForm, CountScanForm, sku_by_code_or_barcode
from inventory.models import CycleCount, CycleCountLine, InventoryAdjustment
from inventory.services import counts as count_services
from inventory.views.outcomes import PAGE_SIZE, after_write, signal_write

VIEW_COUNTS = "inventory.view_cyclecount"
ENTER_COUNTS = "inventory.change_cyclecount"
# Seeing variances is for those who decide the adjustments they become.
SEE_VARIANCES = "inventory.approve_inventoryadjustment"

COUNT_COLUMNS = [
    Column("Count", "pk", display=lambda pk: f"CNT-{pk}"),
    Column("Node", "location__code"),
    Column("Scope", "scope", choices=CycleCount.Scope.choices),
    Column("Product family", "product_family"),
    Column("Tolerance", "tolerance"),
    Column("Lines", "line_count"),
    Column("Lines counted", "counted_count"),
    Column("State", "state", choices=CycleCount.State.choices),
    Column("Opened by", "created_by__username"),
    Column("Opened at", "created_at"),
    Column("Closed at", "closed_at"),
]


@require_GET
@backoffice_view
def count_list(request):
    forbid_unless_permitted(request.user, VIEW_COUNTS)
    filters = CountFilterForm(request.GET)
    counts = CycleCount.objects.select_related("location", "created_by").annotate(
        line_count=Count("lines"),
        counted_count=Count("lines", filter=Q(lines__counted__isnull=False)),
    )
    if filters.state_value():
        counts = counts.filter(state=filters.state_value())
    if filters.search():
        term = filters.search()
        counts = counts.filter(
            Q(location__code__icontains=term) | Q(product_family__icontains=term)
        )
    if fmt := export_format(request):
        return export_rows("counts", counts.order_by("-id"), COUNT_COLUMNS, fmt)
    context = {
        "section": "counts",
        "filters": filters,
        "page": Paginator(counts.order_by("-id"), PAGE_SIZE).get_page(request.GET.get("page")),
        "can_create": request.user.has_perm("inventory.add_cyclecount"),
    }
    return render_page_or_fragment(
        request,
        page="inventory/count_list.html",
        fragment="inventory/partials/count_results.html",
        context=context,
    )


@require_http_methods(["GET", "POST"])
@backoffice_view
def count_create(request):
    forbid_unless_permitted(request.user, "inventory.add_cyclecount")
    if request.method == "POST":
        form = CountForm(request.POST)
    else:
        form = CountForm(initial=request.GET.dict())
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            count = count_services.create_count(
                location=data["location"],
                scope=data["scope"],
                actor=request.user,
                product_family=data["product_family"],
                tolerance=data["tolerance"],
            )
        except DomainError as error:
            add_domain_errors(form, error)
        else:
            return after_write(
                request,
                reverse("count-detail", args=[count.pk]),
                f"CNT-{count.pk} opened at {count.location.code}: scan each SKU and enter "
                "what is on the shelf.",
            )
    return render_page_or_fragment(
        request,
        page="inventory/count_form.html",
        fragment="inventory/partials/count_form.html",
        context={"section": "counts", "form": form},
    )


def _count_or_404(pk: int) -> CycleCount:
    return get_object_or_404(CycleCount.objects.select_related("location", "created_by"), pk=pk)


def _lines_context(request, count: CycleCount) -> dict:
    show_variances = count.state == CycleCount.State.CLOSED and request.user.has_perm(SEE_VARIANCES)
    lines = count.lines.select_related("sku", "counted_by").order_by("sku__code")
    if show_variances:
        lines = lines.select_related("adjustment")
    lines = list(lines)
    return {
        "count": count,
        "lines": lines,
        "counted": sum(line.counted is not None for line in lines),
        "show_variances": show_variances,
        "accurate": (
            sum(abs(line.variance) <= count.tolerance for line in lines if line.counted is not None)
            if show_variances
            else None
        ),
    }


def _can_enter(request, count: CycleCount) -> bool:
    return count.state == CycleCount.State.OPEN and request.user.has_perm(ENTER_COUNTS)


@require_GET
@backoffice_view
def count_detail(request, pk: int):
    forbid_unless_permitted(request.user, VIEW_COUNTS)
    count = _count_or_404(pk)
    context = {
        "section": "counts",
        "can_enter": _can_enter(request, count),
        "scan_form": CountScanForm(),
        **_lines_context(request, count),
    }
    return render_page_or_fragment(
        request,
        page="inventory/count_detail.html",
        fragment="inventory/partials/count_lines.html",
        context=context,
    )


@require_GET
@backoffice_view
def count_lookup(request, pk: int):
    """What a scan matched, shown while the counter types the quantity: the SKU's name,
    or an error the moment a scan is not on this count."""
    forbid_unless_permitted(request.user, ENTER_COUNTS)
    count = _count_or_404(pk)
    scanned = request.GET.get("code", "").strip()
    sku = sku_by_code_or_barcode(scanned)
    on_count = sku is not None and CycleCountLine.objects.filter(count=count, sku=sku).exists()
    context = {"scanned": scanned, "sku": sku if on_count else None}
    return render(request, "inventory/partials/count_scan_hint.html", context)


def _add_scan_errors(form: CountScanForm, error: DomainError) -> None:
    """The service names the scanned SKU `sku`; on this form it is the scan input."""
    raise_if_not_permitted(error)
    for field_error in error.errors:
        field = "code" if field_error.field == "sku" else field_error.field
        form.add_error(field if field in form.fields else None, field_error.message)


@require_POST
@backoffice_view
def count_record(request, pk: int):
    """One scan and its quantity; answers with a fresh scan form and the updated lines."""
    forbid_unless_permitted(request.user, ENTER_COUNTS)
    count = _count_or_404(pk)
    form = CountScanForm(request.POST)
    recorded = None
    if form.is_valid():
        try:
            recorded = count_services.record_count(
                count_id=count.pk,
                sku_code_or_barcode=form.cleaned_data["code"],
                counted=form.cleaned_data["counted"],
                actor=request.user,
            )
        except NotFound as error:
            raise Http404(error.message) from error
        except DomainError as error:
            _add_scan_errors(form, error)
    if not wants_fragment(request):
        if recorded is not None:
            return after_write(
                request,
                reverse("count-detail", args=[count.pk]),
                f"Counted {recorded.counted} × {recorded.sku.code}.",
            )
        return _render_detail_with(request, count, form)
    context = {
        "count": count,
        "can_enter": _can_enter(request, count),
        "scan_form": CountScanForm() if recorded else form,
        "recorded": recorded,
        **_lines_context(request, count),
    }
    response = render(request, "inventory/partials/count_scan_response.html", context)
    return signal_write(response) if recorded else response


def _render_detail_with(request, count: CycleCount, scan_form: CountScanForm, **extra):
    context = {
        "section": "counts",
        "can_enter": _can_enter(request, count),
        "scan_form": scan_form,
        **_lines_context(request, count),
        **extra,
    }
    return render(request, "inventory/count_detail.html", context)


@require_POST
@backoffice_view
def count_close(request, pk: int):
    """Close the count: every variance becomes an adjustment (large ones wait for approval)."""
    forbid_unless_permitted(request.user, ENTER_COUNTS)
    count = _count_or_404(pk)
    try:
        adjustments = count_services.close_count(count_id=count.pk, actor=request.user)
    except NotFound as error:
        raise Http404(error.message) from error
    except DomainError as error:
        raise_if_not_permitted(error)
        context = {"close_error": error.message}
        if wants_fragment(request):
            return render(
                request, "inventory/partials/count_close.html", {"count": count, **context}
            )
        return _render_detail_with(request, count, CountScanForm(), **context)
    waiting = sum(a.state == InventoryAdjustment.State.PENDING_APPROVAL for a in adjustments)
    summary = f"CNT-{count.pk} closed: {len(adjustments)} variance(s) became adjustments"
    summary += f", {waiting} waiting for approval." if waiting else "."
    return after_write(request, reverse("count-detail", args=[count.pk]), summary)
