"""The back-office kit for record screens: master data and settings.

One `Screen` describes a kind of record (its model, forms, list rows, services, CSV
columns and preview); one set of views serves every screen of every app: a list with
instant search, filters and a CSV export of the filtered rows, a record page with its
change history (who, when, why), and a create/edit form whose errors come back inline
over HTMX. Every save asks for a reason, which the service records as the history
entry's change reason. An optional preview shows, before saving, the rows the change
would affect now.

Permissions are the model's own (`<app>.view_/add_/change_<model>`), checked here for
the page and again in the service for the write; a role without `change` reads.
Apps declare their screens and route them with `screen_urls`; `register_screens` puts
them on the settings index, grouped.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from erp.errors import DomainError
from erp.exports import export_format, export_response
from erp.input_bounds import change_reason_max_length
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import add_domain_errors
from erp.views.history import record_history
from erp.views.rendering import render_page_or_fragment

PAGE_SIZE = 50
URL_ACTIONS = ("list", "export", "create", "detail", "edit", "history", "preview", "preview-new")
REASON_FIELD = "reason"
REASON_MAX = 100  # django-simple-history's change-reason column, for models without history
EXPORT_CHUNK = 500

Column = tuple[str, Callable[[Model], object]]


@dataclass(frozen=True)
class Screen:
    """One kind of record on the back office.

    `rows(filters)` returns the filtered list queryset; `queryset()` the one a record page
    and the edit form load from. `create(actor=, data=, reason=)` and
    `update(<update_argument>=record, actor=, data=, reason=)` are the services' calls.
    `export_columns` are (header, value of a record) pairs: the CSV's columns and, for
    screens using the kit's own results and details templates, the table's and the record
    page's. `preview(record, data)` returns sentences about the rows the change would affect
    now (record is None when creating). `namespace` is the URL namespace of the app
    that routes the screen ("" for none).
    """

    key: str
    path: str
    title: str
    noun: str
    model: type[Model]
    form_class: type[forms.ModelForm]
    filter_form_class: type[forms.Form]
    rows: Callable[[forms.Form], QuerySet]
    queryset: Callable[[], QuerySet]
    create: Callable[..., Model] | None
    update: Callable[..., Model]
    update_argument: str
    results_template: str = "erp/partials/record_results.html"
    details_template: str = "erp/partials/record_fields.html"
    namespace: str = ""
    section: str = ""
    group: str = ""
    crumbs: tuple[tuple[str, str], ...] = ()
    edit_form_class: type[forms.ModelForm] | None = None
    describe: Callable[[Model], str] = str
    sku_input: bool = False
    stylesheet: str = ""
    export_columns: tuple[Column, ...] = ()
    preview: Callable[[Model | None, dict], list[str]] | None = None
    initial_from_query: bool = False
    create_query: Callable[[forms.Form], str] | None = None
    extra_context: dict = field(default_factory=dict)

    def permission(self, action: str) -> str:
        return f"{self.model._meta.app_label}.{action}_{self.model._meta.model_name}"

    def route_name(self, action: str) -> str:
        return f"{self.key}-{action}"

    @property
    def urls(self) -> dict[str, str]:
        prefix = f"{self.namespace}:" if self.namespace else ""
        return {action: f"{prefix}{self.route_name(action)}" for action in URL_ACTIONS}

    @property
    def has_history(self) -> bool:
        return hasattr(self.model, "history")

    @property
    def has_active(self) -> bool:
        return any(f.name == "active" for f in self.model._meta.fields)

    @property
    def can_create(self) -> bool:
        return self.create is not None

    def url(self, action: str, *args) -> str:
        return reverse(self.urls[action], args=args)

    def columns(self) -> tuple[Column, ...]:
        if self.export_columns:
            return self.export_columns
        return tuple(
            (f.verbose_name, _attribute(f.attname))
            for f in self.model._meta.concrete_fields
            if not f.is_relation
        )


def _attribute(name: str) -> Callable[[Model], object]:
    return lambda record: getattr(record, name)


def screen_urls(screen: Screen, *, prefix: str = "") -> list:
    """The routes of one screen: list, export, create, record, edit, history, previews."""
    base = prefix + screen.path.strip("/")
    views = {
        "list": ("", record_list),
        "export": ("export.csv", record_export),
        "create": ("new/", record_create),
        "preview-new": ("new/preview/", record_preview),
        "detail": ("<int:pk>/", record_detail),
        "edit": ("<int:pk>/edit/", record_edit),
        "preview": ("<int:pk>/preview/", record_preview),
        "history": ("<int:pk>/history/", record_history_tab),
    }
    return [
        path(f"{base}/{suffix}", view, {"screen": screen}, name=screen.route_name(action))
        for action, (suffix, view) in views.items()
    ]


# --- the settings index ------------------------------------------------------------------

_registered: list[Screen] = []


def register_screens(*screens: Screen) -> None:
    """List screens on the settings index under their `group` (idempotent per key)."""
    known = {(s.namespace, s.key) for s in _registered}
    _registered.extend(s for s in screens if (s.namespace, s.key) not in known)


def registered_screens() -> list[Screen]:
    return list(_registered)


def _visible(user, screens: Sequence[Screen]) -> list[Screen]:
    return [s for s in screens if user.has_perm(s.permission("view"))]


def _group_of(user, screen: Screen) -> list[Screen]:
    return _visible(user, [s for s in _registered if s.group and s.group == screen.group])


@require_GET
@backoffice_view
def settings_index(request):
    groups: dict[str, list[Screen]] = {}
    for screen in _visible(request.user, _registered):
        groups.setdefault(screen.group or "Other", []).append(screen)
    if not groups:
        forbid_unless_permitted(request.user, "erp.view_approvalpolicy")
    return render(request, "erp/settings_index.html", {"section": "settings", "groups": groups})


# --- list and export ---------------------------------------------------------------------


def _list_rows(screen: Screen, filters) -> QuerySet:
    rows = screen.rows(filters)
    if not rows.ordered:
        # Grouping (counts in the selector) drops Meta.ordering; pages must not overlap.
        rows = rows.order_by(*screen.model._meta.ordering, "pk")
    return rows


def _context(request, screen: Screen, **values) -> dict:
    return {
        "section": screen.section or screen.key,
        "screen": screen,
        "siblings": _group_of(request.user, screen),
        "base_currency": settings.BASE_CURRENCY,
        **screen.extra_context,
        **values,
    }


@require_GET
@backoffice_view
def record_list(request, screen: Screen):
    forbid_unless_permitted(request.user, screen.permission("view"))
    filters = screen.filter_form_class(request.GET)
    page = Paginator(_list_rows(screen, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    columns = screen.columns()
    context = _context(
        request,
        screen,
        filters=filters,
        page=page,
        headers=[header for header, _ in columns],
        table=[(record, [value(record) for _, value in columns]) for record in page.object_list],
        can_add=screen.can_create and request.user.has_perm(screen.permission("add")),
        can_change=request.user.has_perm(screen.permission("change")),
        export_query=request.GET.urlencode(),
        create_query=screen.create_query(filters) if screen.create_query else "",
    )
    return render_page_or_fragment(
        request, page="erp/record_list.html", fragment=screen.results_template, context=context
    )


@require_GET
@backoffice_view
def record_export(request, screen: Screen):
    """The filtered list, every row (not one page), as streamed CSV or `?export=xlsx`."""
    forbid_unless_permitted(request.user, screen.permission("view"))
    filters = screen.filter_form_class(request.GET)
    rows = _list_rows(screen, filters)
    columns = screen.columns()
    lines = (
        [value(record) for _, value in columns] for record in rows.iterator(chunk_size=EXPORT_CHUNK)
    )
    header = [str(title) for title, _ in columns]
    return export_response(export_format(request, default="csv"), screen.title, header, lines)


# --- record page and history ---------------------------------------------------------------


def _render_record(request, screen: Screen, record: Model, tab: str, extra: dict):
    context = _context(
        request,
        screen,
        record=record,
        record_title=screen.describe(record),
        fields=[(header, value(record)) for header, value in screen.columns()],
        tab=tab,
        can_change=request.user.has_perm(screen.permission("change")),
        **extra,
    )
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
    record = get_object_or_404(screen.queryset(), pk=pk)
    return _render_record(request, screen, record, "details", {})


@require_GET
@backoffice_view
def record_history_tab(request, screen: Screen, pk: int):
    forbid_unless_permitted(request.user, screen.permission("view"))
    if not screen.has_history:
        return redirect(screen.url("detail", pk))
    # The history names the record, not its related rows: no prefetches.
    record = get_object_or_404(screen.queryset().prefetch_related(None), pk=pk)
    history = record_history(record, request.GET.get("page"))
    return _render_record(request, screen, record, "history", {"history": history})


# --- create, edit, preview -----------------------------------------------------------------


def _bind(screen: Screen, request, record: Model | None):
    """The record form plus the reason every save asks for."""
    form_class = (screen.edit_form_class or screen.form_class) if record else screen.form_class
    if request.method == "POST":
        form = form_class(request.POST, instance=record) if record else form_class(request.POST)
    elif record:
        form = form_class(instance=record)
    elif screen.initial_from_query:
        # Links prefill fields: a slot for ?location=WH-EAST&sku=TEE-01.
        form = form_class(initial=request.GET.dict())
    else:
        form = form_class()
    limit = change_reason_max_length(screen.model) if screen.has_history else REASON_MAX
    form.fields[REASON_FIELD] = forms.CharField(
        label="Reason for this change",
        max_length=limit,
        help_text="Kept in the history with your name and the time.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    return form


def _data_and_reason(form) -> tuple[dict, str]:
    data = dict(form.cleaned_data)
    reason = data.pop(REASON_FIELD).strip()
    return data, reason


def _saved(request, screen: Screen, record: Model, verb: str):
    messages.success(request, f"{screen.noun} {screen.describe(record)} {verb}.")
    url = screen.url("detail", record.pk)
    # An HTMX form post must make the browser navigate, not swap the record into the form.
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _render_form(request, screen: Screen, form, record: Model | None):
    context = _context(
        request,
        screen,
        form=form,
        record=record,
        record_title=screen.describe(record) if record else "",
        action_url=screen.url("edit", record.pk) if record else screen.url("create"),
        cancel_url=screen.url("detail", record.pk) if record else screen.url("list"),
        preview_url=(
            (screen.url("preview", record.pk) if record else screen.url("preview-new"))
            if screen.preview
            else ""
        ),
    )
    return render_page_or_fragment(
        request,
        page="erp/record_form.html",
        fragment="erp/partials/record_form.html",
        context=context,
    )


def _refused(request, screen, form, record):
    # 200 with the errors inline: htmx swaps only 2xx bodies by default.
    return _render_form(request, screen, form, record)


@require_http_methods(["GET", "POST"])
@backoffice_view
def record_create(request, screen: Screen):
    forbid_unless_permitted(request.user, screen.permission("add"))
    if not screen.can_create:
        return redirect(screen.url("list"))
    form = _bind(screen, request, None)
    if not form.is_bound:
        return _render_form(request, screen, form, None)
    if form.is_valid():
        data, reason = _data_and_reason(form)
        try:
            record = screen.create(actor=request.user, data=data, reason=reason)
        except DomainError as error:
            add_domain_errors(form, error)
        else:
            return _saved(request, screen, record, "created")
    return _refused(request, screen, form, None)


@require_http_methods(["GET", "POST"])
@backoffice_view
def record_edit(request, screen: Screen, pk: int):
    forbid_unless_permitted(request.user, screen.permission("change"))
    record = get_object_or_404(screen.queryset(), pk=pk)
    form = _bind(screen, request, record)
    if not form.is_bound:
        return _render_form(request, screen, form, record)
    if form.is_valid():
        data, reason = _data_and_reason(form)
        try:
            record = screen.update(
                **{screen.update_argument: record}, actor=request.user, data=data, reason=reason
            )
        except DomainError as error:
            # The service may have set values on the instance before refusing them.
            record = get_object_or_404(screen.queryset(), pk=pk)
            add_domain_errors(form, error)
        else:
            return _saved(request, screen, record, "saved")
    return _refused(request, screen, form, record)


@require_POST
@backoffice_view
def record_preview(request, screen: Screen, pk: int | None = None):
    """What the form's values would affect now; nothing is written."""
    action = "change" if pk else "add"
    forbid_unless_permitted(request.user, screen.permission(action))
    if screen.preview is None:
        return redirect(screen.url("list"))
    record = get_object_or_404(screen.queryset(), pk=pk) if pk else None
    form = _bind(screen, request, record)
    form.fields[REASON_FIELD].required = False
    lines = []
    if form.is_valid():
        data, _ = _data_and_reason(form)
        lines = screen.preview(record, data)
    response = render(
        request,
        "erp/partials/record_preview.html",
        {"lines": lines, "valid": form.is_valid(), "screen": screen},
    )
    response["Vary"] = "HX-Request"
    return response
