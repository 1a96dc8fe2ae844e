"""Create the no-charge replacement order of an RMA (a damaged delivery)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from erp.errors import DomainError, NotFound
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import raise_if_not_permitted
from orders.services.manual_orders import manual_channels
from returns.models import Rma
from returns.services import replacements


@require_http_methods(["GET", "POST"])
@backoffice_view
def create_replacement(request, rma_id: int):
    forbid_unless_permitted(request.user, "returns.change_rma")
    forbid_unless_permitted(request.user, "orders.add_order")
    rma = get_object_or_404(Rma.objects.select_related("order", "channel"), pk=rma_id)
    errors = []
    if request.method == "POST":
        try:
            result = replacements.create_replacement(
                rma_id=rma.pk, channel_code=request.POST.get("channel", ""), actor=request.user
            )
        except NotFound as error:
            raise Http404(error.message) from error
        except DomainError as error:
            raise_if_not_permitted(error)
            errors = error.errors
        else:
            messages.success(
                request, f"Replacement {result.order.order_number} created for {rma.number}."
            )
            return redirect("orders:detail", result.order.pk)
    context = {
        "section": "returns",
        "rma": rma,
        "lines": rma.lines.select_related("sku").order_by("pk"),
        "channels": manual_channels(),
        "existing": replacements.replacements_of(rma),
        "errors": errors,
    }
    return render(request, "returns/replacement.html", context, status=400 if errors else 200)
