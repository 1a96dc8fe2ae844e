"""Exception-queue ownership over the API: claim, assign and release an item, as the
back office does (the same services)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from erp.api.base import StrictFieldsMixin, id_field
from erp.api.permissions import ScopedIsAuthenticated
from erp.models import QueueClaim
from erp.services import queue_claims


class QueueClaimSerializer(serializers.ModelSerializer):
    queue = serializers.CharField(source="queue_key")
    owner = serializers.CharField(source="owner.username")
    assigned_by = serializers.CharField(source="assigned_by.username", default=None)

    class Meta:
        model = QueueClaim
        fields = ["queue", "object_id", "owner", "claimed_at", "assigned_by"]


class AssignSerializer(StrictFieldsMixin, serializers.Serializer):
    assignee = id_field(help_text="The user id to give the item to.")


class _ItemView(APIView):
    # The services check claim/assign permissions; any signed-in account may ask.
    permission_classes = [ScopedIsAuthenticated]
    queryset = QueueClaim.objects.none()


class ClaimItemView(_ItemView):
    @extend_schema(
        request=None,
        responses={
            200: QueueClaimSerializer,
            404: OpenApiResponse(description="no such queue, or the item left it"),
            409: OpenApiResponse(description="someone else has the item (named)"),
        },
        description="Claim one item of an exception queue for yourself.",
    )
    def post(self, request, key: str, object_id: int):
        claim = queue_claims.claim_item(queue_key=key, object_id=object_id, actor=request.user)
        return Response(QueueClaimSerializer(claim).data)


class AssignItemView(_ItemView):
    @extend_schema(
        request=AssignSerializer,
        responses={200: QueueClaimSerializer},
        description="Give an item to someone (managers).",
    )
    def post(self, request, key: str, object_id: int):
        serializer = AssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        claim = queue_claims.assign_item(
            queue_key=key,
            object_id=object_id,
            assignee_id=serializer.validated_data["assignee"],
            actor=request.user,
        )
        return Response(QueueClaimSerializer(claim).data)


class ReleaseItemView(_ItemView):
    @extend_schema(
        request=None,
        responses={204: None, 409: OpenApiResponse(description="nobody has the item")},
        description="Give an item back to its queue (its owner, or a manager).",
    )
    def post(self, request, key: str, object_id: int):
        queue_claims.release_item(queue_key=key, object_id=object_id, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
