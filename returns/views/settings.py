"""Return policies and reasons on the back-office kit (erp.views.records). Managers
edit them with a reason and a preview of the open RMAs they reach; the other roles read.
"""

from erp.views.records import Screen, register_screens
from returns import forms, selectors
from returns.models import ReturnPolicy, ReturnReason
from returns.services import policies as services

GROUP = "Returns"


def _screen(*, key, queryset, **values) -> Screen:
    return Screen(
        key=key,
        queryset=queryset,
        rows=lambda filters: filters.results(queryset()),
        namespace="returns",
        section="settings",
        group=GROUP,
        crumbs=(("Settings", "settings"),),
        stylesheet="returns/returns.css",
        **values,
    )


def _policy_preview(policy, data):
    if policy is not None:
        channel, family = policy.channel, policy.product_family
    else:
        channel, family = data.get("channel"), (data.get("product_family") or "").strip()
    return selectors.return_policy_effect(channel=channel, product_family=family, data=data)


RETURN_POLICIES = _screen(
    key="return-policy",
    path="settings/return-policies",
    title="Return policies",
    noun="Return policy",
    model=ReturnPolicy,
    form_class=forms.ReturnPolicyForm,
    edit_form_class=forms.ReturnPolicyEditForm,
    filter_form_class=forms.ReturnPolicyFilterForm,
    queryset=lambda: ReturnPolicy.objects.select_related("channel", "refund_endpoint"),
    create=services.create_return_policy,
    update=services.update_return_policy,
    update_argument="policy",
    describe=lambda p: f"{p.channel.code} {p.product_family or 'channel-wide'} return policy",
    export_columns=(
        ("channel", lambda p: p.channel.code),
        ("product family", lambda p: p.product_family or "(channel-wide)"),
        ("window days", lambda p: p.window_days),
        ("receipt expected days", lambda p: p.receipt_expected_days),
        ("return shipping paid by", lambda p: p.get_return_shipping_paid_by_display()),
        ("restocking fee %", lambda p: p.restocking_fee_percent),
        ("refund timing", lambda p: p.get_refund_timing_display()),
        ("never restock", lambda p: p.never_restock),
        ("always inspect serials", lambda p: p.always_inspect_serials),
        ("refund confirmations to", lambda p: p.refund_endpoint.code if p.refund_endpoint else ""),
    ),
    preview=_policy_preview,
)

RETURN_REASONS = _screen(
    key="return-reason",
    path="settings/return-reasons",
    title="Return reasons",
    noun="Return reason",
    model=ReturnReason,
    form_class=forms.ReturnReasonForm,
    edit_form_class=forms.ReturnReasonEditForm,
    filter_form_class=forms.ReturnReasonFilterForm,
    queryset=lambda: ReturnReason.objects.all(),
    create=services.create_return_reason,
    update=services.update_return_reason,
    update_argument="return_reason",
    export_columns=(
        ("code", lambda r: r.code),
        ("label", lambda r: r.label),
        ("active", lambda r: r.active),
        ("counts as damage", lambda r: r.counts_as_damage),
        ("our fault", lambda r: r.our_fault),
    ),
    preview=lambda reason, data: selectors.return_reason_effect(reason, active=data["active"]),
)

SCREENS = (RETURN_POLICIES, RETURN_REASONS)
register_screens(*SCREENS)
