"""Reading the journal in tests: the lines of the entry a document posted, by account role."""

from decimal import Decimal

from finance.models import JournalEntry


def posted(source_kind: str, source_id: int) -> JournalEntry:
    return JournalEntry.objects.get(source_kind=source_kind, source_id=source_id)


def lines_by_role(entry: JournalEntry) -> list[tuple]:
    """(role, channel code or "", Dr/Cr, amount, sku code or "") sorted, one per line."""
    rows = entry.lines.select_related("account__channel", "sku").order_by("id")
    result = []
    for line in rows:
        side, amount = ("Dr", line.debit) if line.debit else ("Cr", line.credit)
        channel = line.account.channel.code if line.account.channel else ""
        result.append((line.account.role, channel, side, amount, line.sku.code if line.sku else ""))
    return sorted(result)


def d(value) -> Decimal:
    return Decimal(value)
