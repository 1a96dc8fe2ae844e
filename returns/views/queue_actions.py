"""Row actions of the returns queues (exceptions pages): settle a flagged unit, finish a
repair, run a refused channel return again or settle it by hand. Each is a confirmed POST answered with the row as it now stands (HTMX) or a
redirect back to the queue."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from erp.errors import DomainError, NotFound
from erp.queues import get_queue
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import raise_if_not_permitted
from erp.views.rendering import wants_fragment
from returns.forms import CompleteRepairForm, DismissChannelReturnForm, ResolveDiscrepancyForm
from returns.models import ReceivedItem, RepairOrder, UnmatchedChannelReturn
from returns.services import channel_returns, inspection, receiving
from returns.views.outcomes import signal_write

DISCREPANCY_ROW = "returns/partials/queue_rows/discrepancy.html"
REPAIR_ROW = "returns/partials/queue_rows/repair.html"
CHANNEL_RETURN_ROW = "returns/partials/queue_rows/channel_return.html"


def _answer(request, *, queue_key: str, template: str, row, done: str, error: str):
    if not wants_fragment(request):
        if error:
            messages.error(request, error)
        else:
            messages.success(request, done)
        return redirect(reverse("exception-queue", args=[queue_key]))
    context = {
        "queue": get_queue(queue_key),  # the row keeps its owner cells
        "row": row,
        "action_done": "" if error else done,
        "action_error": error,
    }
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


def _channel_return_row(entry_id: int):
    return get_object_or_404(UnmatchedChannelReturn.objects.select_related("channel"), pk=entry_id)


@require_POST
@backoffice_view
def retry_channel_return(request, entry_id: int):
    forbid_unless_permitted(request.user, "returns.add_rma")
    result, error = None, ""
    try:
        result = channel_returns.retry_channel_return(entry_id=entry_id, actor=request.user)
    except NotFound as refused:
        raise Http404(refused.message) from refused
    except DomainError as refused:
        raise_if_not_permitted(refused)
        error = refused.message
    if result is not None and result.errors:
        error = "; ".join(e.message for e in result.errors)
    row = _channel_return_row(entry_id)
    done = f"{row.reference}: {result.outcome.replace('_', ' ')}" if result else ""
    if result is not None and result.rma is not None:
        done += f" ({result.rma.number})"
    return _answer(
        request,
        queue_key="channel-returns-to-match",
        template=CHANNEL_RETURN_ROW,
        row=row,
        done=done,
        error=error,
    )


@require_POST
@backoffice_view
def dismiss_channel_return(request, entry_id: int):
    forbid_unless_permitted(request.user, "returns.change_rma")
    form = DismissChannelReturnForm(request.POST)
    form.is_valid()
    error = _run(
        channel_returns.dismiss_channel_return,
        entry_id=entry_id,
        actor=request.user,
        note=form.cleaned_data.get("note", ""),
    )
    row = _channel_return_row(entry_id)
    return _answer(
        request,
        queue_key="channel-returns-to-match",
        template=CHANNEL_RETURN_ROW,
        row=row,
        done=f"{row.reference} settled",
        error=error,
    )
