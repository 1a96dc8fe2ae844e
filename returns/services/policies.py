"""Return policies and reasons: resolving the rule that applies to a SKU, and editing both.

The one home of the return window and the refund timing (DOMAIN.md). A product-family row
overrides the channel row; a row that leaves the window or the timing blank inherits it
(family → channel-wide row → the channel's own fields, which are the defaults); with no
row, the channel's own window and refund timing apply with buyer-paid return shipping and
no restocking fee.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from erp.errors import ValidationFailed
from erp.models import Channel, Endpoint
from erp.roles import require_permission
from returns.models import RefundTiming, ReturnPolicy, ReturnReason

# The stage an RMA must reach before a refund of this timing may be requested, in order.
TIMING_ORDER = [
    RefundTiming.ON_AUTHORIZATION,
    RefundTiming.ON_RECEIPT,
    RefundTiming.AFTER_INSPECTION,
]


@dataclass(frozen=True)
class EffectivePolicy:
    channel_id: int
    product_family: str  # the family of the row that applied ("" = channel-wide or defaults)
    window_days: int
    receipt_expected_days: int
    return_shipping_paid_by: str
    restocking_fee_percent: Decimal
    refund_timing: str
    never_restock: bool
    always_inspect_serials: bool
    source: str  # "family", "channel" or "channel defaults"

    @property
    def seller_pays_shipping(self) -> bool:
        return self.return_shipping_paid_by == ReturnPolicy.ShippingPaidBy.SELLER


def _from_row(row: ReturnPolicy, source: str, inherited: EffectivePolicy) -> EffectivePolicy:
    return EffectivePolicy(
        channel_id=row.channel_id,
        product_family=row.product_family,
        window_days=row.window_days if row.window_days is not None else inherited.window_days,
        receipt_expected_days=row.receipt_expected_days,
        return_shipping_paid_by=row.return_shipping_paid_by,
        restocking_fee_percent=row.restocking_fee_percent,
        refund_timing=row.refund_timing or inherited.refund_timing,
        never_restock=row.never_restock,
        always_inspect_serials=row.always_inspect_serials,
        source=source,
    )


def _channel_defaults(channel: Channel) -> EffectivePolicy:
    field = ReturnPolicy._meta.get_field
    return EffectivePolicy(
        channel_id=channel.pk,
        product_family="",
        window_days=channel.return_window_days,
        receipt_expected_days=field("receipt_expected_days").default,
        return_shipping_paid_by=field("return_shipping_paid_by").default,
        restocking_fee_percent=field("restocking_fee_percent").default,
        refund_timing=channel.refund_timing,
        never_restock=False,
        always_inspect_serials=False,
        source="channel defaults",
    )


def policies_for(channel: Channel, families) -> dict[str, EffectivePolicy]:
    """The policy for each product family of this channel, in one query."""
    families = {family or "" for family in families}
    rows = {
        row.product_family: row
        for row in ReturnPolicy.objects.filter(channel=channel, product_family__in=families | {""})
    }
    defaults = _channel_defaults(channel)
    channel_wide = _from_row(rows[""], "channel", defaults) if "" in rows else defaults
    return {
        family: _from_row(rows[family], "family", channel_wide)
        if family and family in rows
        else channel_wide
        for family in families
    }


def policy_for(channel: Channel, sku) -> EffectivePolicy:
    family = sku.product_family or ""
    return policies_for(channel, [family])[family]


def refund_endpoint_for(channel: Channel) -> Endpoint | None:
    """Where this channel's refund confirmations go; None when the channel is not told."""
    return Endpoint.objects.filter(
        pk__in=ReturnPolicy.objects.filter(channel=channel, product_family="").values(
            "refund_endpoint"
        ),
        active=True,
    ).first()


_POLICY_FIELDS = {
    "window_days",
    "receipt_expected_days",
    "return_shipping_paid_by",
    "restocking_fee_percent",
    "refund_timing",
    "never_restock",
    "always_inspect_serials",
    "refund_endpoint",
}


@transaction.atomic
def save_return_policy(
    *, channel: Channel, actor, product_family: str = "", reason: str = "", **values
) -> ReturnPolicy:
    """Create or change the policy of a channel (or of one product family of it). A window
    or refund timing left unset is inherited (module docstring), never copied. `reason`
    is kept in the history with the actor."""
    require_permission(actor, "returns.change_returnpolicy", action="change return policies")
    unknown = sorted(set(values) - _POLICY_FIELDS)
    if unknown:
        raise ValidationFailed(f"Unknown policy field {unknown[0]}.", field=unknown[0])
    product_family = product_family.strip()
    if product_family and values.get("refund_endpoint"):
        raise ValidationFailed(
            "Refund confirmations are set on the channel-wide policy.",
            field="refund_endpoint",
            code="channel_wide_only",
        )
    policy = (
        ReturnPolicy.objects.select_for_update()
        .filter(channel=channel, product_family=product_family)
        .first()
    )
    if policy is None:
        policy = ReturnPolicy(channel=channel, product_family=product_family)
    for name, value in values.items():
        setattr(policy, name, value)
    _clean(policy)
    policy._history_user = actor
    policy._change_reason = reason.strip() or None
    policy.save()
    return policy


def _required_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why this is changed.", field="reason", code="required")
    return reason


def create_return_policy(*, actor, data: dict, reason: str) -> ReturnPolicy:
    """Add the policy of a channel or of one product family of it; one per pair."""
    values = dict(data)
    channel = values.pop("channel", None)
    if channel is None:
        raise ValidationFailed("Choose the channel.", field="channel", code="required")
    family = (values.pop("product_family", "") or "").strip()
    if ReturnPolicy.objects.filter(channel=channel, product_family=family).exists():
        raise ValidationFailed(
            f"{channel.code} already has a {'policy for ' + family if family else 'channel-wide policy'}"
            "; edit that one.",
            field="product_family",
            code="unique",
        )
    return save_return_policy(
        channel=channel,
        product_family=family,
        actor=actor,
        reason=_required_reason(reason),
        **values,
    )


def update_return_policy(*, policy: ReturnPolicy, actor, data: dict, reason: str) -> ReturnPolicy:
    """Change a policy's window, fees, refund timing or restocking rules; its channel and
    family stay. The next RMA of the channel (and family) is authorized under it."""
    return save_return_policy(
        channel=policy.channel,
        product_family=policy.product_family,
        actor=actor,
        reason=_required_reason(reason),
        **data,
    )


def _clean(instance) -> None:
    from django.core.exceptions import ValidationError

    try:
        instance.full_clean(validate_unique=False)
    except ValidationError as error:
        raise ValidationFailed.from_django(error) from None


@transaction.atomic
def save_return_reason(
    *,
    code: str,
    actor,
    label: str | None = None,
    active: bool | None = None,
    counts_as_damage: bool | None = None,
    our_fault: bool | None = None,
    change_reason: str = "",
) -> ReturnReason:
    """Add a reason code or change one; codes are never deleted (RMAs refer to them),
    only deactivated. `change_reason` is kept in the history with the actor."""
    require_permission(actor, "returns.change_returnreason", action="manage return reasons")
    code = code.strip()
    reason = ReturnReason.objects.select_for_update().filter(code=code).first()
    if reason is None:
        if not label:
            raise ValidationFailed("Give the reason a label.", field="label", code="required")
        reason = ReturnReason(code=code)
    changes = {
        "label": label,
        "active": active,
        "counts_as_damage": counts_as_damage,
        "our_fault": our_fault,
    }
    for name, value in changes.items():
        if value is not None:
            setattr(reason, name, value)
    _clean(reason)
    reason._history_user = actor
    reason._change_reason = change_reason.strip() or None
    reason.save()
    return reason


def create_return_reason(*, actor, data: dict, reason: str) -> ReturnReason:
    """Add a reason code; a code already in use is refused (edit it instead)."""
    code = (data.get("code") or "").strip()
    if ReturnReason.objects.filter(code=code).exists():
        raise ValidationFailed(
            f"The reason code {code} exists; edit it.", field="code", code="unique"
        )
    return save_return_reason(actor=actor, change_reason=_required_reason(reason), **data)


def update_return_reason(*, return_reason: ReturnReason, actor, data: dict, reason: str):
    """Change a reason code's label, flags or whether it may be chosen; the code stays."""
    values = {name: value for name, value in data.items() if name != "code"}
    return save_return_reason(
        code=return_reason.code, actor=actor, change_reason=_required_reason(reason), **values
    )
