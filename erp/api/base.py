"""Base classes for API views: thin wrappers that validate input, call a service and
serialize the result."""

from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from erp.api.idempotency import IdempotentPostMixin


class StrictFieldsMixin:
    """Refuse keys the serializer does not know instead of silently dropping them."""

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
