"""Fulfillment master data: carriers, carrier services, rate cards, boxes, slots and
channel fulfillment policies. A list with instant search and filters, a record page
with its change history (where the model keeps one), create and edit through the
master-data services.

The screens differ only in their `Screen` description; one set of views serves them
all, the way the core master-data screens (erp.views.master_data) work.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from erp.errors import DomainError
from erp.forms import ParsingModelForm
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import add_domain_errors
from erp.views.history import record_history
from erp.views.rendering import render_page_or_fragment
from fulfillment import forms
from fulfillment.models import (
    Box,
    Carrier,
    CarrierService,
    ChannelFulfillmentPolicy,
    RateCard,
    Slot,
)
from fulfillment.services import master_data as services
from fulfillment.services.waves import assign_slot

PAGE_SIZE = 50
URL_ACTIONS = ("list", "create", "detail", "edit", "history")


@dataclass(frozen=True)
class Screen:
    """One master-data screen: its model, forms, list queryset and services.

    `update_argument` is the keyword the update service takes the record under
    (`update_carrier(carrier=...)`).
    """

    key: str
    path: str
    title: str
    noun: str
    model: type[Model]
    form_class: type[ParsingModelForm]
    filter_form_class: type[forms.RecordFilterForm]
    queryset: Callable[[], QuerySet]
    create: Callable[..., Model]
    update: Callable[..., Model]
    update_argument: str
    sku_input: bool = False
    edit_form_class: type[ParsingModelForm] | None = None
    describe: Callable[[Model], str] = str

    def permission(self, action: str) -> str:
        return f"fulfillment.{action}_{self.model._meta.model_name}"

    def route_name(self, action: str) -> str:
        return f"{self.key}-{action}"

    @property
    def urls(self) -> dict[str, str]:
        return {action: f"fulfillment:{self.route_name(action)}" for action in URL_ACTIONS}

    @property
    def results_template(self) -> str:
        return f"fulfillment/partials/master/{self.key}_results.html"

    @property
    def details_template(self) -> str:
        return f"fulfillment/partials/master/{self.key}_details.html"

    @property
    def has_history(self) -> bool:
        return hasattr(self.model, "history")

    @property
    def has_active(self) -> bool:
        return any(field.name == "active" for field in self.model._meta.fields)

    def url(self, action: str, *args) -> str:
        return reverse(self.urls[action], args=args)


SCREENS = (
    Screen(
        key="carrier",
        path="carriers",
        title="Carriers",
        noun="Carrier",
        model=Carrier,
        form_class=forms.CarrierForm,
        filter_form_class=forms.CarrierFilterForm,
        queryset=lambda: Carrier.objects.all(),
        create=services.create_carrier,
        update=services.update_carrier,
        update_argument="carrier",
    ),
    Screen(
        key="carrier-service",
        path="carrier-services",
        title="Carrier services",
        noun="Carrier service",
        model=CarrierService,
        form_class=forms.CarrierServiceForm,
        filter_form_class=forms.CarrierServiceFilterForm,
        queryset=lambda: CarrierService.objects.select_related("carrier"),
        create=services.create_carrier_service,
        update=services.update_carrier_service,
        update_argument="service",
    ),
    Screen(
        key="rate-card",
        path="rate-cards",
        title="Rate cards",
        noun="Rate card",
        model=RateCard,
        form_class=forms.RateCardForm,
        filter_form_class=forms.RateCardFilterForm,
        queryset=lambda: RateCard.objects.select_related("service__carrier").order_by(
            "service__carrier__code", "service__code", "origin_region", "zone", "min_weight_grams"
        ),
        create=services.create_rate_card,
        update=services.update_rate_card,
        update_argument="rate_card",
    ),
    Screen(
        key="box",
        path="boxes",
        title="Boxes",
        noun="Box",
        model=Box,
        form_class=forms.BoxForm,
        filter_form_class=forms.BoxFilterForm,
        queryset=lambda: Box.objects.all(),
        create=services.create_box,
        update=services.update_box,
        update_argument="box",
    ),
    Screen(
        key="slot",
        path="slots",
        title="Slots",
        noun="Slot",
        model=Slot,
        form_class=forms.SlotForm,
        filter_form_class=forms.SlotFilterForm,
        queryset=lambda: Slot.objects.select_related("location", "sku").order_by(
            "location__code", "sort_key"
        ),
        create=lambda *, actor, data: assign_slot(actor=actor, **data),
        update=lambda *, slot, actor, data: assign_slot(
            sku=slot.sku, location=slot.location, code=data["code"], actor=actor
        ),
        update_argument="slot",
        sku_input=True,
        edit_form_class=forms.SlotMoveForm,
        describe=lambda slot: f"{slot.code} ({slot.sku.code} at {slot.location.code})",
    ),
    Screen(
        key="policy",
        path="channel-policies",
        title="Channel fulfillment policies",
        noun="Channel policy",
        model=ChannelFulfillmentPolicy,
        form_class=forms.PolicyForm,
        filter_form_class=forms.PolicyFilterForm,
        queryset=lambda: ChannelFulfillmentPolicy.objects.select_related(
            "channel", "tracking_endpoint", "notification_endpoint"
        ).order_by("channel__code"),
        create=services.create_channel_policy,
        update=services.update_channel_policy,
        update_argument="policy",
        describe=lambda policy: f"for {policy.channel.code}",
    ),
)


@require_GET
@backoffice_view
def record_list(request, screen: Screen):
    forbid_unless_permitted(request.user, screen.permission("view"))
    filters = screen.filter_form_class(request.GET)
    rows = filters.results(screen.queryset())
    if not rows.ordered:
        rows = rows.order_by(*screen.model._meta.ordering, "pk")
    context = {
        "section": "fulfillment",
        "screen": screen,
        "screens": SCREENS,
        "filters": filters,
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        "can_add": request.user.has_perm(screen.permission("add")),
        "can_change": request.user.has_perm(screen.permission("change")),
    }
    return render_page_or_fragment(
        request,
        page="fulfillment/master/record_list.html",
        fragment=screen.results_template,
        context=context,
    )


def _render_record(request, screen: Screen, record: Model, tab: str, extra: dict):
    context = {
        "section": "fulfillment",
        "screen": screen,
        "record": record,
        "tab": tab,
        "can_change": request.user.has_perm(screen.permission("change")),
        **extra,
    }
    return render_page_or_fragment(
        request,
        page="fulfillment/master/record_detail.html",
        fragment="fulfillment/partials/master/record_tabs.html",
        context=context,
    )


@require_GET
@backoffice_view
def record_detail(request, screen: Screen, pk: int):
    forbid_unless_permitted(request.user, screen.permission("view"))
    record = get_object_or_404(screen.queryset(), pk=pk)
    return _render_record(request, screen, record, "details", {})


@require_GET
@backoffice_view
def record_history_tab(request, screen: Screen, pk: int):
    forbid_unless_permitted(request.user, screen.permission("view"))
    if not screen.has_history:
        return redirect(screen.url("detail", pk))
    record = get_object_or_404(screen.queryset(), pk=pk)
    history = record_history(record, request.GET.get("page"))
    return _render_record(request, screen, record, "history", {"history": history})


def _saved(request, screen: Screen, record: Model, verb: str):
    messages.success(request, f"{screen.noun} {screen.describe(record)} {verb}.")
    url = screen.url("detail", record.pk)
    # An HTMX form post must make the browser navigate, not swap the record into the form.
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _render_form(request, screen: Screen, form, record: Model | None):
    context = {
        "section": "fulfillment",
        "screen": screen,
        "form": form,
        "record": record,
        "action_url": screen.url("edit", record.pk) if record else screen.url("create"),
        "cancel_url": screen.url("detail", record.pk) if record else screen.url("list"),
    }
    return render_page_or_fragment(
        request,
        page="fulfillment/master/record_form.html",
        fragment="fulfillment/partials/master/record_form.html",
        context=context,
    )


@require_http_methods(["GET", "POST"])
@backoffice_view
def record_create(request, screen: Screen):
    forbid_unless_permitted(request.user, screen.permission("add"))
    if request.method == "POST":
        form = screen.form_class(request.POST)
    else:
        # Links prefill fields: a slot for ?location=WH-EAST&sku=TEE-01.
        form = screen.form_class(initial=request.GET.dict())
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
    record = get_object_or_404(screen.queryset(), pk=pk)
    bound = request.POST if request.method == "POST" else None
    form = (screen.edit_form_class or screen.form_class)(bound, instance=record)
    if form.is_bound and form.is_valid():
        try:
            record = screen.update(
                **{screen.update_argument: record}, actor=request.user, data=form.cleaned_data
            )
        except DomainError as error:
            # The service may have set values on the instance before refusing them.
            record = get_object_or_404(screen.queryset(), pk=pk)
            add_domain_errors(form, error)
        else:
            return _saved(request, screen, record, "saved")
    return _render_form(request, screen, form, record)
