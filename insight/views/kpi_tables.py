"""One KPI as a table — by day, week, channel, node or family — and its CSV export (the
filters on screen apply)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.views.decorators.http import require_GET

from erp.exports import export_format, export_response
from erp.views.access import backoffice_view
from erp.views.rendering import render_page_or_fragment
from insight.forms import KpiFilterForm
from insight.kpis import get_kpi
from insight.kpis.stock import AGE_BUCKETS, AGING_KPIS, age_buckets
from insight.kpis.wiring import may_read
from insight.views.figures import kpi_panel, query_string

BY_LABELS = {
    "day": "Day",
    "week": "Week of",
    "channel": "Channel",
    "node": "Node",
    "family": "SKU family",
    "supplier": "Supplier",
}


def _kpi_or_404(request, key):
    kpi = get_kpi(key)
    if kpi is None:
        raise Http404("No such KPI.")
    if not may_read(request.user, kpi):
        raise PermissionDenied(f"Your role has no dashboard showing {kpi.name}.")
    return kpi


def _age_table(kpi, filters) -> dict | None:
    """The aging figures' table: units on hand per node and age bucket."""
    if kpi.key not in AGING_KPIS:
        return None
    labels = [f"{low}–{high} days" if high else f"over {low - 1} days" for low, high in AGE_BUCKETS]
    return {"labels": labels, "rows": age_buckets(filters)}


def _by(request, kpi) -> str:
    by = request.GET.get("by", "")
    if by in kpi.breakdowns:
        return by
    return "channel" if "channel" in kpi.breakdowns else kpi.bars_by


@require_GET
@backoffice_view
def kpi_page(request, key):
    kpi = _kpi_or_404(request, key)
    form = KpiFilterForm(request.GET)
    filters, bucket = form.filters(timezone.localdate()), form.chosen_bucket()
    by = _by(request, kpi)
    context = {
        "section": "insight",
        "kpi": kpi,
        "form": form,
        "by": by,
        "by_label": BY_LABELS[by],
        "breakdowns": [(name, BY_LABELS[name]) for name in kpi.breakdowns],
        "rows": kpi.rows(filters, by),
        "panel": kpi_panel(kpi, filters, bucket),
        "query": query_string(filters, bucket),
        "csv_query": query_string(filters, bucket, by=by),
        "age_table": _age_table(kpi, filters),
    }
    return render_page_or_fragment(
        request,
        page="insight/kpi.html",
        fragment="insight/partials/kpi_table.html",
        context=context,
    )


@require_GET
@backoffice_view
def kpi_csv(request, key):
    kpi = _kpi_or_404(request, key)
    filters = KpiFilterForm(request.GET).filters(timezone.localdate())
    by = _by(request, kpi)
    rows = kpi.rows(filters, by)
    header = [BY_LABELS[by], "numerator", "denominator", f"{kpi.name} ({kpi.unit})"]
    return export_response(
        export_format(request, default="csv"),
        f"{kpi.key}-by-{by}-{filters.date_from}-{filters.date_to}",
        header,
        ([row["key"], row["numerator"], row["denominator"], row["value"]] for row in rows),
    )
