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
from finance.models.settlements import (  # noqa: E402
    ImportState,
    LineCategory,
    LineType,
    MatchStatus,
    Settlement,
    SettlementImport,
    SettlementLine,
    SettlementOrder,
    SettlementSource,
    SettlementState,
    SettlementVariance,
    VarianceKind,
    VarianceState,
)

__all__ += [
    "ImportState",
    "LineCategory",
    "LineType",
    "MatchStatus",
    "Settlement",
    "SettlementImport",
    "SettlementLine",
    "SettlementOrder",
    "SettlementSource",
    "SettlementState",
    "SettlementVariance",
    "VarianceKind",
    "VarianceState",
]
