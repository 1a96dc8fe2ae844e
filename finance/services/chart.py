"""The default chart of accounts for a marketplace seller, and how the posting rules find
an account by its role (and channel, for per-channel accounts)."""

from dataclasses import dataclass

from django.db import transaction

from erp.models import Channel
from finance import locking
from finance.models import Account, AccountType

T = AccountType


@dataclass(frozen=True)
class AccountSpec:
    role: str
    code: str
    name: str
    type: str
    per_channel: bool = False


# Roles the posting rules use. Per-channel accounts get "<code>-<CHANNEL>" codes.
DEFAULT_CHART = [
    AccountSpec("bank", "1000", "Bank", T.ASSET),
    AccountSpec("receivable", "1100", "Marketplace receivable", T.ASSET, per_channel=True),
    AccountSpec("clearing", "1150", "Marketplace clearing", T.ASSET, per_channel=True),
    AccountSpec("inventory", "1200", "Inventory", T.ASSET),
    AccountSpec("supplier_credit", "1300", "Supplier credits receivable", T.ASSET),
    AccountSpec("payable", "2000", "Accounts payable", T.LIABILITY),
    AccountSpec(
        "purchase_accrual", "2100", "Purchase accrual (goods received not invoiced)", T.LIABILITY
    ),
    AccountSpec("landed_cost_accrual", "2150", "Landed cost accrual", T.LIABILITY),
    AccountSpec("sales_tax", "2200", "Sales tax payable", T.LIABILITY),
    AccountSpec("carrier_accrual", "2300", "Shipping cost accrual (carriers)", T.LIABILITY),
    AccountSpec("receipt_clearing", "2400", "Stock received without purchase order", T.LIABILITY),
    AccountSpec("opening_balance", "3000", "Opening balance equity", T.EQUITY),
    AccountSpec("retained_earnings", "3100", "Retained earnings", T.EQUITY),
    AccountSpec("revenue", "4000", "Sales revenue", T.REVENUE, per_channel=True),
    AccountSpec("shipping_income", "4100", "Shipping income", T.REVENUE),
    AccountSpec("refunds", "4200", "Refunds and returns", T.REVENUE),
    AccountSpec("restocking_fees", "4300", "Restocking fees", T.REVENUE),
    AccountSpec("inventory_gain", "4900", "Inventory count gains", T.REVENUE),
    AccountSpec("cogs", "5000", "Cost of goods sold", T.EXPENSE),
    AccountSpec("marketplace_fees", "5100", "Marketplace fees", T.EXPENSE),
    AccountSpec("shipping_expense", "5200", "Shipping expense", T.EXPENSE),
    AccountSpec("shrink", "5300", "Shrink and write-offs", T.EXPENSE),
    AccountSpec("settlement_variance", "5400", "Settlement variance", T.EXPENSE),
]
SPECS = {spec.role: spec for spec in DEFAULT_CHART}


def _channel_code(spec: AccountSpec, channel: Channel) -> str:
    return f"{spec.code}-{channel.code}"[:32]


@transaction.atomic
def ensure_chart_of_accounts(channels=None) -> int:
    """Create every default account that does not exist yet, per-channel ones for each
    channel (all channels unless `channels` is given). Idempotent; returns how many it
    created. Existing accounts are never renamed or renumbered."""
    channels = list(Channel.objects.all() if channels is None else channels)
    existing = set(Account.objects.exclude(role="").values_list("role", "channel_id"))
    taken = set(Account.objects.values_list("code", flat=True))
    missing = []
    for spec in DEFAULT_CHART:
        targets = channels if spec.per_channel else [None]
        for channel in targets:
            channel_id = channel.pk if channel else None
            if (spec.role, channel_id) in existing:
                continue
            code = _channel_code(spec, channel) if channel else spec.code
            if code in taken:  # someone used the code by hand: keep theirs, suffix ours
                code = f"{code}-{spec.role}"[:32]
            name = f"{spec.name} · {channel.name}" if channel else spec.name
            missing.append(
                Account(code=code, name=name[:128], type=spec.type, role=spec.role, channel=channel)
            )
            taken.add(code)
    Account.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)


def accounts_for(roles, *, channel_id: int | None = None) -> dict[str, int]:
    """Account ids by role for a posting: per-channel roles resolve to `channel_id`'s
    account. A channel (or database) that has none yet gets the default chart first."""
    roles = set(roles)
    found = _lookup(roles, channel_id)
    if roles - found.keys():
        channel = Channel.objects.filter(pk=channel_id) if channel_id else Channel.objects.none()
        ensure_chart_of_accounts(list(channel))
        found = _lookup(roles, channel_id)
    missing = roles - found.keys()
    if missing:
        raise LookupError(f"No account for role(s) {', '.join(sorted(missing))}.")
    return found


def _lookup(roles, channel_id) -> dict[str, int]:
    found = {}
    for role, account_channel, account_id in locking.read_accounts(roles, channel_id):
        spec = SPECS.get(role)
        if spec and spec.per_channel:
            if account_channel == channel_id and channel_id is not None:
                found[role] = account_id
        elif account_channel is None:
            found[role] = account_id
    return found
