"""The dock's receiving screen, keyboard-first for a scanner that types and presses Enter.

Scan a PO number (or a SKU to find the POs waiting for it), then scan each SKU: the
quantity field takes focus (lot, expiry and serials appear when the SKU tracks them),
Enter books the receipt and the scan field takes focus again.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_http_methods, require_POST

from erp.errors import Conflict, DomainError, NotFound
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import raise_if_not_permitted
from erp.views.rendering import render_page_or_fragment
from inventory.views.outcomes import signal_write
from purchasing import selectors
from purchasing.forms import ReceiveLineForm, ScanForm
from purchasing.models import PurchaseOrder, PurchaseOrderLine
from purchasing.services import receiving, timeline

RECEIVE = "purchasing.receive_purchaseorder"


def _panel(
    request,
    *,
    purchase_order=None,
    line=None,
    line_form=None,
    candidates=None,
    error=None,
    over_receipt=None,
    status=200,
):
    context = {
        "section": "purchasing",
        "po": purchase_order,
        "lines": list(
            purchase_order.lines.select_related("sku", "supplier_item").order_by("line_number")
        )
        if purchase_order
        else [],
        "line": line,
        "line_form": line_form,
        "candidates": candidates or [],
        "error": error,
        "over_receipt": over_receipt,
        "scan_form": ScanForm(),
        "receivable": list(
            selectors.receivable_purchase_orders().order_by("expected_date", "pk")[:15]
        )
        if purchase_order is None
        else [],
    }
    return render_page_or_fragment(
        request,
        page="purchasing/receive.html",
        fragment="purchasing/partials/receive_panel.html",
        context=context,
        status=status,
    )


def _line_form(line: PurchaseOrderLine, code: str) -> ReceiveLineForm:
    return ReceiveLineForm(initial={"line": line.pk, "scanned_code": code, "quantity": 1})


@require_http_methods(["GET"])
@backoffice_view
def receive_screen(request):
    """`?po=` opens a PO; `?code=` is what was scanned (a PO number or a SKU)."""
    forbid_unless_permitted(request.user, RECEIVE)
    code = request.GET.get("code", "").strip()[:128]
    purchase_order = None
    if request.GET.get("po", "").isdigit():
        purchase_order = (
            PurchaseOrder.objects.filter(pk=int(request.GET["po"]))
            .select_related("supplier")
            .first()
        )
    if not code:
        return _panel(request, purchase_order=purchase_order)
    scanned_po = selectors.find_purchase_order_by_scan(code)
    if scanned_po is not None:
        if scanned_po.state not in timeline.RECEIVABLE:
            return _panel(
                request,
                purchase_order=purchase_order,
                error=f"{scanned_po.number} is {scanned_po.get_state_display().lower()}: nothing to receive.",
                status=409,
            )
        return _panel(request, purchase_order=scanned_po)
    if purchase_order is None:
        candidates = list(selectors.receivable_orders_for_sku_scan(code)[:10])
        if not candidates:
            return _panel(request, error=f"{code}: no open PO waits for this.", status=404)
        if len(candidates) == 1:
            purchase_order = candidates[0]
        else:
            return _panel(
                request, candidates=candidates, error=f"{code} is on several POs: choose one."
            )
    lines = selectors.open_lines_for_scan(purchase_order, code)
    if not lines:
        return _panel(
            request,
            purchase_order=purchase_order,
            error=f"{code} is not on {purchase_order.number}.",
            status=404,
        )
    line = next((line for line in lines if line.open_quantity > 0), lines[0])
    return _panel(
        request, purchase_order=purchase_order, line=line, line_form=_line_form(line, code)
    )


@require_POST
@backoffice_view
def receive_line(request, pk: int):
    """Book one scanned line through the receiving service."""
    forbid_unless_permitted(request.user, RECEIVE)
    purchase_order = get_object_or_404(PurchaseOrder.objects.select_related("supplier"), pk=pk)
    form = ReceiveLineForm(request.POST)
    line = None
    if form.is_valid():
        line = (
            purchase_order.lines.select_related("sku").filter(pk=form.cleaned_data["line"]).first()
        )
    if line is None:
        return _panel(
            request, purchase_order=purchase_order, error="Scan the SKU again.", status=400
        )
    data = form.cleaned_data
    try:
        receipt = receiving.receive_goods(
            purchase_order=purchase_order,
            actor=request.user,
            lines=[
                receiving.ScannedLine(
                    line_id=line.pk,
                    quantity=data["quantity"],
                    lot_code=data["lot_code"],
                    expires_on=data["expires_on"],
                    serials=form.serial_list(),
                    status="inspection" if data["to_inspection"] else None,
                    scanned_code=data["scanned_code"],
                )
            ],
        )
    except NotFound as error:
        raise Http404(error.message) from error
    except DomainError as error:
        raise_if_not_permitted(error)
        quantity = data["quantity"]
        for problem in error.errors:
            name = (problem.field or "").rsplit(".", 1)[-1]
            form.add_error(name if name in form.fields else None, problem.message)
        over = isinstance(error, Conflict) and error.errors[0].code == "over_receipt_needs_approval"
        return _panel(
            request,
            purchase_order=purchase_order,
            line=line,
            line_form=form,
            error=error.message,
            over_receipt={"quantity": quantity - receiving.room(purchase_order, line)}
            if over
            else None,
            status=409 if isinstance(error, Conflict) else 400,
        )
    purchase_order.refresh_from_db()
    receipt_line = receipt.lines.get()
    messages.success(
        request,
        f"{receipt.number}: {receipt_line.quantity} × {line.sku.code} into {receipt_line.status}.",
    )
    return signal_write(_panel(request, purchase_order=purchase_order))


@require_POST
@backoffice_view
def request_over_receipt(request, pk: int, line_id: int):
    forbid_unless_permitted(request.user, RECEIVE)
    purchase_order = get_object_or_404(PurchaseOrder.objects.select_related("supplier"), pk=pk)
    line = get_object_or_404(PurchaseOrderLine, pk=line_id, purchase_order=purchase_order)
    try:
        quantity = int(request.POST.get("quantity", ""))
    except ValueError:
        quantity = 0
    try:
        over = receiving.request_over_receipt(
            line=line,
            quantity=quantity,
            actor=request.user,
            note=request.POST.get("note", "")[:255],
        )
    except DomainError as error:
        raise_if_not_permitted(error)
        return _panel(request, purchase_order=purchase_order, error=error.message, status=400)
    messages.success(
        request, f"Over-receipt of {over.quantity} × {line.sku.code} sent for approval."
    )
    return signal_write(_panel(request, purchase_order=purchase_order))
