"""Working a queue: claim and release one item, act on selected rows, export the rows,
and set the queue's SLA. Every write goes through erp.services.queue_claims (or, for a
queue's own row actions, the service its single-row button calls)."""

from types import SimpleNamespace

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from erp import selectors
from erp.errors import DomainError, NotFound
from erp.exports import export_format, export_response
from erp.models import QueueSla
from erp.queues import sla_hours_by_queue
from erp.services import queue_claims
from erp.templatetags.queue_claims import owner_cell_context
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.exceptions import QUEUES_CHANGED, _queue_or_404, filtered_rows
from erp.views.forms import add_domain_errors, raise_if_not_permitted
from erp.views.rendering import wants_fragment

OWNER_CELL = "erp/partials/queue_owner_cell.html"


def _back_to_queue(request, queue):
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect(reverse("exception-queue", args=[queue.key]))


def _owner_cell(request, queue, object_id: int, *, error: str = "", done: str = ""):
    claim = selectors.claims_by_object(queue.key, [object_id]).get(object_id)
    row = SimpleNamespace(pk=object_id)
    context = owner_cell_context(queue, row, claim, request.user, error=error, done=done)
    return render(request, OWNER_CELL, context)


def _change_owner(request, key: str, object_id: int, service, done: str):
    queue = _queue_or_404(key)
    try:
        service(queue_key=queue.key, object_id=object_id, actor=request.user)
    except DomainError as error:
        raise_if_not_permitted(error)
        if not wants_fragment(request):
            messages.error(request, error.message)
            return _back_to_queue(request, queue)
        return _owner_cell(request, queue, object_id, error=error.message)
    if not wants_fragment(request):
        messages.success(request, f"Item #{object_id} {done}.")
        return _back_to_queue(request, queue)
    response = _owner_cell(request, queue, object_id, done=done.capitalize() + ".")
    return trigger_client_event(response, QUEUES_CHANGED)


@require_POST
@backoffice_view
def claim(request, key: str, object_id: int):
    return _change_owner(request, key, object_id, queue_claims.claim_item, "claimed")


@require_POST
@backoffice_view
def release(request, key: str, object_id: int):
    return _change_owner(request, key, object_id, queue_claims.release_item, "released")


def _ids(values: list[str]) -> list[int]:
    return [int(value) for value in values if value.isdigit() and len(value) < 19]


@require_POST
@backoffice_view
def bulk_action(request, key: str):
    """Selected rows, one action: each row through the single-row service; the answer
    says how many were done and why each refused row was refused."""
    queue = _queue_or_404(key)
    action = request.POST.get("action", "")
    assignee = request.POST.get("assignee", "")
    try:
        outcomes = queue_claims.run_on_rows(
            queue_key=queue.key,
            action=action,
            object_ids=_ids(request.POST.getlist("ids")),
            actor=request.user,
            note=request.POST.get("note", ""),
            assignee_id=int(assignee) if assignee.isdigit() and len(assignee) < 19 else None,
        )
    except DomainError as error:
        raise_if_not_permitted(error)
        messages.error(request, error.message)
        return _back_to_queue(request, queue)
    done = [outcome for outcome in outcomes if outcome.ok]
    refused = [outcome for outcome in outcomes if not outcome.ok]
    label = _action_label(queue, action)
    if done:
        messages.success(request, f"{label}: {len(done)} of {len(outcomes)} rows done.")
    for outcome in refused:
        messages.error(request, f"{label} refused for #{outcome.object_id}: {outcome.message}")
    return _back_to_queue(request, queue)


def _action_label(queue, action: str) -> str:
    generic = {"claim": "Claim", "release": "Release", "assign": "Assign"}
    if action in generic:
        return generic[action]
    row_action = queue.row_action(action)
    return row_action.label if row_action else action


@require_GET
@backoffice_view
def export(request, key: str):
    """The queue's rows, filters applied, as CSV (streamed) or XLSX (`?export=xlsx`)."""
    queue = _queue_or_404(key)
    rows, _, _ = filtered_rows(request, queue)
    fields = queue.csv_fields()
    header = [_header(name, queue) for name in fields] + ["Owner", "Claimed at"]
    return export_response(
        export_format(request, default="csv"),
        queue.key,
        header,
        selectors.queue_export_rows(rows, queue_key=queue.key, fields=fields),
    )


def _header(name: str, queue) -> str:
    if name == "pk":
        return "ID"
    if name == queue.age_field:
        return f"{name.replace('__', ' ').replace('_', ' ').capitalize()} (queue age)"
    return name.replace("__", " ").replace("_", " ").capitalize()


class QueueSlaForm(forms.Form):
    sla_hours = forms.IntegerField(label="SLA (hours)")
    reason = forms.CharField(label="Reason for the change", max_length=100)


@require_http_methods(["GET", "POST"])
@backoffice_view
def queue_sla(request, key: str):
    """A queue's SLA: the hours in force, a manager's form to change them (with a
    reason), and every change with who, when and why."""
    forbid_unless_permitted(request.user, "erp.view_queuesla")
    queue = _queue_or_404(key)
    current = sla_hours_by_queue().get(queue.key, queue.sla_hours)
    form = QueueSlaForm(request.POST or None, initial={"sla_hours": current})
    if request.method == "POST":
        forbid_unless_permitted(request.user, queue_claims.CHANGE_SLA)
        # The service is the one validator: −1, 0 or no reason come back under the field.
        try:
            queue_claims.set_queue_sla(
                queue_key=queue.key,
                sla_hours=request.POST.get("sla_hours", ""),
                actor=request.user,
                reason=request.POST.get("reason", ""),
            )
        except NotFound as error:
            raise Http404(error.message) from error
        except DomainError as error:
            form.is_valid()
            form.errors.clear()
            add_domain_errors(form, error)
        else:
            messages.success(request, f"{queue.name}: SLA saved.")
            return redirect("exception-queue-sla", queue.key)
    context = {
        "section": "exceptions",
        "queue": queue,
        "current": current,
        "form": form,
        "may_change": request.user.has_perm(queue_claims.CHANGE_SLA),
        "history": QueueSla.history.filter(queue_key=queue.key)
        .select_related("history_user")
        .order_by("-history_date")[:50],
    }
    status = 400 if form.errors else 200
    return render(request, "erp/queue_sla.html", context, status=status)
