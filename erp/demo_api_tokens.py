"""Demo: one scoped API token, so a manager finds the tokens screen populated."""

from erp import roles
from erp.models import ApiToken, Channel
from erp.services.api_tokens import create_api_token

DEMO_TOKEN = "Storefront order sync"


def seed_api_tokens(users) -> str:
    if ApiToken.objects.filter(name=DEMO_TOKEN).exists():
        return "already there"
    channel = Channel.objects.order_by("code").first()
    if channel is None:
        return "no channel"
    issued = create_api_token(
        actor=users[roles.MANAGER],
        name=DEMO_TOKEN,
        areas={"orders": "write", "inventory": "read", "master_data": "read"},
        channels=[channel],
        reason="demo data",
    )
    return f"{DEMO_TOKEN!r} for {channel.code}, key {issued.key} (shown once)"
