"""Integration credentials in the back office: managers create, scope, rotate and revoke
API tokens; a new key is shown once (kept in the session until that page is shown)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.authtoken.models import Token

from erp import token_usage
from erp.errors import DomainError
from erp.models import ApiArea, ApiToken
from erp.services import api_tokens as services
from erp.token_forms import ApiTokenForm, form_errors
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.forms import add_domain_errors, raise_if_not_permitted
from erp.views.history import record_history

SECTION = "api_tokens"
SHOWN_ONCE = "erp:api-token-key"


def _token_or_404(pk: int) -> ApiToken:
    token = (
        ApiToken.objects.select_related("created_by", "user")
        .prefetch_related("channels")
        .filter(pk=pk)
        .first()
    )
    if token is None:
        raise Http404("No such API token.")
    return token


def _show_once(request, issued) -> None:
    request.session[SHOWN_ONCE] = {"id": issued.token.pk, "key": issued.key}


@require_http_methods(["GET"])
@backoffice_view
def token_list(request):
    forbid_unless_permitted(request.user, "erp.view_apitoken")
    token_usage.flush_token_usage()  # the counts as of now, not as of the last beat
    tokens = ApiToken.objects.select_related("created_by").prefetch_related("channels")
    legacy = Token.objects.select_related("user").order_by("created")
    return render(
        request,
        "erp/api_tokens/list.html",
        {
            "section": SECTION,
            "tokens": tokens,
            "legacy_tokens": legacy,
            "can_add": request.user.has_perm("erp.add_apitoken"),
        },
    )


@require_http_methods(["GET", "POST"])
@backoffice_view
def token_create(request):
    forbid_unless_permitted(request.user, "erp.add_apitoken")
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.create_api_token(
                actor=request.user, reason=form.cleaned_data["reason"] or "created", **form.scope()
            )
        except DomainError as error:
            add_domain_errors(form, form_errors(error))
        else:
            _show_once(request, issued)
            return redirect("api-token-detail", pk=issued.token.pk)
    return render(
        request, "erp/api_tokens/form.html", {"section": SECTION, "form": form, "token": None}
    )


@require_http_methods(["GET"])
@backoffice_view
def token_detail(request, pk: int):
    forbid_unless_permitted(request.user, "erp.view_apitoken")
    token_usage.flush_token_usage()
    token = _token_or_404(pk)
    shown = request.session.get(SHOWN_ONCE)
    key = ""
    if shown and shown.get("id") == token.pk:
        key = shown["key"]
        del request.session[SHOWN_ONCE]  # shown once: a reload no longer has it
    return render(
        request,
        "erp/api_tokens/detail.html",
        {
            "section": SECTION,
            "token": token,
            "key": key,
            "areas": [(label, token.access(value)) for value, label in ApiArea.choices],
            "history": record_history(token, request.GET.get("page", 1)),
            "can_change": request.user.has_perm("erp.change_apitoken") and token.active,
        },
    )


@require_http_methods(["GET", "POST"])
@backoffice_view
def token_edit(request, pk: int):
    forbid_unless_permitted(request.user, "erp.change_apitoken")
    token = _token_or_404(pk)
    if request.method == "POST":
        form = ApiTokenForm(request.POST, require_reason=True)
    else:
        form = ApiTokenForm(initial=ApiTokenForm.initial_for(token), require_reason=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_api_token_scope(
                token=token, actor=request.user, reason=form.cleaned_data["reason"], **form.scope()
            )
        except DomainError as error:
            add_domain_errors(form, form_errors(error))
        else:
            messages.success(
                request, f"Scope of {token.name} saved; it applies to its next request."
            )
            return redirect("api-token-detail", pk=token.pk)
    return render(
        request, "erp/api_tokens/form.html", {"section": SECTION, "form": form, "token": token}
    )


@require_POST
@backoffice_view
def token_rotate(request, pk: int):
    forbid_unless_permitted(request.user, "erp.change_apitoken")
    token = _token_or_404(pk)
    try:
        issued = services.rotate_api_token(
            token=token, actor=request.user, reason=request.POST.get("reason", "")
        )
    except DomainError as error:
        raise_if_not_permitted(error)
        messages.error(request, f"Not rotated: {error.message}")
        return redirect("api-token-detail", pk=token.pk)
    _show_once(request, issued)
    messages.success(request, "Rotated: the old key stopped working.")
    return redirect("api-token-detail", pk=token.pk)


@require_POST
@backoffice_view
def token_revoke(request, pk: int):
    forbid_unless_permitted(request.user, "erp.change_apitoken")
    token = _token_or_404(pk)
    try:
        services.revoke_api_token(
            token=token, actor=request.user, reason=request.POST.get("reason", "")
        )
    except DomainError as error:
        raise_if_not_permitted(error)
        messages.error(request, f"Not revoked: {error.message}")
    else:
        messages.success(request, f"{token.name} is revoked: its next request is refused.")
    return redirect("api-token-detail", pk=token.pk)
