"""Demo return policies: a channel-wide policy for each demo marketplace channel and one
product-family override, saved through the policy service (with history), so the
settings screens show real rules on first sign-in."""

from decimal import Decimal

from erp import roles
from erp.models import Channel
from returns.models import ReturnPolicy
from returns.services.policies import save_return_policy

POLICIES = {
    "WEB": {"window_days": 30, "return_shipping_paid_by": "seller"},
    "AMZ-US": {"window_days": 30, "receipt_expected_days": 21},
    "EBAY-US": {"window_days": 30, "restocking_fee_percent": Decimal("10.00")},
    "WMT": {"window_days": 60},
}
FAMILY_POLICY = ("WEB", "apparel", {"window_days": 60, "never_restock": False})


def seed_returns(users) -> str:
    manager = users[roles.MANAGER]
    created = 0
    wanted = [(code, "", values) for code, values in POLICIES.items()] + [FAMILY_POLICY]
    for code, family, values in wanted:
        channel = Channel.objects.filter(code=code).first()
        if (
            channel is None
            or ReturnPolicy.objects.filter(channel=channel, product_family=family).exists()
        ):
            continue
        save_return_policy(
            channel=channel,
            product_family=family,
            actor=manager,
            reason="demo return policy",
            **values,
        )
        created += 1
    return f"{created} return policies"
