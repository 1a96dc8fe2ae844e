"""Suppliers: list, detail (price list, contacts, open POs), create/edit, price-list import."""

from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from erp.errors import DomainError
from erp.exports import export_format
from erp.list_export import Column, export_rows
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import add_domain_errors
from erp.views.rendering import render_page_or_fragment
from inventory.forms import SearchForm
from inventory.views.outcomes import PAGE_SIZE, after_write
from purchasing import selectors
from purchasing.forms import PriceListForm, SupplierForm, SupplierItemForm
from purchasing.models import ReturnToVendor, Supplier, SupplierDefect
from purchasing.services import performance
from purchasing.services import rtv as rtv_services
from purchasing.services import suppliers as services

VIEW_SUPPLIERS = "purchasing.view_supplier"
EXPORT_COLUMNS = [
    Column("Code", "code"),
    Column("Name", "name"),
    Column("Currency", "currency"),
    Column(
        "Payment terms", "payment_terms", choices=Supplier._meta.get_field("payment_terms").choices
    ),
    Column("Order e-mail", "order_email"),
    Column("Order endpoint", "order_endpoint__code"),
    Column("Drop-ships from", "dropship_location__code"),
    Column("QA hold", "qa_hold"),
    Column("Over-receipt tolerance %", "over_receipt_tolerance_percent"),
    Column("Items", "item_count"),
    Column("Open orders", "open_orders"),
    Column("Active", "active"),
]


@require_GET
@backoffice_view
def supplier_list(request):
    forbid_unless_permitted(request.user, VIEW_SUPPLIERS)
    filters = SearchForm(request.GET)
    rows = selectors.suppliers()
    if filters.search():
        term = filters.search()
        rows = rows.filter(Q(code__icontains=term) | Q(name__icontains=term))
    if fmt := export_format(request):
        return export_rows("suppliers", rows.order_by("code"), EXPORT_COLUMNS, fmt)
    context = {
        "section": "purchasing",
        "filters": filters,
        "page": Paginator(rows.order_by("code"), PAGE_SIZE).get_page(request.GET.get("page")),
        "can_create": request.user.has_perm("purchasing.add_supplier"),
    }
    return render_page_or_fragment(
        request,
        page="purchasing/supplier_list.html",
        fragment="purchasing/partials/supplier_results.html",
        context=context,
    )


def _detail_context(request, supplier, *, item_form=None, price_form=None, report=None):
    return {
        "section": "purchasing",
        "supplier": supplier,
        "items": list(selectors.supplier_items().filter(supplier=supplier).order_by("sku__code")),
        "contacts": list(supplier.contacts.all()),
        "orders": list(selectors.purchase_orders().filter(supplier=supplier).order_by("-id")[:20]),
        "can_edit": request.user.has_perm("purchasing.change_supplieritem"),
        "item_form": item_form or SupplierItemForm(),
        "price_form": price_form or PriceListForm(),
        "report": report,
    }


@require_GET
@backoffice_view
def supplier_detail(request, pk: int):
    forbid_unless_permitted(request.user, VIEW_SUPPLIERS)
    supplier = get_object_or_404(selectors.suppliers(), pk=pk)
    context = _detail_context(request, supplier)
    context["performance"] = performance.for_supplier(supplier)
    context["defects"] = list(
        SupplierDefect.objects.filter(supplier=supplier).select_related("sku")[:10]
    )
    context["awaiting_rtv"] = list(rtv_services.awaiting_rtv(supplier))
    context["rtvs"] = list(
        ReturnToVendor.objects.filter(supplier=supplier).prefetch_related("lines__sku")[:20]
    )
    return render(request, "purchasing/supplier_detail.html", context)


def _supplier_values(form) -> dict:
    return dict(form.cleaned_data)


@require_http_methods(["GET", "POST"])
@backoffice_view
def supplier_edit(request, pk: int | None = None):
    supplier = get_object_or_404(Supplier, pk=pk) if pk else None
    forbid_unless_permitted(
        request.user, "purchasing.change_supplier" if supplier else "purchasing.add_supplier"
    )
    if request.method == "POST":
        form = SupplierForm(request.POST)
        if form.is_valid():
            try:
                saved = services.save_supplier(
                    actor=request.user, supplier=supplier, **_supplier_values(form)
                )
            except DomainError as error:
                add_domain_errors(form, error)
            else:
                return after_write(
                    request,
                    reverse("purchasing:supplier-detail", args=[saved.pk]),
                    f"{saved.code} saved.",
                )
    else:
        initial = {}
        if supplier:
            initial = {name: getattr(supplier, name) for name in SupplierForm.base_fields}
            initial["order_endpoint"] = (
                supplier.order_endpoint.code if supplier.order_endpoint else None
            )
            initial["dropship_location"] = (
                supplier.dropship_location.code if supplier.dropship_location else None
            )
        form = SupplierForm(initial=initial)
    return render_page_or_fragment(
        request,
        page="purchasing/supplier_form.html",
        fragment="purchasing/partials/supplier_form.html",
        context={"section": "purchasing", "form": form, "supplier": supplier},
    )


@require_POST
@backoffice_view
def supplier_item_save(request, pk: int):
    forbid_unless_permitted(request.user, "purchasing.change_supplieritem")
    supplier = get_object_or_404(selectors.suppliers(), pk=pk)
    form = SupplierItemForm(request.POST)
    if form.is_valid():
        values = dict(form.cleaned_data)
        sku = values.pop("sku")
        try:
            services.save_supplier_item(actor=request.user, supplier=supplier, sku=sku, **values)
        except DomainError as error:
            add_domain_errors(form, error)
        else:
            return after_write(
                request,
                reverse("purchasing:supplier-detail", args=[supplier.pk]),
                f"{supplier.code}: price for {sku.code} saved.",
            )
    return render(
        request,
        "purchasing/supplier_detail.html",
        _detail_context(request, supplier, item_form=form),
        status=400,
    )


@require_POST
@backoffice_view
def price_list_import(request, pk: int):
    forbid_unless_permitted(request.user, "purchasing.add_supplieritem")
    supplier = get_object_or_404(selectors.suppliers(), pk=pk)
    form = PriceListForm(request.POST, request.FILES)
    report = None
    if form.is_valid():
        try:
            content = form.cleaned_data["file"].read().decode("utf-8-sig")
            result = services.import_price_list(
                supplier=supplier, content=content, actor=request.user
            )
        except UnicodeDecodeError:
            form.add_error("file", "The file is not UTF-8 text.")
        except services.PriceListRefused as refused:
            report = refused.report
            form.add_error("file", refused.message)
        except DomainError as error:
            add_domain_errors(form, error)
        else:
            return after_write(
                request,
                reverse("purchasing:supplier-detail", args=[supplier.pk]),
                f"Price list imported: {result.created} new, {result.updated} updated.",
            )
    return render(
        request,
        "purchasing/supplier_detail.html",
        _detail_context(request, supplier, price_form=form, report=report),
        status=400,
    )
