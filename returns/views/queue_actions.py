"""Row actions of the returns queues (exceptions pages): settle a flagged unit, finish a
repair. Each is a confirmed POST answered with the row as it now stands (HTMX) or a
redirect back to the queue."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from erp.errors import DomainError, NotFound
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import raise_if_not_permitted
from erp.views.rendering import wants_fragment
from returns.forms import CompleteRepairForm, ResolveDiscrepancyForm
from returns.models import ReceivedItem, RepairOrder
from returns.services import inspection, receiving
from returns.views.outcomes import signal_write

DISCREPANCY_ROW = "returns/partials/queue_rows/discrepancy.html"
REPAIR_ROW = "returns/partials/queue_rows/repair.html"


def _answer(request, *, queue_key: str, template: str, row, done: str, error: str):
    if not wants_fragment(request):
        if error:
            messages.error(request, error)
        else:
            messages.success(request, done)
        return redirect(reverse("exception-queue", args=[queue_key]))
    context = {"row": row, "action_done": "" if error else done, "action_error": error}
    response = render(request, template, context)
    return response if error else signal_write(response)


def _run(service, **kwargs) -> str:
    """The service's refusal as a message ('' when it did its work)."""
    try:
        service(**kwargs)
    except NotFound as error:
        raise Http404(error.message) from error
    except DomainError as error:
        raise_if_not_permitted(error)
        return error.message
    return ""


@require_POST
@backoffice_view
def resolve_discrepancy(request, item_id: int):
    forbid_unless_permitted(request.user, "returns.change_receiveditem")
    form = ResolveDiscrepancyForm(request.POST)
    form.is_valid()
    error = _run(
        receiving.resolve_discrepancy,
        item_id=item_id,
        actor=request.user,
        resolution=form.cleaned_data.get("resolution", ""),
    )
    row = get_object_or_404(
        ReceivedItem.objects.select_related("rma", "sku", "location", "rma_line", "lot"),
        pk=item_id,
    )
    return _answer(
        request,
        queue_key="return-discrepancies",
        template=DISCREPANCY_ROW,
        row=row,
        done=f"{row.rma.number}: {row.sku.code} resolved",
        error=error,
    )


@require_POST
@backoffice_view
def complete_repair(request, repair_id: int):
    forbid_unless_permitted(request.user, "returns.change_repairorder")
    form = CompleteRepairForm(request.POST)
    form.is_valid()
    error = _run(
        inspection.complete_repair,
        repair_id=repair_id,
        actor=request.user,
        outcome=form.cleaned_data.get("outcome", ""),
        note=form.cleaned_data.get("note", ""),
    )
    row = get_object_or_404(
        RepairOrder.objects.select_related("rma", "sku", "location", "lot", "write_off"),
        pk=repair_id,
    )
    done = f"{row} {row.get_state_display().lower()}"
    return _answer(
        request,
        queue_key="returns-repair-queue",
        template=REPAIR_ROW,
        row=row,
        done=done,
        error=error,
    )
