"""The base of every API filter: one FilterSet class, so every filter refuses what the
database cannot compare (see `erp.input_bounds`) with a 400 on that parameter.

Every FilterSet of the API subclasses `FilterSet` here, and views that only name
`filterset_fields` get one built on it by `FilterBackend` (the default backend).
"""

import django_filters
from django.core.exceptions import ValidationError
from django.db import models
from django_filters.filterset import FILTER_FOR_DBFIELD_DEFAULTS
from django_filters.rest_framework import DjangoFilterBackend

from erp.errors import ValidationFailed
from erp.input_bounds import storable_datetime
from erp.token_scope import scoped_to_token_channels


class IsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 date-time, compared as the same instant in UTC."""

    def to_python(self, value):
        moment = super().to_python(value)
        return None if moment is None else storable_datetime(moment)


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = IsoDateTimeField


class FilterSet(django_filters.FilterSet):
    FILTER_DEFAULTS = {
        **FILTER_FOR_DBFIELD_DEFAULTS,
        models.DateTimeField: {"filter_class": IsoDateTimeFilter},
    }


class FilterBackend(DjangoFilterBackend):
    """The filters a request names, and a channel-scoped API token's channels: lists of
    records that belong to a channel show only the token's (erp.token_scope)."""

    filterset_base = FilterSet

    def filter_queryset(self, request, queryset, view):
        queryset = super().filter_queryset(request, queryset, view)
        return scoped_to_token_channels(request.user, queryset)


def parse_moment(value: str, *, field: str):
    """A query parameter read outside a FilterSet as an ISO 8601 date-time (UTC)."""
    try:
        return IsoDateTimeField().clean(value)
    except ValidationError as error:
        code = error.error_list[0].code or "invalid"
        message = error.messages[0] if code != "invalid" else "Use an ISO 8601 timestamp."
        raise ValidationFailed(message, field=field, code=code) from None
