"""Shipments: the list (by node, carrier, state, ship date, tracking number), a shipment's
page (lines with lots and serials, tracking link, the rates considered, the outbox
messages it sent), its label and packing slip as PDFs, and confirming or voiding it."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from erp.errors import DomainError, NotFound
from erp.exports import export_format
from erp.list_export import Column, export_rows
from erp.models import OutboxMessage
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import add_domain_errors, raise_if_not_permitted
from erp.views.history import record_history
from erp.views.rendering import render_page_or_fragment, wants_fragment
from fulfillment.forms import ShipmentFilterForm, VoidLabelForm
from fulfillment.models import Package, Shipment
from fulfillment.services import labels, shipping
from fulfillment.views.outcomes import after_error, after_write, signal_write
from fulfillment.views.packing import (
    CONFIRM,
    VOID,
    after_station_write,
    render_station,
    station_context,
)

VIEW_SHIPMENTS = "fulfillment.view_shipment"
PAGE_SIZE = 50
SHIPMENT_COLUMNS = [
    Column("Shipment", "pk", display=lambda pk: Shipment(pk=pk).number),
    Column("Order", "order__external_id"),
    Column("Channel", "order__channel__code"),
    Column("Node", "location__code"),
    Column("Carrier", "carrier__code"),
    Column("Service", "service__name"),
    Column("Tracking number", "tracking_number"),
    Column("Cost", "cost"),
    Column("State", "state", choices=Shipment.State.choices),
    Column("Source", "source", choices=Shipment._meta.get_field("source").choices),
    Column("Promised by", "promised_by"),
    Column("Created at", "created_at"),
    Column("Shipped at", "shipped_at"),
]


@require_GET
@backoffice_view
def shipment_list(request):
    forbid_unless_permitted(request.user, VIEW_SHIPMENTS)
    filters = ShipmentFilterForm(request.GET)
    shipments = filters.results(
        Shipment.objects.select_related("order__channel", "location", "carrier", "service")
    ).order_by("-pk")
    if fmt := export_format(request):
        return export_rows("shipments", shipments, SHIPMENT_COLUMNS, fmt)
    page = Paginator(shipments, PAGE_SIZE).get_page(request.GET.get("page"))
    for shipment in page.object_list:
        shipment.tracking_link = shipment.carrier.tracking_url(shipment.tracking_number)
    context = {
        "section": "fulfillment",
        "filters": filters,
        "page": page,
        # Labelled parcels can be ticked and confirmed together (the truck's manifest).
        "can_manifest": request.user.has_perm(CONFIRM)
        and any(s.state == Shipment.State.LABEL_CREATED for s in page.object_list),
    }
    return render_page_or_fragment(
        request,
        page="fulfillment/shipment_list.html",
        fragment="fulfillment/partials/shipment_results.html",
        context=context,
    )


def _shipment_or_404(shipment_id: int) -> Shipment:
    return get_object_or_404(
        Shipment.objects.select_related(
            "order__channel",
            "location",
            "carrier",
            "service",
            "package__box",
            "created_by",
            "shipped_by",
        ),
        pk=shipment_id,
    )


def outbox_messages(shipment: Shipment):
    """What this shipment sent out: every channel format's tracking upload and the
    customer notification carry the shipment number last in their dedupe key."""
    return (
        OutboxMessage.objects.filter(dedupe_key__endswith=f":{shipment.number}")
        .select_related("endpoint")
        .order_by("pk")
    )


def render_shipment(request, shipment: Shipment, *, done="", refused="", void_form=None):
    explanation = shipment.rate_explanation or {}
    context = {
        "section": "fulfillment",
        "shipment": shipment,
        "tracking_url": shipment.carrier.tracking_url(shipment.tracking_number),
        "lines": list(shipment.lines.select_related("line", "sku", "lot").order_by("pk")),
        "package_lines": list(
            shipment.package.lines.select_related("line__sku").order_by("line__line_number")
        )
        if shipment.package_id
        else [],
        "options": explanation.get("options", []),
        "excluded": explanation.get("excluded", []),
        "explanation": explanation,
        "messages_out": list(outbox_messages(shipment)),
        "history": record_history(shipment, 1),
        "screen": {"noun": "Shipment"},
        "void_form": void_form or VoidLabelForm(prefix="void"),
        "can_confirm": request.user.has_perm(CONFIRM),
        "can_void": request.user.has_perm(VOID),
        "done": done,
        "refused": refused,
    }
    return render_page_or_fragment(
        request,
        page="fulfillment/shipment_detail.html",
        fragment="fulfillment/partials/shipment_body.html",
        context=context,
    )


@require_GET
@backoffice_view
def shipment_detail(request, shipment_id: int):
    forbid_unless_permitted(request.user, VIEW_SHIPMENTS)
    return render_shipment(request, _shipment_or_404(shipment_id))


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@require_GET
@backoffice_view
def label_pdf(request, shipment_id: int):
    """The 4×6 label to print (a voided label is not printed again)."""
    forbid_unless_permitted(request.user, VIEW_SHIPMENTS)
    shipment = _shipment_or_404(shipment_id)
    if shipment.state == Shipment.State.VOIDED:
        raise Http404("This label was voided.")
    return _pdf(labels.render_label_pdf(shipment), f"{shipment.number}-label.pdf")


@require_GET
@backoffice_view
def packing_slip_pdf(request, package_id: int):
    forbid_unless_permitted(request.user, "fulfillment.view_package")
    package = get_object_or_404(
        Package.objects.select_related("order__channel", "location", "box"), pk=package_id
    )
    return _pdf(labels.render_packing_slip_pdf(package), f"{package.number}-packing-slip.pdf")


# --- confirming and voiding ------------------------------------------------------------------


def _from_station(request) -> bool:
    return bool(request.POST.get("station"))


def _refused(request, shipment: Shipment, message: str = "", void_form=None):
    """A refused confirm or void: back where it was asked, with the reason."""
    if _from_station(request):
        forms = {"void_forms": {shipment.package_id: void_form}} if void_form else {}
        context = station_context(
            request, shipment.location, order=shipment.order, refused=message, **forms
        )
        return render_station(request, context)
    return render_shipment(request, shipment, refused=message, void_form=void_form)


def _written(request, shipment: Shipment, done: str):
    if _from_station(request):
        return after_station_write(request, shipment.location, shipment.order, done)
    if not wants_fragment(request):
        return after_write(request, reverse("fulfillment:shipment", args=[shipment.pk]), done)
    return signal_write(render_shipment(request, _shipment_or_404(shipment.pk), done=done))


@require_POST
@backoffice_view
def confirm_shipment(request, shipment_id: int):
    """The parcel left: stock leaves, the order ships, tracking goes to the channel."""
    forbid_unless_permitted(request.user, CONFIRM)
    shipment = _shipment_or_404(shipment_id)
    try:
        shipment = shipping.confirm_shipment(shipment_id=shipment.pk, actor=request.user)
    except NotFound as error:
        raise Http404(error.message) from error
    except DomainError as error:
        raise_if_not_permitted(error)
        return _refused(request, _shipment_or_404(shipment_id), error.message)
    done = (
        f"{shipment.number} shipped with {shipment.carrier.code} {shipment.tracking_number}: "
        "the channel gets the tracking number."
    )
    return _written(request, shipment, done)


@require_POST
@backoffice_view
def confirm_manifest(request):
    """The truck is loaded: the ticked labelled parcels ship together, or none does and
    the page says which one cannot."""
    forbid_unless_permitted(request.user, CONFIRM)
    back = reverse("fulfillment:shipment-list") + "?state=label_created"
    ids = [value for value in request.POST.getlist("shipment") if value.isdigit()]
    if not ids:
        messages.error(request, "Tick the parcels that are on the truck.")
        return after_error(request, back)
    try:
        shipped = shipping.confirm_shipments(
            shipment_ids=[int(pk) for pk in ids], actor=request.user
        )
    except NotFound as error:
        raise Http404(error.message) from error
    except DomainError as error:
        raise_if_not_permitted(error)
        messages.error(request, f"Nothing shipped: {error.message}")
        return after_error(request, back)
    return after_write(
        request, back, f"{len(shipped)} parcels shipped: the channels get their tracking numbers."
    )


@require_POST
@backoffice_view
def void_label(request, shipment_id: int):
    """An unshipped label is voided (the reason is required); the package can be labelled
    again."""
    forbid_unless_permitted(request.user, VOID)
    shipment = _shipment_or_404(shipment_id)
    prefix = f"void-{shipment.package_id}" if _from_station(request) else "void"
    form = VoidLabelForm(request.POST, prefix=prefix)
    form.is_valid()
    try:
        labels.void_label(
            shipment_id=shipment.pk, actor=request.user, reason=form.cleaned_data.get("reason", "")
        )
    except NotFound as error:
        raise Http404(error.message) from error
    except DomainError as error:
        add_domain_errors(form, error)
        return _refused(request, _shipment_or_404(shipment_id), void_form=form)
    return _written(request, shipment, f"Label {shipment.tracking_number} voided.")
