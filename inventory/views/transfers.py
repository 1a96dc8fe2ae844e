"""Transfers between nodes: ship one, receive what arrived (partially, in several
receipts), and close one with a discrepancy when the rest will never come."""

import re

from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from erp.errors import DomainError, NotFound
from erp.exports import export_format
from erp.list_export import Column, export_rows
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import add_domain_errors, raise_if_not_permitted
from erp.views.history import record_history
from erp.views.rendering import render_page_or_fragment
from inventory.forms import (
    NoteForm,
    ReceiveTransferForm,
    TransferFilterForm,
    TransferForm,
    TransferLineFormSet,
)
from inventory.models import Transfer
from inventory.services import transfers as transfer_services
from inventory.views.outcomes import PAGE_SIZE, after_write

VIEW_TRANSFERS = "inventory.view_transfer"
RECEIVE_TRANSFERS = "inventory.change_transfer"
OPEN_STATES = (Transfer.State.IN_TRANSIT, Transfer.State.PARTIALLY_RECEIVED)
# Services name a line's field `lines[<index or line id>].quantity`.
LINE_FIELD = re.compile(r"^lines\[(\d+)\]\.(\w+)$")

TRANSFER_COLUMNS = [
    Column("Transfer", "number"),
    Column("From", "from_location__code"),
    Column("To", "to_location__code"),
    Column("State", "state", choices=Transfer.State.choices),
    Column("Lines", "line_count"),
    Column("Shipped units", "shipped"),
    Column("Received units", "received"),
    Column("Missing units", "missing"),
    Column("Reference", "reference"),
    Column("Shipped at", "shipped_at"),
    Column("Shipped by", "created_by__username"),
    Column("Closed at", "closed_at"),
]


@require_GET
@backoffice_view
def transfer_list(request):
    forbid_unless_permitted(request.user, VIEW_TRANSFERS)
    filters = TransferFilterForm(request.GET)
    transfers = Transfer.objects.select_related(
        "from_location", "to_location", "created_by"
    ).annotate(
        line_count=Count("lines"),
        shipped=Sum("lines__quantity_shipped"),
        received=Sum("lines__quantity_received"),
        missing=Sum("lines__quantity_missing"),
    )
    if filters.state_value():
        transfers = transfers.filter(state=filters.state_value())
    if filters.search():
        term = filters.search()
        transfers = transfers.filter(
            Q(number__icontains=term)
            | Q(reference__icontains=term)
            | Q(from_location__code__icontains=term)
            | Q(to_location__code__icontains=term)
        )
    if fmt := export_format(request):
        return export_rows("transfers", transfers.order_by("-id"), TRANSFER_COLUMNS, fmt)
    context = {
        "section": "transfers",
        "filters": filters,
        "page": Paginator(transfers.order_by("-id"), PAGE_SIZE).get_page(request.GET.get("page")),
        "can_create": request.user.has_perm("inventory.add_transfer"),
    }
    return render_page_or_fragment(
        request,
        page="inventory/transfer_list.html",
        fragment="inventory/partials/transfer_results.html",
        context=context,
    )


def _add_line_errors(form: TransferForm, lines: TransferLineFormSet, filled: list, error) -> None:
    """`lines[i].quantity` goes under the i-th filled line; the rest tops the form."""
    raise_if_not_permitted(error)
    for field_error in error.errors:
        match = LINE_FIELD.match(field_error.field or "")
        if match and int(match[1]) < len(filled):
            line_form = filled[int(match[1])]
            name = match[2] if match[2] in line_form.fields else None
            line_form.add_error(name, field_error.message)
        else:
            field = field_error.field if field_error.field in form.fields else None
            form.add_error(field, field_error.message)


@require_http_methods(["GET", "POST"])
@backoffice_view
def transfer_create(request):
    forbid_unless_permitted(request.user, "inventory.add_transfer")
    posted = request.POST if request.method == "POST" else None
    form = TransferForm(posted, initial=None if posted else request.GET.dict())
    lines = TransferLineFormSet(posted, prefix="lines")
    if posted is not None and form.is_valid() and lines.is_valid():
        filled = lines.filled_forms()
        try:
            transfer = transfer_services.create_transfer(
                from_location=form.cleaned_data["from_location"],
                to_location=form.cleaned_data["to_location"],
                lines=lines.filled_lines(),
                actor=request.user,
                reference=form.cleaned_data["reference"],
            )
        except DomainError as error:
            _add_line_errors(form, lines, filled, error)
        else:
            return after_write(
                request,
                reverse("transfer-detail", args=[transfer.pk]),
                f"{transfer.number} shipped from {transfer.from_location.code} to "
                f"{transfer.to_location.code}: the units are in transit.",
            )
    return render_page_or_fragment(
        request,
        page="inventory/transfer_form.html",
        fragment="inventory/partials/transfer_form.html",
        context={"section": "transfers", "form": form, "lines": lines},
    )


def _transfer_or_404(pk: int) -> Transfer:
    return get_object_or_404(
        Transfer.objects.select_related("from_location", "to_location", "created_by"), pk=pk
    )


def _render_detail(
    request, transfer: Transfer, *, receive_form=None, close_form=None, fragment=None
):
    lines = list(transfer.lines.select_related("sku", "lot").order_by("pk"))
    is_open = transfer.state in OPEN_STATES
    can_receive = is_open and request.user.has_perm(RECEIVE_TRANSFERS)
    context = {
        "section": "transfers",
        "transfer": transfer,
        "lines": lines,
        "totals": {
            name: sum(getattr(line, name) for line in lines)
            for name in ("quantity_shipped", "quantity_received", "quantity_missing", "outstanding")
        },
        "can_receive": can_receive,
        "receive_form": receive_form or ReceiveTransferForm(lines=lines),
        "close_form": close_form or NoteForm(),
        "history": record_history(transfer, request.GET.get("page")),
        "screen": {"noun": "Transfer"},
    }
    return render_page_or_fragment(
        request,
        page="inventory/transfer_detail.html",
        fragment=fragment or "inventory/partials/document_history.html",
        context=context,
    )


@require_GET
@backoffice_view
def transfer_detail(request, pk: int):
    forbid_unless_permitted(request.user, VIEW_TRANSFERS)
    return _render_detail(request, _transfer_or_404(pk))


@require_POST
@backoffice_view
def transfer_receive(request, pk: int):
    """Book what arrived now into sellable at the receiving node; partial is fine."""
    forbid_unless_permitted(request.user, RECEIVE_TRANSFERS)
    transfer = _transfer_or_404(pk)
    lines = list(transfer.lines.select_related("sku", "lot").order_by("pk"))
    form = ReceiveTransferForm(request.POST, lines=lines)
    if form.is_valid():
        try:
            transfer = transfer_services.receive_transfer(
                transfer_id=transfer.pk, received=form.received(), actor=request.user
            )
        except NotFound as error:
            raise Http404(error.message) from error
        except DomainError as error:
            _add_receipt_errors(form, error)
        else:
            return after_write(
                request,
                reverse("transfer-detail", args=[transfer.pk]),
                f"{transfer.number}: receipt booked, now {transfer.get_state_display().lower()}.",
            )
    return _render_detail(
        request,
        _transfer_or_404(pk),
        receive_form=form,
        fragment="inventory/partials/transfer_lines.html",
    )


def _add_receipt_errors(form: ReceiveTransferForm, error: DomainError) -> None:
    """`lines[<line id>].quantity` goes under that line's input."""
    raise_if_not_permitted(error)
    for field_error in error.errors:
        match = LINE_FIELD.match(field_error.field or "")
        name = form.field_name(match[1]) if match else None
        form.add_error(name if name in form.fields else None, field_error.message)


@require_POST
@backoffice_view
def transfer_close(request, pk: int):
    """Stop waiting: what is still in transit is reported missing (a note says why)."""
    forbid_unless_permitted(request.user, RECEIVE_TRANSFERS)
    transfer = _transfer_or_404(pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _render_detail(
            request, transfer, close_form=form, fragment="inventory/partials/transfer_close.html"
        )
    try:
        transfer = transfer_services.close_transfer_with_discrepancy(
            transfer_id=transfer.pk, actor=request.user, note=form.cleaned_data.get("note", "")
        )
    except NotFound as error:
        raise Http404(error.message) from error
    except DomainError as error:
        add_domain_errors(form, error)
        return _render_detail(
            request,
            _transfer_or_404(pk),
            close_form=form,
            fragment="inventory/partials/transfer_close.html",
        )
    return after_write(
        request,
        reverse("transfer-detail", args=[transfer.pk]),
        f"{transfer.number} closed with a discrepancy.",
    )
