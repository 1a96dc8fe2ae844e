"""Every RMA, searchable as you type and filtered by state, channel and lateness."""

from django.core.paginator import Paginator
from django.utils import timezone
from django.views.decorators.http import require_GET

from erp.exports import export_format
from erp.list_export import Column, export_rows
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.rendering import render_page_or_fragment
from returns import selectors
from returns.forms import RmaFilterForm
from returns.models import Rma, RmaState

PAGE_SIZE = 50
EXPORT_COLUMNS = [
    Column("RMA", "number"),
    Column("Channel", "channel__code"),
    Column("Order", "order__external_id"),
    Column("State", "state", choices=RmaState.choices),
    Column("Source", "source", choices=Rma.Source.choices),
    Column("Units", "units"),
    Column("Units received", "units_received"),
    Column("Expected by", "expected_by"),
    Column("Return label", "return_label_reference"),
    Column("Authorized at", "authorized_at"),
    Column("Received at", "received_at"),
    Column("Closed at", "closed_at"),
]


@require_GET
@backoffice_view
def rma_list(request):
    forbid_unless_permitted(request.user, "returns.view_rma")
    filters = RmaFilterForm(request.GET)
    rows = filters.results(selectors.rma_list()).order_by("-pk")
    if fmt := export_format(request):
        return export_rows("rmas", rows, EXPORT_COLUMNS, fmt)
    context = {
        "section": "returns",
        "filters": filters,
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        "now": timezone.now(),
    }
    return render_page_or_fragment(
        request,
        page="returns/rma_list.html",
        fragment="returns/partials/rma_results.html",
        context=context,
    )
