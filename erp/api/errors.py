"""One error format for the whole API: {"errors": [{"field", "code", "message"}]}."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from erp.errors import DomainError


def _flatten(detail, field: str | None) -> list[dict]:
    if isinstance(detail, dict):
        errors = []
        for key, value in detail.items():
            if key in ("non_field_errors", "detail"):
                name = field
            elif field is None:
                name = str(key)
            elif isinstance(key, int) or str(key).isdigit():
                name = f"{field}[{key}]"
            else:
                name = f"{field}.{key}"
            errors.extend(_flatten(value, name))
        return errors
    if isinstance(detail, list):
        if any(isinstance(item, dict) for item in detail):
            errors = []
            for index, item in enumerate(detail):
                if item:
                    errors.extend(_flatten(item, f"{field}[{index}]" if field else f"[{index}]"))
            return errors
        return [error for item in detail for error in _flatten(item, field)]
    code = getattr(detail, "code", None) or "invalid"
    return [{"field": field, "code": code, "message": str(detail)}]


def error_response(errors: list[dict], status_code: int, headers=None) -> Response:
    return Response({"errors": errors}, status=status_code, headers=headers)


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return error_response([error.as_dict() for error in exc.errors], exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail, None)
    else:
        errors = [
            {
                "field": None,
                "code": exc.get_codes() if isinstance(exc.get_codes(), str) else "error",
                "message": str(exc.detail),
            }
        ]
    response.data = {"errors": errors}
    if response.status_code == status.HTTP_401_UNAUTHORIZED and "WWW-Authenticate" not in response:
        response["WWW-Authenticate"] = "Token"
    return response


def not_found(request, exception=None):
    """Django's 404 for a path no route matches: the API answers in its own format."""
    if request.path_info.startswith("/api/"):
        return JsonResponse(
            {"errors": [{"field": None, "code": "not_found", "message": "Not found."}]},
            status=404,
        )
    return page_not_found(request, exception)
