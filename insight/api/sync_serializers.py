from rest_framework import serializers


class DirectionHealthSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(
        choices=["orders_in", "availability_out", "tracking_out", "refunds_out"]
    )
    label = serializers.CharField()
    configured = serializers.BooleanField(
        help_text="An endpoint (or, for orders in, an active channel) is set up."
    )
    threshold_minutes = serializers.IntegerField(help_text="Stale beyond this age.")
    last_success = serializers.DateTimeField(allow_null=True)
    backlog = serializers.IntegerField(
        help_text="Messages waiting (orders in: refused payloads unresolved)."
    )
    oldest_pending = serializers.DateTimeField(allow_null=True)
    failed = serializers.IntegerField(help_text="Dead-lettered messages now.")
    failures_24h = serializers.IntegerField()
    last_error = serializers.CharField(allow_blank=True)
    last_error_at = serializers.DateTimeField(allow_null=True)
    stale = serializers.BooleanField()
    stale_reason = serializers.CharField(allow_blank=True)


class ChannelHealthSerializer(serializers.Serializer):
    channel = serializers.CharField(source="channel.code")
    name = serializers.CharField(source="channel.name")
    kind = serializers.CharField(source="channel.kind")
    active = serializers.BooleanField(source="channel.active")
    stale = serializers.BooleanField()
    directions = serializers.SerializerMethodField()

    def get_directions(self, health) -> list[dict]:
        return DirectionHealthSerializer(
            [row.as_dict() for row in health.directions], many=True
        ).data

    class Meta:
        ref_name = "ChannelSyncHealth"
