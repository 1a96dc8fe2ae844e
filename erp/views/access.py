"""Who may open the back office at all; finer permissions are checked per view and in
the services."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import resolve_url
from django_htmx.http import HttpResponseClientRedirect

from erp import roles

API_ONLY_MESSAGE = (
    "This is an integration account: it signs in to the API with its token, not to the back office."
)


def is_api_only(user) -> bool:
    return roles.INTEGRATION in roles.user_roles(user) and not user.is_superuser


def backoffice_view(view):
    """Require a signed-in person; integration accounts are refused (API only).

    An HTMX request whose session expired gets a client redirect to the login page,
    so the login form does not get swapped into a table body.
    """

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            if request.htmx:
                current = request.htmx.current_url_abs_path or request.get_full_path()
                login = redirect_to_login(current, resolve_url("login"))
                return HttpResponseClientRedirect(login.url)
            return redirect_to_login(request.get_full_path())
        if is_api_only(request.user):
            raise PermissionDenied(API_ONLY_MESSAGE)
        return view(request, *args, **kwargs)

    return wrapped


def forbid_unless_permitted(user, permission: str) -> None:
    """403 unless `user` holds `permission`; decided here, not by hiding a button."""
    if not user.has_perm(permission):
        raise PermissionDenied(f"Your role does not include {permission}.")
