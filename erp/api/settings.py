"""Approval thresholds over the API: read them, change one with a reason (the same
service as the back office's screen, `erp.services.approvals.update_approval_policy`)."""

from rest_framework import serializers

from erp.api.base import ReasonMixin, SettingViewSet, StrictFieldsMixin
from erp.models import ApprovalPolicy
from erp.services.approvals import update_approval_policy


class ApprovalPolicySerializer(StrictFieldsMixin, ReasonMixin, serializers.ModelSerializer):
    class Meta:
        model = ApprovalPolicy
        fields = ["id", "kind", "label", "threshold", "permission", "active", "reason"]
        read_only_fields = ["id", "kind", "permission"]


class ApprovalPolicyViewSet(SettingViewSet):
    """One policy per approval kind, looked up by kind; requests above the threshold wait."""

    serializer_class = ApprovalPolicySerializer
    queryset = ApprovalPolicy.objects.all()
    filterset_fields = ["kind", "active"]
    lookup_field = "kind"
    http_method_names = ["get", "put", "patch", "head", "options"]
    update_service = staticmethod(lambda policy, **kw: update_approval_policy(policy=policy, **kw))
