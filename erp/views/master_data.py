"""Master-data screens (SKUs, locations, channels, listings): list with instant search
and filters, detail with history, create and edit through the master-data services.

The four screens differ only in their `Screen` description; one set of views serves
them all, so a rule about how a record page behaves lives in one place.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Model, QuerySet
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from erp import forms, selectors
from erp.errors import DomainError
from erp.models import Channel, ChannelListing, Location, Sku
from erp.services import master_data as services
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import add_domain_errors
from erp.views.history import record_history
from erp.views.rendering import render_page_or_fragment

PAGE_SIZE = 50
SKU_SUGGESTIONS = 20


@dataclass(frozen=True)
class Screen:
    """One master-data screen: its model, forms, selector and services.

    `update_argument` is the keyword the update service takes the record under
    (`update_sku(sku=...)`, `update_listing(listing=...)`).
    """

    key: str
    path: str
    title: str
    noun: str
    model: type[Model]
    form_class: type[forms.ParsingModelForm]
    filter_form_class: type[forms.ListFilterForm]
    list_selector: Callable[..., QuerySet]
    detail_queryset: Callable[[], QuerySet]
    create: Callable[..., Model]
    update: Callable[..., Model]
    update_argument: str

    def permission(self, action: str) -> str:
        return f"erp.{action}_{self.model._meta.model_name}"

    @property
    def urls(self) -> dict[str, str]:
        return {action: f"{self.key}-{action}" for action in URL_ACTIONS}

    @property
    def results_template(self) -> str:
        return f"erp/partials/{self.key}_results.html"

    @property
    def details_template(self) -> str:
        return f"erp/partials/{self.key}_details.html"

    def url(self, action: str, *args) -> str:
        return reverse(f"{self.key}-{action}", args=args)


URL_ACTIONS = ("list", "create", "detail", "edit", "history")

SCREENS = (
    Screen(
        key="sku",
        path="skus",
        title="SKUs",
        noun="SKU",
        model=Sku,
        form_class=forms.SkuForm,
        filter_form_class=forms.SkuFilterForm,
        list_selector=selectors.sku_list,
        detail_queryset=lambda: Sku.objects.prefetch_related("substitutes", "listings__channel"),
        create=services.create_sku,
        update=services.update_sku,
        update_argument="sku",
    ),
    Screen(
        key="location",
        path="locations",
        title="Locations",
        noun="Location",
        model=Location,
        form_class=forms.LocationForm,
        filter_form_class=forms.LocationFilterForm,
        list_selector=selectors.location_list,
        detail_queryset=lambda: Location.objects.prefetch_related("channels"),
        create=services.create_location,
        update=services.update_location,
        update_argument="location",
    ),
    Screen(
        key="channel",
        path="channels",
        title="Channels",
        noun="Channel",
        model=Channel,
        form_class=forms.ChannelForm,
        filter_form_class=forms.ChannelFilterForm,
        list_selector=selectors.channel_list,
        detail_queryset=lambda: (
            Channel.objects.select_related("availability_endpoint")
            .prefetch_related("eligible_locations")
            .annotate(listing_count=Count("listings"))
        ),
        create=services.create_channel,
        update=services.update_channel,
        update_argument="channel",
    ),
    Screen(
        key="listing",
        path="listings",
        title="Listings",
        noun="Listing",
        model=ChannelListing,
        form_class=forms.ListingForm,
        filter_form_class=forms.ListingFilterForm,
        list_selector=selectors.listing_list,
        detail_queryset=lambda: ChannelListing.objects.select_related("channel", "sku"),
        create=services.create_listing,
        update=services.update_listing,
        update_argument="listing",
    ),
)


@require_GET
@backoffice_view
def record_list(request, screen: Screen):
    forbid_unless_permitted(request.user, screen.permission("view"))
    filters = screen.filter_form_class(request.GET)
    rows = filters.results(screen.list_selector)
    if not rows.ordered:
        # Grouping (listing counts) drops Meta.ordering; pages must not overlap.
        rows = rows.order_by(*screen.model._meta.ordering, "pk")
    context = {
        "section": screen.key,
        "screen": screen,
        "filters": filters,
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        "can_add": request.user.has_perm(screen.permission("add")),
        "can_change": request.user.has_perm(screen.permission("change")),
        "base_currency": settings.BASE_CURRENCY,
    }
    return render_page_or_fragment(
        request, page="erp/record_list.html", fragment=screen.results_template, context=context
    )


def _render_record(request, screen: Screen, record: Model, tab: str, extra: dict):
    context = {
        "section": screen.key,
        "screen": screen,
        "record": record,
        "tab": tab,
        "can_change": request.user.has_perm(screen.permission("change")),
        "base_currency": settings.BASE_CURRENCY,
        **extra,
    }
    return render_page_or_fragment(
        request,
        page="erp/record_detail.html",
        fragment="erp/partials/record_tabs.html",
        context=context,
    )


@require_GET
@backoffice_view
def record_detail(request, screen: Screen, pk: int):
    forbid_unless_permitted(request.user, screen.permission("view"))
    record = get_object_or_404(screen.detail_queryset(), pk=pk)
    return _render_record(request, screen, record, "details", {})


@require_GET
@backoffice_view
def record_history_tab(request, screen: Screen, pk: int):
    forbid_unless_permitted(request.user, screen.permission("view"))
    record = get_object_or_404(screen.model, pk=pk)
    history = record_history(record, request.GET.get("page"))
    return _render_record(request, screen, record, "history", {"history": history})


def _saved(request, screen: Screen, record: Model, verb: str):
    messages.success(request, f"{screen.noun} {record} {verb}.")
    url = screen.url("detail", record.pk)
    # An HTMX form post must make the browser navigate, not swap the detail page into the form.
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _render_form(request, screen: Screen, form, record: Model | None):
    context = {
        "section": screen.key,
        "screen": screen,
        "form": form,
        "record": record,
        "action_url": screen.url("edit", record.pk) if record else screen.url("create"),
        "cancel_url": screen.url("detail", record.pk) if record else screen.url("list"),
    }
    return render_page_or_fragment(
        request,
        page="erp/record_form.html",
        fragment="erp/partials/record_form.html",
        context=context,
    )


@require_http_methods(["GET", "POST"])
@backoffice_view
def record_create(request, screen: Screen):
    forbid_unless_permitted(request.user, screen.permission("add"))
    form = screen.form_class(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            record = screen.create(actor=request.user, data=form.cleaned_data)
        except DomainError as error:
            add_domain_errors(form, error)
        else:
            return _saved(request, screen, record, "created")
    return _render_form(request, screen, form, None)


@require_http_methods(["GET", "POST"])
@backoffice_view
def record_edit(request, screen: Screen, pk: int):
    forbid_unless_permitted(request.user, screen.permission("change"))
    record = get_object_or_404(screen.model, pk=pk)
    bound = request.POST if request.method == "POST" else None
    form = screen.form_class(bound, instance=record)
    if form.is_bound and form.is_valid():
        try:
            record = screen.update(
                **{screen.update_argument: record}, actor=request.user, data=form.cleaned_data
            )
        except DomainError as error:
            # The service may have set values on the instance before refusing them.
            record = get_object_or_404(screen.model, pk=pk)
            add_domain_errors(form, error)
        else:
            return _saved(request, screen, record, "saved")
    return _render_form(request, screen, form, record)


@require_GET
@backoffice_view
def sku_options(request):
    """Datalist suggestions for a SKU-code input: active SKUs matching what was typed."""
    forbid_unless_permitted(request.user, "erp.view_sku")
    typed = (request.GET.get("sku") or request.GET.get("q") or "").strip()
    skus = selectors.sku_list(search=typed).filter(active=True)[:SKU_SUGGESTIONS] if typed else []
    return render(request, "erp/partials/sku_options.html", {"skus": skus})
