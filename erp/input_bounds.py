"""What the database can store, checked where input enters (API fields, filters, forms).

PostgreSQL refuses a NUL character in text, an integer outside its column's range, a
text longer than its `varchar` and a timestamp offset beyond ±15:59. Input that would
reach it in such a shape is refused at the edge with a field error instead, so that a
service never meets it and no request ends in a server error.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, models
from django.utils import timezone

# The narrowest integer column a number may land in when a field does not say which.
INTEGER_MIN, INTEGER_MAX = -(2**31), 2**31 - 1
# Primary keys and references to them (BigAutoField).
ID_MIN, ID_MAX = 1, 2**63 - 1

MAX_UTC_OFFSET = timedelta(hours=15, minutes=59)

NUL = "\x00"
NUL_MESSAGE = "Text may not contain NUL (\\u0000) characters."


def integer_range(model_field: models.Field) -> tuple[int | None, int | None]:
    """The (min, max) a value of this integer column may take in the database."""
    low, high = connection.ops.integer_field_range(model_field.get_internal_type())
    return low, high


def decimal_fits(model_field: models.DecimalField, value: Decimal) -> bool:
    """Whether a value (already rounded to the column's places) fits `numeric(digits, places)`."""
    whole_digits = model_field.max_digits - model_field.decimal_places
    return abs(value) < Decimal(10) ** whole_digits


def max_length(model, field_name: str) -> int | None:
    """The `max_length` of the column a text lands in (None for unbounded text)."""
    return model._meta.get_field(field_name).max_length


def change_reason_max_length(model) -> int | None:
    """A note that a service records as the history entry's change reason lands in
    django-simple-history's `history_change_reason` column."""
    return max_length(model.history.model, "history_change_reason")


def storable_datetime(value: datetime) -> datetime:
    """The same instant in UTC. PostgreSQL refuses UTC offsets beyond ±15:59 that Python
    parses (e.g. +16:00): they are refused here with the same limit, and the instant must
    stay within the years Python represents."""
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        raise ValidationError("Use a UTC offset between -15:59 and +15:59.", code="invalid_offset")
    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value.astimezone(UTC)
    except OverflowError:
        raise ValidationError(
            "This date-time is out of the supported range.", code="out_of_range"
        ) from None
