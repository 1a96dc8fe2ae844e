from finance.models.accounts import DEBIT_NORMAL, Account, AccountType
from finance.models.journal import JournalEntry, JournalLine
from finance.models.periods import Period, PeriodStatus

__all__ = [
    "DEBIT_NORMAL",
    "Account",
    "AccountType",
    "JournalEntry",
    "JournalLine",
    "Period",
    "PeriodStatus",
]
