"""Channel availability: what each listed SKU shows on a channel and which rule shaped
it, the channel's allocation rules (managers edit them) and safety stock at its nodes."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from erp.errors import DomainError
from erp.models import Channel, ChannelListing
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import add_domain_errors, raise_if_not_permitted
from erp.views.rendering import render_page_or_fragment, wants_fragment
from inventory import selectors
from inventory.forms import AllocationRuleForm, AvailabilityFilterForm, SafetyStockForm
from inventory.models import AllocationRule, ChannelAvailability, SafetyStock
from inventory.services import rules as rule_services
from inventory.views.outcomes import PAGE_SIZE, signal_write

VIEW_AVAILABILITY = "inventory.view_channelavailability"
# The availability table reloads itself when a rule or safety stock changes.
AVAILABILITY_CHANGED = "availabilityChanged"
SAFETY_STOCK_ROWS = 50


@require_GET
@backoffice_view
def availability_index(request):
    forbid_unless_permitted(request.user, VIEW_AVAILABILITY)
    channels = (
        Channel.objects.filter(active=True)
        .prefetch_related("eligible_locations")
        .annotate(
            listing_count=Count("listings", filter=Q(listings__active=True), distinct=True),
            rule_count=Count("allocation_rules", distinct=True),
        )
        .order_by("code")
    )
    return render(
        request,
        "inventory/availability_index.html",
        {"section": "availability", "channels": channels},
    )


PAGE = "inventory/availability.html"
RESULTS = "inventory/partials/availability_results.html"
RULES = "inventory/partials/allocation_rules.html"
SAFETY = "inventory/partials/safety_stock.html"


def _availability_context(request, channel: Channel) -> dict:
    """One page of the channel's active listings with their figures computed now."""
    search = AvailabilityFilterForm(request.GET)
    listings = ChannelListing.objects.filter(channel=channel, active=True).select_related("sku")
    term, chosen = search.search(), search.chosen()
    if term:
        listings = listings.filter(
            Q(sku__code__icontains=term)
            | Q(sku__name__icontains=term)
            | Q(channel_sku__icontains=term)
        )
    if chosen["family"]:
        listings = listings.filter(sku__product_family=chosen["family"])
    if chosen["mismatch"]:
        # Every listing's figure now against what was published (a bounded set of queries),
        # then the page shows the ones that differ.
        sku_ids = list(listings.values_list("sku_id", flat=True).distinct())
        figures = selectors.published_against_now(channel=channel, sku_ids=sku_ids)
        listings = listings.filter(
            sku_id__in=[sku_id for sku_id, (sent, now) in figures.items() if sent != now]
        )
    page = Paginator(listings.order_by("sku__code", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    sku_ids = [listing.sku_id for listing in page.object_list]
    figures = selectors.compute_availability(channel=channel, sku_ids=sku_ids) if sku_ids else {}
    published = {
        row.sku_id: row
        for row in ChannelAvailability.objects.filter(channel=channel, sku_id__in=sku_ids)
    }
    rows = [
        (listing, figures[listing.sku_id], published.get(listing.sku_id))
        for listing in page.object_list
    ]
    return {"search": search, "page": page, "rows": rows}


def _rules_context(request, channel: Channel, rule_form, editing) -> dict:
    return {
        "rules": AllocationRule.objects.filter(channel=channel)
        .select_related("sku")
        .order_by("sku__code", "pk"),
        "rule_form": rule_form or AllocationRuleForm(),
        "editing": editing,
        "can_add_rules": request.user.has_perm("inventory.add_allocationrule"),
        "can_change_rules": request.user.has_perm("inventory.change_allocationrule"),
        "can_delete_rules": request.user.has_perm("inventory.delete_allocationrule"),
    }


def _safety_context(request, channel: Channel, safety_form) -> dict:
    nodes = channel.eligible_locations.filter(active=True).order_by("priority", "code")
    settings = (
        SafetyStock.objects.filter(location__in=nodes)
        .select_related("sku", "location")
        .order_by("sku__code", "location__code")
    )
    return {
        "safety_stock": settings[:SAFETY_STOCK_ROWS],
        "safety_stock_all": settings,
        "safety_form": safety_form or SafetyStockForm(nodes=nodes),
        "can_set_safety_stock": request.user.has_perm("inventory.change_safetystock"),
    }


def _render(
    request,
    channel: Channel,
    *,
    fragment: str,
    rule_form=None,
    editing=None,
    safety_form=None,
    **extra,
):
    """The whole page, or for HTMX one panel of it: the table, the rules or safety stock.

    Querysets are lazy, so a panel costs only its own queries; the table's figures are
    computed only when the table is shown.
    """
    context = {
        "section": "availability",
        "channel": channel,
        **_rules_context(request, channel, rule_form, editing),
        **_safety_context(request, channel, safety_form),
        **extra,
    }
    if fragment == RESULTS or not wants_fragment(request):
        context.update(_availability_context(request, channel))
    return render_page_or_fragment(request, page=PAGE, fragment=fragment, context=context)


def _channel_or_404(**lookup) -> Channel:
    return get_object_or_404(Channel.objects.prefetch_related("eligible_locations"), **lookup)


@require_GET
@backoffice_view
def channel_availability(request, code: str):
    forbid_unless_permitted(request.user, VIEW_AVAILABILITY)
    return _render(request, _channel_or_404(code=code), fragment=RESULTS)


def _saved(request, channel: Channel, fragment: str, message: str):
    """After a rule or safety-stock write: the refreshed panel, and the table reloads."""
    if not wants_fragment(request):
        messages.success(request, message)
        return redirect(reverse("stock-availability", args=[channel.code]))
    response = _render(request, channel, fragment=fragment, panel_message=message)
    return signal_write(response, AVAILABILITY_CHANGED)


def _scope(rule: AllocationRule) -> str:
    return f"SKU {rule.sku.code}" if rule.sku_id else "all SKUs"


@require_POST
@backoffice_view
def rule_create(request, channel_id: int):
    forbid_unless_permitted(request.user, "inventory.add_allocationrule")
    channel = _channel_or_404(pk=channel_id)
    form = AllocationRuleForm(request.POST)
    if form.is_valid():
        try:
            rule = rule_services.create_allocation_rule(
                actor=request.user, data={"channel": channel, **form.cleaned_data}
            )
        except DomainError as error:
            add_domain_errors(form, error)
        else:
            return _saved(request, channel, RULES, f"Rule for {_scope(rule)} created.")
    return _render(request, channel, fragment=RULES, rule_form=form)


@require_http_methods(["GET", "POST"])
@backoffice_view
def rule_edit(request, pk: int):
    forbid_unless_permitted(request.user, "inventory.change_allocationrule")
    rule = get_object_or_404(AllocationRule.objects.select_related("sku"), pk=pk)
    channel = _channel_or_404(pk=rule.channel_id)
    form = AllocationRuleForm(request.POST if request.method == "POST" else None, instance=rule)
    if form.is_bound and form.is_valid():
        try:
            rule = rule_services.update_allocation_rule(
                rule=rule, actor=request.user, data=form.cleaned_data
            )
        except DomainError as error:
            # The service may have set values on the instance before refusing them.
            rule = get_object_or_404(AllocationRule.objects.select_related("sku"), pk=pk)
            add_domain_errors(form, error)
        else:
            return _saved(request, channel, RULES, f"Rule for {_scope(rule)} saved.")
    return _render(request, channel, fragment=RULES, rule_form=form, editing=rule)


@require_POST
@backoffice_view
def rule_delete(request, pk: int):
    forbid_unless_permitted(request.user, "inventory.delete_allocationrule")
    rule = get_object_or_404(AllocationRule.objects.select_related("sku"), pk=pk)
    channel = _channel_or_404(pk=rule.channel_id)
    scope = _scope(rule)
    try:
        rule_services.delete_allocation_rule(rule=rule, actor=request.user)
    except DomainError as error:
        raise_if_not_permitted(error)
        return _render(request, channel, fragment=RULES, panel_error=error.message)
    return _saved(request, channel, RULES, f"Rule for {scope} deleted.")


@require_POST
@backoffice_view
def safety_stock_set(request, channel_id: int):
    forbid_unless_permitted(request.user, "inventory.change_safetystock")
    channel = _channel_or_404(pk=channel_id)
    form = SafetyStockForm(request.POST, nodes=channel.eligible_locations.filter(active=True))
    if form.is_valid():
        data = form.cleaned_data
        sku, node, quantity = data["sku"], data["location"], data["quantity"]
        try:
            rule_services.set_safety_stock(
                sku=sku, location=node, quantity=quantity, actor=request.user
            )
        except DomainError as error:
            add_domain_errors(form, error)
        else:
            message = (
                f"Safety stock of {sku.code} at {node.code} set to {quantity}."
                if quantity
                else f"Safety stock of {sku.code} at {node.code} removed."
            )
            return _saved(request, channel, SAFETY, message)
    return _render(request, channel, fragment=SAFETY, safety_form=form)
