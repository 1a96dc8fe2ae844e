"""The order page: what customer service needs to decide about one order, in panels that
the actions re-render in place."""

import json
from dataclasses import dataclass

from django import forms
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404
from django.utils import timezone
from django.utils.text import capfirst
from django.views.decorators.http import require_GET

from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.history import HistoryPage, record_history
from erp.views.rendering import render_page_or_fragment
from orders import selectors
from orders.forms import (
    CancelLineForm,
    CancelOrderForm,
    HoldForm,
    ReleaseForm,
    RerouteForm,
    ShipToForm,
)
from orders.models import Order, OrderLine, OrderState
from orders.page_actions import actions_for
from orders.selectors import OrderDetail
from orders.services.evaluation import ROUTABLE
from orders.services.timeline import CANCELLABLE

S = OrderState

HEADER = "orders/partials/order_header.html"
HOLDS = "orders/partials/order_holds.html"
SHIP_TO = "orders/partials/order_ship_to.html"
LINES = "orders/partials/order_lines.html"
ROUTING = "orders/partials/order_routing.html"
TIMELINE = "orders/partials/order_timeline.html"
HISTORY = "orders/partials/order_history.html"
# Any action can change the state, and the state decides what every panel offers, so a
# write re-renders them all; only the raw payload never changes here.
ORDER_PANELS = (HEADER, HOLDS, SHIP_TO, LINES, ROUTING, TIMELINE, HISTORY)

PLAN_LABELS = {
    "single_node": "Single node",
    "dropship": "Drop-ship",
    "split": "Split",
    "split_pending_approval": "Split awaiting approval",
    "backorder": "Backordered",
    "none": "Nothing routed",
}
# The states in which the page offers each action. The services are the authority and
# refuse, with their reason shown on the form, an order that moved on meanwhile.
# Every state change stamps one of these; the timeline already says when, so the edit
# history leaves them out and shows what a person (or a service) actually changed.
STAMP_FIELDS = ("state_changed_at", "released_at", "shipped_at", "cancelled_at", "escalated_at")
RELEASABLE = {S.ON_HOLD, S.PARTIALLY_ALLOCATED, S.BACKORDERED, S.ALLOCATED, S.READY}
ADDRESS_EDITABLE = CANCELLABLE - {S.PICKING, S.PACKED}


ACTION_FORMS = {
    "release": ReleaseForm,
    "hold": HoldForm,
    "cancel": CancelOrderForm,
    "reroute": RerouteForm,
}


def action_form(name: str, detail: OrderDetail, data=None) -> forms.Form:
    """The form of one order action, with ids unique on the page."""
    auto_id = f"{name.replace('_', '-')}-%s"
    if name == "ship_to":
        return ShipToForm(data, instance=detail.order, auto_id=auto_id)
    return ACTION_FORMS[name](data, auto_id=auto_id)


def line_cancel_form(line: OrderLine, data=None) -> CancelLineForm:
    form = CancelLineForm(
        data, auto_id=f"line-{line.pk}-%s", initial={"quantity": line.open_quantity}
    )
    form.fields["quantity"].widget.attrs["max"] = line.open_quantity
    return form


@dataclass
class LineRow:
    line: OrderLine
    cancel_form: CancelLineForm
    cancel_open: bool = False


def offered_actions(user, state: str) -> dict[str, bool]:
    before_shipping = state in CANCELLABLE
    return {
        "release": user.has_perm("orders.release_order") and state in RELEASABLE,
        "hold": user.has_perm("orders.change_order") and before_shipping,
        "cancel": user.has_perm("orders.cancel_order") and before_shipping,
        "reroute": user.has_perm("orders.change_order") and state in ROUTABLE,
        "ship_to": user.has_perm("orders.change_order") and state in ADDRESS_EDITABLE,
    }


def offer_of(action: str) -> str:
    """The entry of `offered_actions` that shows an action's form."""
    return "cancel" if action == "cancel_line" else action


def order_history(order: Order) -> HistoryPage:
    history = record_history(order, 1)
    stamps = {capfirst(Order._meta.get_field(name).verbose_name) for name in STAMP_FIELDS}
    for entry in history.entries:
        entry.changes = [change for change in entry.changes if change.label not in stamps]
    return history


def detail_or_404(order_id: int) -> OrderDetail:
    detail = selectors.order_detail(order_id=order_id)
    if detail is None:
        raise Http404("No such order.")
    return detail


def order_context(
    request,
    detail: OrderDetail,
    *,
    refused: tuple[str, forms.Form] | None = None,
    refused_line: int | None = None,
    done: str = "",
) -> dict:
    """Everything the order page and its panels render.

    `refused` is the action whose input a service (or the form) turned down: its form
    comes back bound, open and with the errors; `refused_line` names the line when that
    action is a line cancellation. When the order has meanwhile moved to a state that
    no longer offers the action, the refusal is shown above the page instead
    (`stale_refusal`), since the form itself is gone.
    """
    order = detail.order
    action_forms = {name: action_form(name, detail) for name in (*ACTION_FORMS, "ship_to")}
    open_action = ""
    if refused:
        open_action, form = refused
        if open_action != "cancel_line":
            action_forms[open_action] = form
    line_rows = [
        LineRow(line, refused[1], True)
        if refused_line == line.pk
        else LineRow(line, line_cancel_form(line))
        for line in detail.lines
    ]
    offered = offered_actions(request.user, order.state)
    stale_refusal = bool(refused) and not offered[offer_of(open_action)]
    return {
        "section": "orders",
        "detail": detail,
        "order": order,
        "line_rows": line_rows,
        "action_forms": action_forms,
        "open_action": open_action,
        "offered": offered,
        "offers_any": any(offered.values()),
        "page_actions": actions_for(request.user, order),
        "stale_refusal": refused[1].non_field_errors() if stale_refusal else [],
        "routing_plan": PLAN_LABELS.get(detail.routing.plan, detail.routing.plan)
        if detail.routing
        else "",
        "history": order_history(order),
        "payload_json": json.dumps(order.raw_payload, indent=2, cls=DjangoJSONEncoder),
        "now": timezone.now(),
        "done": done,
    }


@require_GET
@backoffice_view
def order_detail(request, order_id: int):
    forbid_unless_permitted(request.user, "orders.view_order")
    detail = detail_or_404(order_id)
    return render_page_or_fragment(
        request,
        page="orders/order_detail.html",
        fragment="orders/partials/order_body.html",
        context=order_context(request, detail),
    )
