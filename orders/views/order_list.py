"""Every order, searchable as you type and filtered by channel, state, hold and date."""

from django.core.paginator import Paginator
from django.utils import timezone
from django.views.decorators.http import require_GET

from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.rendering import render_page_or_fragment
from orders.forms import OrderFilterForm

PAGE_SIZE = 50


@require_GET
@backoffice_view
def order_list(request):
    forbid_unless_permitted(request.user, "orders.view_order")
    filters = OrderFilterForm(request.GET)
    context = {
        "section": "orders",
        "filters": filters,
        "page": Paginator(filters.results(), PAGE_SIZE).get_page(request.GET.get("page")),
        "now": timezone.now(),
    }
    return render_page_or_fragment(
        request,
        page="orders/order_list.html",
        fragment="orders/partials/order_results.html",
        context=context,
    )
