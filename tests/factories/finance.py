from decimal import Decimal

from finance.models import Account, Period
from finance.services.chart import accounts_for, ensure_chart_of_accounts
from finance.services.posting import credit, debit, post_entry


def chart(channels=None) -> None:
    ensure_chart_of_accounts(channels)


def account(role: str, channel=None) -> Account:
    chart([channel] if channel else [])
    return Account.objects.get(role=role, channel=channel)


def closed_period(year: int, month: int, actor=None) -> Period:
    period, _ = Period.objects.update_or_create(
        year=year, month=month, defaults={"status": "closed", "closed_by": actor}
    )
    return period


def simple_entry(amount="10.00", *, dr="bank", cr="opening_balance", **kwargs):
    ids = accounts_for({dr, cr})
    return post_entry(
        lines=[debit(ids[dr], Decimal(amount)), credit(ids[cr], Decimal(amount))],
        memo=kwargs.pop("memo", "test entry"),
        **kwargs,
    )
