"""Customer service authorizes a return: find the order, choose the shipped lines and
units coming back (never more than shipped minus already returned), the reason, serials
or lot when tracked, and the override reason when the window has passed.

The returns service decides (rmas.create_rma); its refusals come back under the input
they are about, and nothing is written.
"""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from erp.errors import DomainError, NotFound
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.rendering import render_page_or_fragment
from orders.models import Order
from returns import selectors
from returns.forms import OrderLookupForm, ReturnableLine, RmaCreateForm, orders_by_reference
from returns.models import ReturnReason
from returns.services import rmas
from returns.services.policies import policies_for
from returns.views.outcomes import after_write, focus_first_error, put_errors_on

AUTHORIZE = "returns.add_rma"


def returnable_lines(order: Order) -> list[ReturnableLine]:
    """The order's shipped lines with what already comes back on other RMAs, when each
    shipped and the window of its policy."""
    lines = list(
        order.lines.filter(quantity_shipped__gt=0, sku__isnull=False)
        .select_related("sku")
        .order_by("line_number")
    )
    ids = [line.pk for line in lines]
    returned = rmas.returned_units(ids)
    shipped_on = selectors.shipped_dates(ids)
    policies = policies_for(order.channel, {line.sku.product_family for line in lines})
    return [
        ReturnableLine(
            line=line,
            returned=returned.get(line.pk) or 0,
            shipped_on=shipped_on.get(line.pk) or order.shipped_at,
            window_days=policies[line.sku.product_family or ""].window_days,
        )
        for line in lines
    ]


def create_form(order: Order, data=None) -> RmaCreateForm:
    return RmaCreateForm(
        data,
        lines=returnable_lines(order),
        reasons=ReturnReason.objects.filter(active=True).order_by("label"),
        auto_id="rma-%s",
    )


def _context(lookup, *, order=None, matches=(), form=None) -> dict:
    context = {"section": "returns", "lookup": lookup, "order": order, "matches": matches}
    if order is not None:
        form = form or create_form(order)
        context.update(
            {
                "form": form,
                "outside_window": any(row.outside_window for row in form.lines),
                "earlier_rmas": list(order.rmas.order_by("-pk")),
            }
        )
    return context


def _render(request, context: dict):
    return render_page_or_fragment(
        request,
        page="returns/rma_create.html",
        fragment="returns/partials/rma_create_body.html",
        context=context,
    )


@require_http_methods(["GET", "POST"])
@backoffice_view
def rma_create(request):
    """GET `?q=1001` finds the order (`?order=<id>` opens it); POST authorizes."""
    forbid_unless_permitted(request.user, AUTHORIZE)
    if request.method == "POST":
        return _authorize(request)
    if request.GET.get("order", "").isdigit():
        order = get_object_or_404(Order.objects.select_related("channel"), pk=request.GET["order"])
        lookup = OrderLookupForm(initial={"q": order.order_number or order.external_id})
        return _render(request, _context(lookup, order=order))
    if "q" not in request.GET:
        return _render(request, _context(OrderLookupForm()))
    lookup = OrderLookupForm(request.GET)
    order, matches = None, []
    if lookup.is_valid():
        matches = orders_by_reference(lookup.cleaned_data["q"])
        if not matches:
            lookup.add_error("q", f"No order {lookup.cleaned_data['q']}.")
        elif len(matches) == 1:
            order, matches = matches[0], []
    return _render(request, _context(lookup, order=order, matches=matches))


def _authorize(request):
    order_id = request.POST.get("order", "")
    if not order_id.isdigit():
        raise Http404("Choose the order first.")
    order = get_object_or_404(Order.objects.select_related("channel"), pk=order_id)
    form = create_form(order, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            rma = rmas.create_rma(
                order_id=order.pk,
                lines=form.rma_lines(),
                actor=request.user,
                expected_by=data["expected_by"],
                return_label_reference=data["return_label_reference"],
                override_reason=data["override_reason"],
                note=data["note"],
            )
        except NotFound as error:
            raise Http404(error.message) from error
        except DomainError as error:
            put_errors_on(form, error)
        else:
            units = sum(line.quantity for line in rma.lines.all())
            done = (
                f"{rma.number} authorized: {units} unit{'s' if units != 1 else ''} expected "
                f"back by {timezone.localtime(rma.expected_by):%Y-%m-%d}."
            )
            return after_write(request, reverse("returns:detail", args=[rma.pk]), done)
    focus_first_error(form)
    lookup = OrderLookupForm(initial={"q": order.order_number or order.external_id})
    return _render(request, _context(lookup, order=order, form=form))
