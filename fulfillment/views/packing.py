"""The packing station: scan an order, pack what was picked for it at this node into the
suggested (or another) box, weigh it, buy the label, print it with the packing slip, and
confirm the shipment when the parcel goes on the truck.

Every step is one service (packing.pack_order, labels.create_label / void_label,
shipping.confirm_shipment); the station re-renders in place after each.
"""

import re

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from erp.errors import DomainError, NotFound
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import add_domain_errors, raise_if_not_permitted
from erp.views.rendering import wants_fragment
from fulfillment.forms import (
    LabelForm,
    OrderScanForm,
    PackForm,
    VoidLabelForm,
    node_choice,
    order_by_reference,
    picking_nodes,
)
from fulfillment.models import Box, Package, Shipment
from fulfillment.services import labels, packing, rates
from fulfillment.views.outcomes import after_write, signal_write
from orders.models import Order

PACK = "fulfillment.add_package"
LABEL = "fulfillment.add_shipment"
VOID = "fulfillment.change_shipment"
CONFIRM = "fulfillment.confirm_shipment"
# The packing service names a line's field `lines.<order line id>`.
LINE_FIELD = re.compile(r"^lines\.(\d+)$")
FORM_FIELDS = {"box_code": "box"}


def station_url(node, order=None) -> str:
    url = f"{reverse('fulfillment:pack')}?node={node.code}"
    return f"{url}&order=ORD-{order.pk}" if order is not None else url


# --- reading the station ---------------------------------------------------------------------


def _packages(order: Order, node) -> list[Package]:
    return list(
        Package.objects.filter(order=order, location=node)
        .select_related("box", "suggested_box", "shipment__carrier", "shipment__service")
        .prefetch_related("lines__line__sku")
        .order_by("pk")
    )


def _label_form(package: Package, data=None):
    """The services quoted for an unlabelled package (a read), offered as overrides."""
    try:
        quote = rates.quote(
            origin=package.location,
            order=package.order,
            weight_grams=package.weight_grams,
            length_mm=package.length_mm,
            width_mm=package.width_mm,
            height_mm=package.height_mm,
        )
    except DomainError as error:
        form = LabelForm(data, prefix=f"label-{package.pk}")
        form.quote_error = error.message
        return form
    form = LabelForm(data, options=quote.options, prefix=f"label-{package.pk}")
    form.quote = quote
    return form


def _package_rows(packages, *, label_forms=None, void_forms=None):
    rows = []
    for package in packages:
        shipment = getattr(package, "shipment", None)
        live = shipment is not None and shipment.state != Shipment.State.VOIDED
        rows.append(
            {
                "package": package,
                "shipment": shipment if live else None,
                "label_form": None
                if live
                else (label_forms or {}).get(package.pk) or _label_form(package),
                "void_form": (void_forms or {}).get(package.pk)
                or VoidLabelForm(prefix=f"void-{package.pk}"),
            }
        )
    return rows


def station_context(
    request,
    node,
    *,
    nodes=(),
    order=None,
    scan_form=None,
    matches=(),
    pack_form=None,
    label_forms=None,
    void_forms=None,
    done="",
    refused="",
) -> dict:
    context = {
        "section": "fulfillment",
        "node": node,
        "nodes": nodes or ([node] if node else []),
        "scan_form": scan_form or OrderScanForm(),
        "matches": matches,
        "order": order,
        "done": done,
        "refused": refused,
        "now": timezone.now(),
        "can_pack": request.user.has_perm(PACK),
        "can_label": request.user.has_perm(LABEL),
        "can_void": request.user.has_perm(VOID),
        "can_confirm": request.user.has_perm(CONFIRM),
    }
    if order is None or node is None:
        return context
    order_lines = {line.pk: line for line in order.lines.select_related("sku")}
    packable = packing.packable_quantities(order, node.pk)
    lines = [
        (order_lines[pk], units)
        for pk, units in sorted(packable.items(), key=lambda row: order_lines[row[0]].line_number)
        if units > 0
    ]
    suggestion = packing.suggest_box((line.sku, units) for line, units in lines) if lines else None
    context.update(
        {
            "pack_lines": lines,
            "suggestion": suggestion,
            "pack_form": pack_form
            or PackForm(
                lines=lines,
                boxes=Box.objects.filter(active=True).order_by("length_mm", "code"),
                suggested=suggestion.box if suggestion else None,
            ),
            "packages": _package_rows(
                _packages(order, node), label_forms=label_forms, void_forms=void_forms
            ),
        }
    )
    return context


def render_station(request, context: dict):
    template = (
        "fulfillment/partials/pack_station.html"
        if wants_fragment(request)
        else "fulfillment/pack_station.html"
    )
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
@backoffice_view
def pack_station(request):
    """`?node=WH-EAST&order=112-4455667-1`: the scanned order's picked lines at the node."""
    forbid_unless_permitted(request.user, "fulfillment.view_package")
    nodes, node = node_choice(request.GET)
    if "order" not in request.GET:
        return render_station(request, station_context(request, node, nodes=nodes))
    scan_form = OrderScanForm(request.GET)
    order, matches = None, []
    if scan_form.is_valid():
        matches = order_by_reference(scan_form.cleaned_data["order"], Order.objects.all())
        if not matches:
            scan_form.add_error(
                "order", f"No order {scan_form.cleaned_data['order']}: scan it again."
            )
        elif len(matches) == 1:
            order = matches[0]
    context = station_context(
        request,
        node,
        nodes=nodes,
        order=order,
        scan_form=scan_form,
        matches=matches if not order else (),
    )
    return render_station(request, context)


# --- packing ---------------------------------------------------------------------------------


def _node_from_post(request):
    node = picking_nodes().filter(code=request.POST.get("node", "")).first()
    if node is None:
        raise Http404("No such node to pack at.")
    return node


def _add_pack_errors(form: PackForm, error: DomainError) -> None:
    """`lines.<id>` goes under that line's input; `box_code` under the box."""
    raise_if_not_permitted(error)
    for field_error in error.errors:
        match = LINE_FIELD.match(field_error.field or "")
        name = (
            f"line_{match[1]}" if match else FORM_FIELDS.get(field_error.field, field_error.field)
        )
        form.add_error(name if name in form.fields else None, field_error.message)


@require_POST
@backoffice_view
def pack(request, order_id: int):
    forbid_unless_permitted(request.user, PACK)
    node = _node_from_post(request)
    order = get_object_or_404(Order.objects.select_related("channel"), pk=order_id)
    context = station_context(request, node, order=order)
    form = PackForm(
        request.POST,
        lines=context["pack_lines"],
        boxes=Box.objects.filter(active=True).order_by("length_mm", "code"),
    )
    package = None
    if form.is_valid():
        try:
            package = packing.pack_order(
                order_id=order.pk,
                location_id=node.pk,
                lines=form.packed_lines(),
                box_code=form.cleaned_data["box"] or None,
                weight_grams=form.cleaned_data["weight_grams"],
                dimensions=form.dimensions(),
                actor=request.user,
            )
        except NotFound as error:
            raise Http404(error.message) from error
        except DomainError as error:
            _add_pack_errors(form, error)
    if package is None:
        return render_station(request, station_context(request, node, order=order, pack_form=form))
    done = f"Packed {package.number} ({package.weight_grams} g): create its label."
    return after_station_write(request, node, order, done)


def after_station_write(request, node, order, done: str):
    """After a write: the station again (HTMX), or a redirect to it."""
    if not wants_fragment(request):
        return after_write(request, station_url(node, order), done)
    order.refresh_from_db()
    return signal_write(
        render_station(request, station_context(request, node, order=order, done=done))
    )


# --- labels ----------------------------------------------------------------------------------


@require_POST
@backoffice_view
def create_label(request, package_id: int):
    forbid_unless_permitted(request.user, LABEL)
    package = get_object_or_404(
        Package.objects.select_related("order__channel", "location"), pk=package_id
    )
    node, order = package.location, package.order
    form = _label_form(package, request.POST)
    if form.is_valid():
        try:
            shipment = labels.create_label(
                package_id=package.pk,
                actor=request.user,
                service_code=form.cleaned_data["service"] or None,
            )
        except NotFound as error:
            raise Http404(error.message) from error
        except DomainError as error:
            add_domain_errors(form, error)
        else:
            done = (
                f"Label {shipment.tracking_number} ({shipment.carrier.code} "
                f"{shipment.service.name if shipment.service else ''}) for {package.number}: "
                "print it with the packing slip."
            )
            return after_station_write(request, node, order, done)
    context = station_context(request, node, order=order, label_forms={package.pk: form})
    return render_station(request, context)
