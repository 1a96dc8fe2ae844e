"""Base classes for API views: thin wrappers that validate input, call a service and
serialize the result."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from erp.api.idempotency import IdempotentPostMixin
from erp.input_bounds import ID_MAX, ID_MIN, INTEGER_MAX, INTEGER_MIN, storable_datetime


class StorableDateTimeField(serializers.DateTimeField):
    """A date-time refused (400) when PostgreSQL could not store it (see
    `erp.input_bounds.storable_datetime`), kept as the same instant in UTC."""

    def enforce_timezone(self, value):
        try:
            value = storable_datetime(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages, code=error.code) from None
        return super().enforce_timezone(value)


def bound_to_columns(field) -> None:
    """An integer field that does not name its bounds gets those of the narrowest
    integer column (`erp.input_bounds`), so an out-of-range number is a 400 on the field,
    never an overflow in PostgreSQL; list items are bounded the same way. Date-times
    become storable ones."""
    if isinstance(field, serializers.ListField):
        bound_to_columns(field.child)
    if type(field) is serializers.DateTimeField:
        # The subclass adds behaviour only, no state: the field keeps its arguments.
        field.__class__ = StorableDateTimeField
    if not isinstance(field, serializers.IntegerField) or field.read_only:
        return
    if field.max_value is None:
        field.max_value = INTEGER_MAX
        message = field.error_messages["max_value"].format(max_value=INTEGER_MAX)
        field.validators.append(MaxValueValidator(INTEGER_MAX, message=message))
    if field.min_value is None:
        field.min_value = INTEGER_MIN
        message = field.error_messages["min_value"].format(min_value=INTEGER_MIN)
        field.validators.append(MinValueValidator(INTEGER_MIN, message=message))


def id_field(**kwargs) -> serializers.IntegerField:
    """A reference to a record by its primary key (a BigAutoField)."""
    return serializers.IntegerField(min_value=ID_MIN, max_value=ID_MAX, **kwargs)


class StrictFieldsMixin:
    """The base of every input serializer: refuse keys the serializer does not know
    instead of silently dropping them, and bound every integer to its column."""

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            bound_to_columns(field)
        return fields

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [
                            serializers.ErrorDetail(
                                "This field is not recognised.", code="unknown_field"
                            )
                        ]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


class ServiceViewSet(
    IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """List/retrieve through a selector; create/update through services.

    Subclasses name `create_service(actor=, data=)` and
    `update_service(instance, actor=, data=)`.
    """

    input_serializer_class = None

    def get_input_serializer(self, *args, **kwargs):
        kwargs.setdefault("context", self.get_serializer_context())
        return (self.input_serializer_class or self.get_serializer_class())(*args, **kwargs)

    def create(self, request, *args, **kwargs):
        serializer = self.get_input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = type(self).create_service(actor=request.user, data=serializer.validated_data)
        return Response(
            self.get_serializer(self._reload(instance)).data, status=status.HTTP_201_CREATED
        )

    def update(self, request, *args, **kwargs):
        instance = self.get_object()
        partial = kwargs.pop("partial", False)
        serializer = self.get_input_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        instance = type(self).update_service(
            instance, actor=request.user, data=serializer.validated_data
        )
        return Response(self.get_serializer(self._reload(instance)).data)

    def partial_update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)

    def _reload(self, instance):
        return self.get_queryset().get(pk=instance.pk)


class ReasonMixin(serializers.Serializer):
    """Settings are changed with a reason, kept in the history with the actor."""

    reason = serializers.CharField(
        write_only=True, max_length=100, help_text="Why: kept in the record's history."
    )


class SettingViewSet(ServiceViewSet):
    """Settings through their services with the `reason` every write carries:
    `create_service(actor=, data=, reason=)`, `update_service(instance, actor=, data=,
    reason=)`. The same services as the back office's settings screens."""

    def create(self, request, *args, **kwargs):
        serializer = self.get_input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        reason = data.pop("reason")
        instance = type(self).create_service(actor=request.user, data=data, reason=reason)
        return Response(
            self.get_serializer(self._reload(instance)).data, status=status.HTTP_201_CREATED
        )

    def update(self, request, *args, **kwargs):
        instance = self.get_object()
        partial = kwargs.pop("partial", False)
        serializer = self.get_input_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        reason = data.pop("reason", "")
        instance = type(self).update_service(instance, actor=request.user, data=data, reason=reason)
        return Response(self.get_serializer(self._reload(instance)).data)
