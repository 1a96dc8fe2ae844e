"""A refused order payload: why it was refused, the body as received, and marking it
resolved once customer service has dealt with it."""

import json

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from erp.errors import DomainError, NotFound
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.exceptions import QUEUES_CHANGED
from erp.views.forms import add_domain_errors, raise_if_not_permitted
from erp.views.rendering import render_page_or_fragment, wants_fragment
from orders import selectors
from orders.forms import ReplayIngestionErrorForm, ResolveIngestionErrorForm
from orders.models import IngestionError
from orders.services.ingestion_errors import replay_ingestion_error, resolve_ingestion_error

QUEUE_KEY = "ingestion-errors"


def _pretty_body(raw_body: str) -> str:
    """Indented when the body is JSON; as received otherwise (it may be cut at 64 KiB, or
    not be JSON at all, which is often why it was refused)."""
    try:
        return json.dumps(json.loads(raw_body), indent=2, ensure_ascii=False)
    except ValueError:
        return raw_body


def _error_or_404(error_id: int) -> IngestionError:
    error = selectors.ingestion_error(error_id=error_id)
    if error is None:
        raise Http404("No such ingestion error.")
    return error


def _render(
    request,
    error: IngestionError,
    form: ResolveIngestionErrorForm,
    done: str = "",
    replay: ReplayIngestionErrorForm | None = None,
    replay_errors=(),
    status: int = 200,
):
    body = _pretty_body(error.raw_body)
    context = {
        "section": "exceptions",
        "error": error,
        "body": body,
        "form": form,
        "can_resolve": request.user.has_perm("orders.change_order"),
        "can_replay": request.user.has_perm("orders.change_order")
        and request.user.has_perm("orders.add_order"),
        "replay_form": replay or ReplayIngestionErrorForm(initial={"body": body}),
        "replay_errors": replay_errors,
        "queue_key": QUEUE_KEY,
        "done": done,
    }
    return render_page_or_fragment(
        request,
        page="orders/ingestion_error_detail.html",
        fragment="orders/partials/ingestion_error_status.html",
        context=context,
        status=status,
    )


@require_POST
@backoffice_view
def replay_error(request, error_id: int):
    """Replay the payload: as received ("Replay as received") or as edited in the box.
    A refusal comes back as the page with every field error listed above the box,
    and nothing written; success opens the order it became."""
    forbid_unless_permitted(request.user, "orders.add_order")
    error = _error_or_404(error_id)
    form = ReplayIngestionErrorForm(request.POST)
    form.is_valid()
    body = None if "as_received" in request.POST else form.cleaned_data.get("body", "")
    try:
        result = replay_ingestion_error(error_id=error.pk, actor=request.user, body=body)
    except NotFound as refused:
        raise Http404(refused.message) from refused
    except DomainError as refused:
        raise_if_not_permitted(refused)
        resolve = ResolveIngestionErrorForm(auto_id="resolve-%s")
        return _render(
            request, error, resolve, replay=form, replay_errors=refused.errors, status=400
        )
    order = result.order
    messages.success(
        request, f"Ingestion error #{error.pk} replayed: order {order.order_number} created."
    )
    return redirect("orders:detail", order.pk)


@require_GET
@backoffice_view
def ingestion_error_detail(request, error_id: int):
    forbid_unless_permitted(request.user, "orders.view_ingestionerror")
    error = _error_or_404(error_id)
    return _render(request, error, ResolveIngestionErrorForm(auto_id="resolve-%s"))


@require_POST
@backoffice_view
def resolve_error(request, error_id: int):
    forbid_unless_permitted(request.user, "orders.change_order")
    error = _error_or_404(error_id)
    form = ResolveIngestionErrorForm(request.POST, auto_id="resolve-%s")
    if form.is_valid():
        try:
            error = resolve_ingestion_error(
                error_id=error_id, actor=request.user, note=form.cleaned_data["note"]
            )
        except NotFound as refused:
            raise Http404(refused.message) from refused
        except DomainError as refused:
            add_domain_errors(form, refused)
        else:
            return _resolved(request, error)
    return _render(request, error, form)


def _resolved(request, error: IngestionError):
    done = f"Ingestion error #{error.pk} resolved."
    if not wants_fragment(request):
        messages.success(request, done)
        return redirect(reverse("exception-queue", args=[QUEUE_KEY]))
    form = ResolveIngestionErrorForm(auto_id="resolve-%s")
    return trigger_client_event(_render(request, error, form, done), QUEUES_CHANGED)
