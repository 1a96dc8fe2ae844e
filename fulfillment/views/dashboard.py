"""The warehouse dashboard, per node: today's waves with their pick progress, orders past
their ship-by, the same-day queue of strict channels, pickers' lines per hour, and the
"Build waves" action."""

from datetime import datetime, time

from django.db.models import Q
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from erp.errors import DomainError
from erp.exports import export_format
from erp.list_export import Column, export_rows
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import add_domain_errors
from erp.views.rendering import render_page_or_fragment, wants_fragment
from fulfillment import selectors
from fulfillment.forms import BuildWavesForm, node_choice
from fulfillment.models import Wave
from fulfillment.services import waves as wave_services
from fulfillment.views.outcomes import after_write, signal_write
from orders.models import Order

VIEW_WAVES = "fulfillment.view_wave"
BUILD_WAVES = "fulfillment.add_wave"
LATE_SHOWN = 25


def _same_day_orders(node, now):
    """Orders of strict-penalty channels due by the end of today and not shipped yet,
    at this node: the ones a marketplace penalises if they miss today's trucks."""
    local = timezone.localtime(now)
    end_of_day = datetime.combine(local.date(), time.max, tzinfo=local.tzinfo)
    orders = Order.objects.filter(
        Q(ship_by__lte=end_of_day),
        channel__fulfillment_policy__strict_penalties=True,
        state__in=selectors.NOT_SHIPPED,
    )
    if node is not None:
        orders = orders.filter(
            lines__allocations__location=node, lines__allocations__active=True
        ).distinct()
    return orders.select_related("channel").order_by("ship_by", "pk")


WAVE_COLUMNS = [
    Column("Wave", "pk", display=lambda pk: Wave(pk=pk).number),
    Column("Node", "location__code"),
    Column("State", "state", choices=Wave.State.choices),
    Column("Same day", "same_day"),
    Column("Priority", "priority"),
    Column("Cutoff", "cutoff_at"),
    Column("Orders", "order_count"),
    Column("Pick lines", "lines_total"),
    Column("Pick lines done", "lines_picked"),
    Column("Units", "units_total"),
    Column("Units picked", "units_picked"),
    Column("Created at", "created_at"),
    Column("Completed at", "completed_at"),
]


def _waves_context(request, node, *, build_form=None, built=None) -> dict:
    return {
        "node": node,
        "waves": list(selectors.todays_waves(location=node)) if node else [],
        "build_form": build_form or BuildWavesForm(initial={"node": node.code if node else None}),
        "can_build": request.user.has_perm(BUILD_WAVES),
        "built": built,
    }


def _dashboard_context(request, nodes, node) -> dict:
    now = timezone.now()
    late = list(selectors.late_orders(location=node, now=now)[: LATE_SHOWN + 1]) if node else []
    return {
        "section": "fulfillment",
        "nodes": nodes,
        "now": now,
        "late_orders": late[:LATE_SHOWN],
        "more_late": len(late) > LATE_SHOWN,
        "same_day": list(_same_day_orders(node, now)[:LATE_SHOWN]) if node else [],
        "productivity": selectors.picker_productivity(location=node, now=now) if node else [],
        **_waves_context(request, node),
    }


@require_GET
@backoffice_view
def dashboard(request):
    forbid_unless_permitted(request.user, VIEW_WAVES)
    nodes, node = node_choice(request.GET)
    return render_page_or_fragment(
        request,
        page="fulfillment/dashboard.html",
        fragment="fulfillment/partials/dashboard_body.html",
        context=_dashboard_context(request, nodes, node),
    )


@require_GET
@backoffice_view
def waves_panel(request):
    """Today's waves at a node; the panel reloads itself when the floor changes."""
    forbid_unless_permitted(request.user, VIEW_WAVES)
    _, node = node_choice(request.GET)
    if fmt := export_format(request):
        waves = selectors.todays_waves(location=node) if node else Wave.objects.none()
        return export_rows(f"waves-{node.code if node else 'none'}", waves, WAVE_COLUMNS, fmt)
    return render(request, "fulfillment/partials/waves_panel.html", _waves_context(request, node))


@require_POST
@backoffice_view
def build_waves(request):
    """Wave every order waiting at the node (or the most urgent `max_orders`)."""
    forbid_unless_permitted(request.user, BUILD_WAVES)
    form = BuildWavesForm(request.POST)
    node = form.cleaned_data["node"] if form.is_valid() else None
    built = None
    if node is not None:
        try:
            built = wave_services.build_waves(
                location=node, actor=request.user, max_orders=form.cleaned_data["max_orders"]
            )
        except DomainError as error:
            add_domain_errors(form, error)
    if built is None:
        if not wants_fragment(request):
            nodes, chosen = node_choice({"node": node.code if node else ""})
            context = _dashboard_context(request, nodes, chosen)
            context["build_form"] = form
            return render(request, "fulfillment/dashboard.html", context)
        context = _waves_context(request, node, build_form=form)
        return render(request, "fulfillment/partials/waves_panel.html", context)
    message = _built_message(node, built)
    if not wants_fragment(request):
        return after_write(request, f"{reverse('fulfillment:dashboard')}?node={node.code}", message)
    context = _waves_context(request, node, built=message)
    response = render(request, "fulfillment/partials/waves_panel.html", context)
    return signal_write(response)


def _built_message(node, built) -> str:
    if not built:
        return f"No order is waiting to be picked at {node.code}."
    orders = sum(wave.order_count for wave in built)
    lines = sum(wave.line_count for wave in built)
    numbers = ", ".join(wave.number for wave in built)
    message = f"Built {numbers} at {node.code}: {orders} order(s), {lines} line(s)."
    unslotted = sorted({code for wave in built for code in getattr(wave, "unslotted_skus", [])})
    if unslotted:
        message += f" Without a slot here (picked last): {', '.join(unslotted)}."
    return message
