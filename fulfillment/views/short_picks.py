"""The short-picks queue's row action: resolve a short pick once it is understood."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from erp.errors import DomainError, NotFound
from erp.queues import get_queue
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import raise_if_not_permitted
from erp.views.rendering import wants_fragment
from fulfillment.forms import ResolveShortPickForm
from fulfillment.models import ShortPick
from fulfillment.queues import SHORT_PICKS
from fulfillment.services import picking
from fulfillment.views.outcomes import signal_write


def _row(short_pick_id: int) -> ShortPick:
    row = (
        ShortPick.objects.select_related(
            "task__sku", "task__order__channel", "task__location", "reported_by", "count"
        )
        .filter(pk=short_pick_id)
        .first()
    )
    if row is None:
        raise Http404("No such short pick.")
    return row


@require_POST
@backoffice_view
def resolve_short_pick(request, short_pick_id: int):
    forbid_unless_permitted(request.user, "fulfillment.change_shortpick")
    queue = get_queue(SHORT_PICKS)
    form = ResolveShortPickForm(request.POST)
    form.is_valid()
    try:
        picking.resolve_short_pick(
            short_pick_id=short_pick_id,
            actor=request.user,
            resolution=form.cleaned_data.get("resolution", ""),
        )
    except NotFound as error:
        raise Http404(error.message) from error
    except DomainError as error:
        raise_if_not_permitted(error)
        if not wants_fragment(request):
            messages.error(request, error.message)
            return redirect(reverse("exception-queue", args=[SHORT_PICKS]))
        context = {"queue": queue, "row": _row(short_pick_id), "action_error": error.message}
        return render(request, queue.row_template, context)
    if not wants_fragment(request):
        messages.success(request, f"Short pick #{short_pick_id} resolved.")
        return redirect(reverse("exception-queue", args=[SHORT_PICKS]))
    context = {"queue": queue, "row": _row(short_pick_id), "action_done": "resolved"}
    return signal_write(render(request, queue.row_template, context))
