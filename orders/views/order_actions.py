"""Customer-service actions on one order: each a confirmed POST that calls one service.

Over HTMX the answer is out-of-band panels: after a write every panel of the order page
(and a `queuesChanged` event for the queue counters); after a refusal only the panel
holding the form, bound, open and showing why. Without JavaScript a write redirects to
the order page and a refusal renders it with the form open.
"""

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from erp.errors import DomainError, NotFound
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.exceptions import QUEUES_CHANGED
from erp.views.forms import add_domain_errors
from erp.views.rendering import wants_fragment
from orders.selectors import OrderDetail
from orders.services import cancellation, evaluation, holds, ship_to
from orders.views.order_page import (
    HEADER,
    LINES,
    ORDER_PANELS,
    SHIP_TO,
    action_form,
    detail_or_404,
    line_cancel_form,
    order_context,
)


def _render_panels(request, panels: tuple[str, ...], context: dict):
    response = render(
        request, "orders/partials/order_panels.html", {**context, "panels": panels, "oob": True}
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


def _written(request, order_id: int, done: str):
    detail = detail_or_404(order_id)
    done = f"{done} — the order is {detail.order.get_state_display().lower()}."
    if not wants_fragment(request):
        messages.success(request, done)
        return redirect("orders:detail", order_id)
    response = _render_panels(request, ORDER_PANELS, order_context(request, detail, done=done))
    return trigger_client_event(response, QUEUES_CHANGED)


def _focus_first_error(form: forms.Form) -> None:
    """Put the cursor back where the correction is needed (htmx honours autofocus)."""
    for name in form.errors:
        if name in form.fields:
            form.fields[name].widget.attrs["autofocus"] = True
            return


def _refused(request, detail: OrderDetail, action: str, form, panel: str, line_id=None):
    """Only the form's panel changes, unless the page was stale (the order moved on and
    no longer offers the action): then every panel catches up, the refusal on top."""
    _focus_first_error(form)
    context = order_context(request, detail, refused=(action, form), refused_line=line_id)
    if not wants_fragment(request):
        response = render(request, "orders/order_detail.html", context)
        patch_vary_headers(response, ["HX-Request"])
        return response
    return _render_panels(request, ORDER_PANELS if context["stale_refusal"] else (panel,), context)


def _perform(
    request,
    detail: OrderDetail,
    *,
    action: str,
    form: forms.Form,
    run: Callable[[dict], object],
    panel: str,
    done: str | Callable[[dict], str],
    line_id: int | None = None,
):
    """Validate the form, run the service, and answer with the panels as they now are."""
    if form.is_valid():
        try:
            run(form.cleaned_data)
        except NotFound as error:
            raise Http404(error.message) from error
        except DomainError as error:
            add_domain_errors(form, error)
        else:
            done = done(form.cleaned_data) if callable(done) else done
            return _written(request, detail.order.pk, done)
    return _refused(request, detail, action, form, panel, line_id)


@require_POST
@backoffice_view
def release_order(request, order_id: int):
    forbid_unless_permitted(request.user, "orders.release_order")
    detail = detail_or_404(order_id)
    return _perform(
        request,
        detail,
        action="release",
        form=action_form("release", detail, request.POST),
        run=lambda data: holds.release_order(
            order_id=order_id, actor=request.user, note=data["note"]
        ),
        panel=HEADER,
        done="Release done",
    )


@require_POST
@backoffice_view
def hold_order(request, order_id: int):
    forbid_unless_permitted(request.user, "orders.change_order")
    detail = detail_or_404(order_id)
    return _perform(
        request,
        detail,
        action="hold",
        form=action_form("hold", detail, request.POST),
        run=lambda data: holds.hold_order(order_id=order_id, actor=request.user, note=data["note"]),
        panel=HEADER,
        done="Hold placed",
    )


@require_POST
@backoffice_view
def cancel_order(request, order_id: int):
    forbid_unless_permitted(request.user, "orders.cancel_order")
    detail = detail_or_404(order_id)
    return _perform(
        request,
        detail,
        action="cancel",
        form=action_form("cancel", detail, request.POST),
        run=lambda data: cancellation.cancel_order(
            order_id=order_id, actor=request.user, reason=data["reason"]
        ),
        panel=HEADER,
        done="Order cancelled",
    )


@require_POST
@backoffice_view
def reroute_order(request, order_id: int):
    forbid_unless_permitted(request.user, "orders.change_order")
    detail = detail_or_404(order_id)
    return _perform(
        request,
        detail,
        action="reroute",
        form=action_form("reroute", detail, request.POST),
        run=lambda data: evaluation.reroute_order(order_id=order_id, actor=request.user),
        panel=HEADER,
        done="Re-routed",
    )


@require_POST
@backoffice_view
def edit_ship_to(request, order_id: int):
    forbid_unless_permitted(request.user, "orders.change_order")
    detail = detail_or_404(order_id)
    form = action_form("ship_to", detail, request.POST)
    if form.is_valid() and not form.changed_data:
        form.add_error(None, "Nothing changed: edit a field of the address first.")
    return _perform(
        request,
        detail,
        action="ship_to",
        form=form,
        run=lambda data: ship_to.edit_ship_to(
            order_id=order_id,
            actor=request.user,
            address={name: data[name] for name in form.changed_data},
        ),
        panel=SHIP_TO,
        done="Address saved",
    )


@require_POST
@backoffice_view
def cancel_line(request, order_id: int, line_id: int):
    forbid_unless_permitted(request.user, "orders.cancel_order")
    detail = detail_or_404(order_id)
    line = next((line for line in detail.lines if line.pk == line_id), None)
    if line is None:
        raise Http404("No such line on this order.")
    form = line_cancel_form(line, request.POST)
    return _perform(
        request,
        detail,
        action="cancel_line",
        form=form,
        run=lambda data: cancellation.cancel_line(
            line_id=line_id, actor=request.user, quantity=data["quantity"], reason=data["reason"]
        ),
        panel=LINES,
        done=lambda data: f"Line {line.line_number}: {data['quantity']} cancelled",
        line_id=line_id,
    )
