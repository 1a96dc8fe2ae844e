"""Exception queues: every queue with its count and age, one queue as a filterable
table, and the row actions of the integration-failures queue."""

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from erp import roles, selectors
from erp.errors import DomainError, NotFound
from erp.forms import QueueFilterForm
from erp.models import OutboxMessage
from erp.queues import ExceptionQueue, all_queues, get_queue, sla_hours_by_queue
from erp.services import outbox as outbox_services
from erp.services.queue_claims import ASSIGN
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import raise_if_not_permitted
from erp.views.rendering import render_page_or_fragment, wants_fragment

PAGE_SIZE = 50
INTEGRATION_FAILURES = "integration-failures"
# Panels that show queue counts listen for this event and reload themselves.
QUEUES_CHANGED = "queuesChanged"


def age_label(age: timedelta | None) -> str:
    if age is None:
        return "—"
    minutes = int(age.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def _summary(queue: ExceptionQueue, user_roles: set[str], sla_hours: int | None = None) -> dict:
    summary = queue.summary(sla_hours=sla_hours)
    summary["age"] = age_label(summary["oldest_age"])
    summary["mine"] = queue.owner_role in user_roles
    summary["owner"] = queue.owner_role.replace("_", " ")
    return summary


def queue_summaries(user) -> list[dict]:
    """One row per registered queue: count, oldest age, SLA breach, owned by this user."""
    mine = roles.user_roles(user)
    overrides = sla_hours_by_queue()
    return [
        _summary(queue, mine, overrides.get(queue.key, queue.sla_hours)) for queue in all_queues()
    ]


def _queue_or_404(key: str) -> ExceptionQueue:
    queue = get_queue(key)
    if queue is None:
        raise Http404(f"No exception queue {key!r}.")
    return queue


@require_GET
@backoffice_view
def queue_index(request):
    context = {"section": "exceptions", "summaries": queue_summaries(request.user)}
    return render_page_or_fragment(
        request,
        page="erp/exceptions.html",
        fragment="erp/partials/queue_summary.html",
        context=context,
    )


def owner_view(request) -> str:
    view = request.GET.get("view", "")
    return view if view in selectors.OWNER_VIEWS else "everyone"


def filtered_rows(request, queue: ExceptionQueue):
    """The queue's rows as the page's filters narrow them (search, the queue's own
    filters, whose items): the page and its CSV export show the same rows."""
    filters = QueueFilterForm(request.GET)
    rows = filters.results(queue.selector(), queue.search_fields)
    extra_filters = [(name, request.GET.get(name, "").strip()) for name in queue.filters]
    for name, value in extra_filters:
        if value:
            rows = queue.filters[name](rows, value)
    rows = selectors.rows_for_owner_view(
        rows, queue_key=queue.key, view=owner_view(request), user=request.user
    )
    return rows.order_by(queue.age_field, "pk"), filters, extra_filters


@require_GET
@backoffice_view
def queue_page(request, key: str):
    queue = _queue_or_404(key)
    rows, filters, extra_filters = filtered_rows(request, queue)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = selectors.attach_claims(queue.key, list(page.object_list))
    may_assign = request.user.has_perm(ASSIGN)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "section": "exceptions",
        "queue": queue,
        "summary": _summary(queue, roles.user_roles(request.user)),
        "filters": filters,
        "extra_filters": extra_filters,
        "owner_view": owner_view(request),
        "owner_views": selectors.OWNER_VIEWS,
        "query": query.urlencode(),
        "page": page,
        "row_actions": [
            action for action in queue.row_actions if request.user.has_perm(action.permission)
        ],
        "workers": list(selectors.queue_workers(queue.owner_role)) if may_assign else [],
        "may_change_sla": request.user.has_perm("erp.change_queuesla"),
    }
    return render_page_or_fragment(
        request, page="erp/queue.html", fragment="erp/partials/queue_results.html", context=context
    )


@require_GET
@backoffice_view
def queue_stats(request, key: str):
    queue = _queue_or_404(key)
    context = {"queue": queue, "summary": _summary(queue, roles.user_roles(request.user))}
    return render(request, "erp/partials/queue_stats.html", context)


def _resolve_failed_message(request, message_id: int, service, done: str):
    """Run a retry/discard service and answer with the row as it now stands.

    HTMX gets the row partial (and an event so counts refresh); without JavaScript the
    person is sent back to the queue with a message.
    """
    forbid_unless_permitted(request.user, "erp.change_outboxmessage")
    queue = _queue_or_404(INTEGRATION_FAILURES)
    note = request.POST.get("note", "").strip()
    try:
        message = service(message_id=message_id, actor=request.user, note=note)
    except NotFound as error:
        raise Http404(error.message) from error
    except DomainError as error:
        raise_if_not_permitted(error)
        return _action_refused(request, queue, message_id, error.message)
    if not wants_fragment(request):
        messages.success(request, f"Message #{message.pk} {done}.")
        return redirect(reverse("exception-queue", args=[queue.key]))
    context = {"queue": queue, "row": message, "action_done": done}
    response = render(request, queue.row_template, context)
    return trigger_client_event(response, QUEUES_CHANGED)


def _action_refused(request, queue: ExceptionQueue, message_id: int, reason: str):
    if not wants_fragment(request):
        messages.error(request, reason)
        return redirect(reverse("exception-queue", args=[queue.key]))
    row = OutboxMessage.objects.select_related("endpoint").get(pk=message_id)
    return render(request, queue.row_template, {"queue": queue, "row": row, "action_error": reason})


@require_POST
@backoffice_view
def retry_outbox_message(request, message_id: int):
    return _resolve_failed_message(
        request, message_id, outbox_services.retry_message, "queued for delivery again"
    )


@require_POST
@backoffice_view
def discard_outbox_message(request, message_id: int):
    return _resolve_failed_message(
        request, message_id, outbox_services.discard_message, "discarded"
    )
