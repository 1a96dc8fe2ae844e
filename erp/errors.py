"""Domain exceptions raised by services.

One DRF exception handler (erp.api.errors) and one back-office helper
(erp.views.forms) turn them into 4xx responses and inline messages.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str | None
    code: str
    message: str

    def as_dict(self) -> dict:
        return {"field": self.field, "code": self.code, "message": self.message}


class DomainError(Exception):
    status_code = 400
    default_code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.errors = [FieldError(field, code or self.default_code, message)]

    @property
    def message(self) -> str:
        return self.errors[0].message


class ValidationFailed(DomainError):
    """One or more field-level errors; nothing was written."""

    @classmethod
    def from_errors(cls, errors: list[FieldError]) -> "ValidationFailed":
        exc = cls(errors[0].message, field=errors[0].field, code=errors[0].code)
        exc.errors = list(errors)
        return exc

    @classmethod
    def from_django(cls, error, *, prefix: str = "") -> "ValidationFailed":
        """Build from a django.core.exceptions.ValidationError (full_clean)."""
        errors = []
        if hasattr(error, "error_dict"):
            for field, field_errors in error.error_dict.items():
                name = None if field == "__all__" else f"{prefix}{field}"
                for item in field_errors:
                    message = item.message % item.params if item.params else item.message
                    errors.append(FieldError(name, item.code or "invalid", str(message)))
        else:
            for item in error.error_list:
                message = item.message % item.params if item.params else item.message
                errors.append(
                    FieldError(prefix.rstrip(".") or None, item.code or "invalid", str(message))
                )
        return cls.from_errors(errors)


class NotPermitted(DomainError):
    status_code = 403
    default_code = "not_permitted"


class NotFound(DomainError):
    status_code = 404
    default_code = "not_found"


class Conflict(DomainError):
    status_code = 409
    default_code = "conflict"


class PayloadTooLarge(DomainError):
    status_code = 413
    default_code = "too_large"
