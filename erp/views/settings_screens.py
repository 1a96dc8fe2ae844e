"""Approval thresholds on the back-office kit: one policy per approval kind (write-offs,
adjustments, refunds, POs, order splits...), edited with a reason and a preview of the
pending requests the new threshold concerns."""

from erp import forms, selectors
from erp.models import ApprovalPolicy
from erp.services.approvals import update_approval_policy
from erp.views.records import Screen, register_screens

APPROVAL_POLICIES = Screen(
    key="approval-policy",
    path="settings/approval-thresholds",
    title="Approval thresholds",
    noun="Approval threshold",
    model=ApprovalPolicy,
    form_class=forms.ApprovalPolicyForm,
    filter_form_class=forms.ApprovalPolicyFilterForm,
    rows=lambda filters: filters.results(ApprovalPolicy.objects.all()),
    queryset=lambda: ApprovalPolicy.objects.all(),
    create=None,
    update=update_approval_policy,
    update_argument="policy",
    section="settings",
    group="Approvals",
    crumbs=(("Settings", "settings"),),
    describe=lambda policy: policy.label,
    export_columns=(
        ("kind", lambda policy: policy.kind),
        ("label", lambda policy: policy.label),
        ("threshold", lambda policy: policy.threshold),
        ("approver permission", lambda policy: policy.permission),
        ("active", lambda policy: policy.active),
    ),
    preview=lambda policy, data: selectors.approval_policy_effect(
        policy, threshold=data["threshold"], active=data["active"]
    ),
)
register_screens(APPROVAL_POLICIES)
