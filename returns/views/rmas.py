"""Every RMA, searchable as you type and filtered by state, channel and lateness."""

from django.core.paginator import Paginator
from django.utils import timezone
from django.views.decorators.http import require_GET

from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.rendering import render_page_or_fragment
from returns import selectors
from returns.forms import RmaFilterForm

PAGE_SIZE = 50


@require_GET
@backoffice_view
def rma_list(request):
    forbid_unless_permitted(request.user, "returns.view_rma")
    filters = RmaFilterForm(request.GET)
    rows = filters.results(selectors.rma_list()).order_by("-pk")
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
