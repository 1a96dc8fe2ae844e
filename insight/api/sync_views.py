"""Channel sync health for monitoring tools: the same figures as the back-office page."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from erp.models import Channel, OutboxMessage
from insight.api.sync_serializers import ChannelHealthSerializer
from insight.sync_health import channel_sync_health


class SyncHealthView(GenericAPIView):
    """Every channel with its four directions (orders in; availability, tracking and
    refunds out): last success, backlog, oldest waiting, failures, last error, stale."""

    # Reading needs erp.view_outboxmessage (managers, finance, integrations).
    queryset = OutboxMessage.objects.none()
    serializer_class = ChannelHealthSerializer
    pagination_class = None

    @extend_schema(responses={200: ChannelHealthSerializer(many=True)})
    def get(self, request):
        return Response(ChannelHealthSerializer(channel_sync_health(), many=True).data)


class ChannelSyncHealthView(GenericAPIView):
    """One channel's sync health."""

    queryset = OutboxMessage.objects.none()
    serializer_class = ChannelHealthSerializer

    @extend_schema(responses={200: ChannelHealthSerializer})
    def get(self, request, code: str):
        channel = get_object_or_404(Channel, code=code)
        [health] = channel_sync_health(channels=[channel])
        return Response(ChannelHealthSerializer(health).data)
