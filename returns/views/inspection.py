"""Inspection: every received unit still waiting, one row per received item (one per
serial), graded and given a disposition (inspection.inspect_return). Restocked units
become sellable at once; a disposal above the write-off threshold waits for a manager in
the approvals inbox, and the screen says so.
"""

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from erp.errors import DomainError, NotFound
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.rendering import wants_fragment
from inventory.models import InventoryAdjustment
from returns import selectors
from returns.forms import InspectionForm
from returns.models import Disposition, Grade, Rma
from returns.services import inspection
from returns.views.outcomes import after_write, focus_first_error, put_errors_on, signal_write

INSPECT = "returns.inspect_return"
PANEL = "returns/partials/inspection_panel.html"


def _rma_or_404(rma_id: int) -> Rma:
    rma = selectors.rma_detail().filter(pk=rma_id).first()
    if rma is None:
        raise Http404("No such RMA.")
    return rma


def inspection_context(request, rma: Rma, *, refused: InspectionForm | None = None, done=""):
    rows = []
    for item in rma.received_items.all():
        waiting = item.quantity - item.units_inspected
        if refused is not None and refused.item.pk == item.pk:
            rows.append({"item": item, "waiting": waiting, "form": refused})
        elif waiting > 0:
            rows.append(
                {
                    "item": item,
                    "waiting": waiting,
                    "form": InspectionForm(item=item, waiting=waiting),
                }
            )
    return {
        "section": "returns",
        "rma": rma,
        "rows": rows,
        "waiting_units": sum(row["waiting"] for row in rows),
        "inspections": list(rma.inspections.all()),
        "done": done,
    }


def _render(request, context: dict):
    template = PANEL if wants_fragment(request) else "returns/inspect.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
@backoffice_view
def inspection_screen(request, rma_id: int):
    forbid_unless_permitted(request.user, INSPECT)
    return _render(request, inspection_context(request, _rma_or_404(rma_id)))


def describe(done: list) -> str:
    """One sentence per inspection: what happened to the units."""
    parts = []
    for result in done:
        what = (
            f"{result.quantity} × {result.received_item.sku.code} "
            f"{Grade(result.grade).label.lower()}"
        )
        if result.disposition == Disposition.DISPOSE:
            if result.write_off.state == InventoryAdjustment.State.PENDING_APPROVAL:
                parts.append(f"{what}: disposal waiting for manager approval.")
            else:
                parts.append(f"{what}: written off.")
        elif result.disposition == Disposition.RESTOCK:
            parts.append(f"{what}: restocked, sellable now.")
        else:
            parts.append(f"{what}: {Disposition(result.disposition).label.lower()}.")
    return " ".join(parts)


@require_POST
@backoffice_view
def inspect_item(request, rma_id: int, item_id: int):
    forbid_unless_permitted(request.user, INSPECT)
    rma = _rma_or_404(rma_id)
    item = next((item for item in rma.received_items.all() if item.pk == item_id), None)
    if item is None:
        raise Http404("No such unit received on this RMA.")
    form = InspectionForm(request.POST, item=item, waiting=item.quantity - item.units_inspected)
    if form.is_valid():
        try:
            done = inspection.inspect_return(
                rma_id=rma.pk, results=[form.result()], actor=request.user
            )
        except NotFound as error:
            raise Http404(error.message) from error
        except DomainError as error:
            put_errors_on(form, error)
        else:
            message = describe(done)
            if not wants_fragment(request):
                return after_write(request, reverse("returns:inspect", args=[rma.pk]), message)
            context = inspection_context(request, _rma_or_404(rma_id), done=message)
            return signal_write(_render(request, context))
    focus_first_error(form)
    return _render(request, inspection_context(request, rma, refused=form))
