"""Stock movement forms for the floor and managers: receive stock, change its status.

Both forms (and the adjustment form) share one template; their lot, expiry and serial
fields follow the SKU's tracking and are re-rendered when the SKU changes.
"""

from dataclasses import dataclass

from django.db import transaction
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from erp.errors import DomainError
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import add_domain_errors
from erp.views.rendering import render_page_or_fragment
from inventory.forms import ReceiveForm, StatusChangeForm, TrackedSkuForm
from inventory.models import StockStatus
from inventory.services import movements
from inventory.services.lots import register_lot
from inventory.views.outcomes import after_write

MOVE_STOCK = "inventory.add_stockledgerentry"


@dataclass(frozen=True)
class MovementScreen:
    title: str
    url_name: str
    submit: str
    intro: str


RECEIVE = MovementScreen(
    title="Receive stock",
    url_name="stock-receive",
    submit="Receive",
    intro="Book units into a node without a purchase order (manual or 3PL receipt).",
)
STATUS_CHANGE = MovementScreen(
    title="Change stock status",
    url_name="stock-status-change",
    submit="Move stock",
    intro="Move units between sellable, inspection, quarantine and damaged at one node.",
)


def render_movement_form(request, form: TrackedSkuForm, screen: MovementScreen):
    sku = form.tracked_sku
    context = {
        "section": "stock",
        "form": form,
        "screen": screen,
        "action_url": reverse(screen.url_name),
        "cancel_url": reverse("stock-sku", args=[sku.code]) if sku else reverse("stock-search"),
    }
    return render_page_or_fragment(
        request,
        page="inventory/movement_form.html",
        fragment="inventory/partials/movement_form.html",
        context=context,
    )


def bind(request, form_class):
    """Bound to the POST; otherwise unbound, prefilled from the query (`?sku=&location=`)."""
    if request.method == "POST":
        return form_class(request.POST)
    return form_class(initial=request.GET.dict())


@transaction.atomic
def _receive(data: dict, actor):
    # A new lot and the receipt into it commit together, or neither does.
    lot = None
    if data["lot"]:
        lot = register_lot(
            sku=data["sku"], code=data["lot"], expires_on=data["expires_on"], actor=actor
        )
    movements.receive_stock(
        sku=data["sku"],
        location=data["location"],
        quantity=data["quantity"],
        actor=actor,
        status=data["status"],
        lot=lot,
        serials=data["serials"] or None,
        reference=data["reference"],
        reason=data["reason"] or "receipt",
    )


@require_http_methods(["GET", "POST"])
@backoffice_view
def receive(request):
    forbid_unless_permitted(request.user, MOVE_STOCK)
    form = bind(request, ReceiveForm)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            _receive(data, request.user)
        except DomainError as error:
            add_domain_errors(form, error)
        else:
            status = StockStatus(data["status"]).label.lower()
            return after_write(
                request,
                reverse("stock-sku", args=[data["sku"].code]),
                f"Received {data['quantity']} × {data['sku'].code} into "
                f"{data['location'].code} ({status}).",
            )
    return render_movement_form(request, form, RECEIVE)


@require_http_methods(["GET", "POST"])
@backoffice_view
def change_status(request):
    forbid_unless_permitted(request.user, MOVE_STOCK)
    form = bind(request, StatusChangeForm)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            movements.change_status(
                sku=data["sku"],
                location=data["location"],
                quantity=data["quantity"],
                from_status=data["from_status"],
                to_status=data["to_status"],
                actor=request.user,
                lot=data["lot"],
                reason=data["reason"],
                reference=data["reference"],
            )
        except DomainError as error:
            add_domain_errors(form, error)
        else:
            moved = (
                f"{StockStatus(data['from_status']).label} → {StockStatus(data['to_status']).label}"
            )
            return after_write(
                request,
                reverse("stock-sku", args=[data["sku"].code]),
                f"Moved {data['quantity']} × {data['sku'].code} at {data['location'].code}: {moved.lower()}.",
            )
    return render_movement_form(request, form, STATUS_CHANGE)
