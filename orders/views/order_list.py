"""Every order, searchable as you type and filtered by channel, state, hold and date."""

from django.core.paginator import Paginator
from django.utils import timezone
from django.views.decorators.http import require_GET

from erp.exports import export_format
from erp.list_export import Column, export_rows
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.rendering import render_page_or_fragment
from orders.forms import OrderFilterForm
from orders.models import OrderState

PAGE_SIZE = 50
EXPORT_COLUMNS = [
    Column("Order number", "order_number"),
    Column("External id", "external_id"),
    Column("Channel", "channel__code"),
    Column("State", "state", choices=OrderState.choices),
    Column("Placed at", "placed_at"),
    Column("Ship by", "ship_by"),
    Column("Customer", "ship_name"),
    Column("City", "ship_city"),
    Column("Country", "ship_country"),
    Column("Units", "units"),
    Column("Total", "total"),
    Column("Currency", "currency"),
    Column("Payment", "payment_status"),
    Column("Received at", "received_at"),
]


@require_GET
@backoffice_view
def order_list(request):
    forbid_unless_permitted(request.user, "orders.view_order")
    filters = OrderFilterForm(request.GET)
    if fmt := export_format(request):
        return export_rows("orders", filters.results(), EXPORT_COLUMNS, fmt)
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
