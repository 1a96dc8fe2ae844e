"""Put a service's domain errors back on the form that produced its input."""

from django.core.exceptions import PermissionDenied

from erp.errors import DomainError, NotPermitted


def raise_if_not_permitted(error: DomainError) -> None:
    """A service refusing the actor's role is a 403, never an inline form message."""
    if isinstance(error, NotPermitted):
        raise PermissionDenied(error.message) from error


def add_domain_errors(form, error: DomainError) -> None:
    """Each FieldError goes under its field; errors about the whole record (or about a
    field the form does not show) go to the top of the form."""
    raise_if_not_permitted(error)
    for field_error in error.errors:
        field = field_error.field if field_error.field in form.fields else None
        form.add_error(field, field_error.message)
