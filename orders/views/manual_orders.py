"""Customer service keys in an order (phone, B2B, replacement): a form whose input the
manual-order service validates and hands to ingestion; refusals come back under their
fields, nothing written."""

import re

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from erp.errors import DomainError, FieldError
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import add_domain_errors
from orders.forms import ManualOrderForm
from orders.services import manual_orders

_LINE = re.compile(r"^lines\[(\d+)\]")


def _form_errors(error: DomainError, rows: list[int]) -> DomainError:
    """The service numbers the lines it was given; the form numbers its rows (blank
    rows are skipped), so each line error is moved to the row it came from."""

    def row_field(field):
        match = _LINE.match(field or "")
        if not match or int(match.group(1)) >= len(rows):
            return field
        return f"lines[{rows[int(match.group(1))]}]{field[match.end() :]}"

    error.errors = [FieldError(row_field(e.field), e.code, e.message) for e in error.errors]
    return error


@require_http_methods(["GET", "POST"])
@backoffice_view
def create_manual_order(request):
    forbid_unless_permitted(request.user, "orders.add_order")
    channels = list(manual_orders.manual_channels())
    if request.method == "GET":
        kind = request.GET.get("kind", "phone")
        initial = {
            "kind": kind,
            "replaces_rma": request.GET.get("rma", ""),
            "reference": manual_orders.new_reference(kind),
        }
        return _page(request, ManualOrderForm(initial=initial, channels=channels))
    form = ManualOrderForm(request.POST, channels=channels)
    if form.is_valid():
        rows = form.lines()
        try:
            result = manual_orders.create_manual_order(
                channel_code=form.cleaned_data["channel"],
                kind=form.cleaned_data["kind"],
                lines=[manual_orders.ManualLine(*values) for _, values in rows],
                ship_to=form.ship_to(),
                actor=request.user,
                reference=form.cleaned_data["reference"],
                customer_email=form.cleaned_data["customer_email"],
                payment_status=form.cleaned_data["payment_status"],
                replaces_rma=form.cleaned_data["replaces_rma"],
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            add_domain_errors(form, _form_errors(error, [index for index, _ in rows]))
        else:
            order = result.order
            messages.success(
                request,
                f"Order {order.order_number} created — {order.get_state_display().lower()}.",
            )
            return redirect("orders:detail", order.pk)
    return _page(request, form, status=400)


def _page(request, form, status=200):
    context = {
        "section": "orders",
        "form": form,
        "has_channels": bool(form.fields["channel"].choices),
    }
    return render(request, "orders/manual_order_form.html", context, status=status)
