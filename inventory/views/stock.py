"""Stock pages: search by SKU, one SKU across nodes and channels, one node's stock."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from erp.exports import export_format
from erp.list_export import Column, export_rows
from erp.models import Location, Sku
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.rendering import render_page_or_fragment, wants_fragment
from inventory import selectors
from inventory.forms import StockFilterForm
from inventory.views.outcomes import PAGE_SIZE

VIEW_STOCK = "inventory.view_stockbalance"
LEDGER_ROWS = 50
NODE_COLUMNS = (
    "sellable",
    "reserved",
    "safety",
    "available",
    "inspection",
    "quarantine",
    "damaged",
    "in_transit",
    "held",
)


STOCK_COLUMNS = [
    Column("SKU", "code"),
    Column("Name", "name"),
    Column("Barcode", "barcode"),
    Column("Sellable", "sellable"),
    Column("Reserved", "reserved"),
    Column("Free", "free"),
    Column("Held", "held"),
    Column("In transit", "in_transit"),
    Column("Nodes", "nodes"),
]
NODE_STOCK_COLUMNS = [
    Column("SKU", "code"),
    Column("Name", "name"),
    Column("Sellable", "sellable"),
    Column("Reserved", "reserved"),
    Column("Safety stock", "safety"),
    Column("Available", "available"),
    Column("Inspection", "inspection"),
    Column("Quarantine", "quarantine"),
    Column("Damaged", "damaged"),
    Column("In transit", "in_transit"),
]


def _movement_permissions(user) -> dict:
    return {
        "can_move": user.has_perm("inventory.add_stockledgerentry"),
        "can_adjust": user.has_perm("inventory.add_inventoryadjustment"),
    }


@require_GET
@backoffice_view
def stock_search(request):
    """Find a SKU by code, name or barcode (a scanner works too) and see its stock."""
    forbid_unless_permitted(request.user, VIEW_STOCK)
    search = StockFilterForm(request.GET)
    rows = selectors.stock_overview(search=search.search(), **search.chosen())
    if fmt := export_format(request):
        return export_rows("stock", rows, STOCK_COLUMNS, fmt)
    context = {
        "section": "stock",
        "search": search,
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        **_movement_permissions(request.user),
    }
    if not wants_fragment(request):
        context["nodes"] = selectors.node_overview()
    return render_page_or_fragment(
        request,
        page="inventory/stock_search.html",
        fragment="inventory/partials/stock_results.html",
        context=context,
    )


@require_GET
@backoffice_view
def sku_stock(request, code: str):
    """One SKU: balances per node and status, lots, channel availability, recent ledger."""
    forbid_unless_permitted(request.user, VIEW_STOCK)
    sku = get_object_or_404(Sku, code=code)
    nodes = selectors.sku_stock_by_node(sku=sku)
    can_see_ledger = request.user.has_perm("inventory.view_stockledgerentry")
    context = {
        "section": "stock",
        "sku": sku,
        "nodes": nodes,
        "totals": {name: sum(getattr(node, name) for node in nodes) for name in NODE_COLUMNS},
        "lots": selectors.lot_balances(sku=sku) if sku.lot_tracked else None,
        "channels": selectors.sku_availability_by_channel(sku=sku),
        "ledger": (
            selectors.ledger_entries().filter(sku=sku).order_by("-id")[:LEDGER_ROWS]
            if can_see_ledger
            else None
        ),
        "ledger_rows": LEDGER_ROWS,
        **_movement_permissions(request.user),
    }
    return render(request, "inventory/sku_stock.html", context)


@require_GET
@backoffice_view
def node_stock(request, code: str):
    """Every SKU held at one node, per status, with the node's inventory accuracy."""
    forbid_unless_permitted(request.user, VIEW_STOCK)
    location = get_object_or_404(Location, code=code)
    search = StockFilterForm(request.GET)
    rows = selectors.stock_at_node(location=location, search=search.search(), **search.chosen())
    if fmt := export_format(request):
        return export_rows(f"stock-{location.code}", rows, NODE_STOCK_COLUMNS, fmt)
    context = {
        "section": "stock",
        "location": location,
        "search": search,
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        **_movement_permissions(request.user),
    }
    if not wants_fragment(request):
        context["accuracy"] = selectors.inventory_accuracy(location=location)
    return render_page_or_fragment(
        request,
        page="inventory/node_stock.html",
        fragment="inventory/partials/node_stock_results.html",
        context=context,
    )
