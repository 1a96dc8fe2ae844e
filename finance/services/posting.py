"""The one way money is posted: `post_entry`. Every posting rule, reversal and manual
entry goes through it.

It refuses an entry that does not balance per currency, a line with both or neither side,
and a date in a closed or locked period (a correction posts in the open period instead).
The database enforces the same (balance at commit, one side per line, open period, lines
append-only); the checks here give the error a name and a field first.
"""

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date as Date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from erp.errors import Conflict, ValidationFailed
from finance import locking
from finance.models import JournalEntry, JournalLine, Period, PeriodStatus

CENT = Decimal("0.01")
ZERO = Decimal("0")
REVERSAL_EVENT = "finance.reversal"
ONE_POSTING = "finance_one_posting_per_event_and_document"


def money(value) -> Decimal:
    """A payload or form amount as a Decimal rounded to the cent (half up)."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationFailed(
            f"{value!r} is not an amount.", field="amount", code="invalid"
        ) from None
    if not amount.is_finite():
        raise ValidationFailed(f"{value!r} is not an amount.", field="amount", code="invalid")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Line:
    """One side of an entry; a negative amount posts on the other side."""

    account_id: int
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    currency: str = ""
    channel_id: int | None = None
    order_id: int | None = None
    sku_id: int | None = None
    location_id: int | None = None
    memo: str = ""


def debit(account_id, amount, **dims) -> Line:
    return Line(account_id, debit=money(amount), **dims)


def credit(account_id, amount, **dims) -> Line:
    return Line(account_id, credit=money(amount), **dims)


def period_for(day: Date) -> Period:
    period, _ = Period.objects.get_or_create(year=day.year, month=day.month)
    return period


def _normalised(lines: list[Line]) -> list[Line]:
    result = []
    for index, line in enumerate(lines):
        dr, cr = money(line.debit), money(line.credit)
        if dr < 0 or cr < 0:
            dr, cr = max(dr, ZERO) - min(cr, ZERO), max(cr, ZERO) - min(dr, ZERO)
        if dr and cr:
            net = dr - cr
            dr, cr = max(net, ZERO), max(-net, ZERO)
        if not dr and not cr:
            continue
        currency = (line.currency or settings.BASE_CURRENCY).upper()
        if len(currency) != 3 or not currency.isalpha():
            raise ValidationFailed(
                f"Line {index + 1}: {currency!r} is not a currency code.",
                field=f"lines[{index}].currency",
                code="invalid_currency",
            )
        result.append(replace(line, debit=dr, credit=cr, currency=currency))
    return result


def check_balanced(lines: list[Line]) -> None:
    totals = defaultdict(lambda: [ZERO, ZERO])
    for line in lines:
        totals[line.currency][0] += line.debit
        totals[line.currency][1] += line.credit
    for currency, (dr, cr) in sorted(totals.items()):
        if dr != cr:
            raise ValidationFailed(
                f"The entry does not balance in {currency}: debits {dr}, credits {cr}.",
                field="lines",
                code="unbalanced",
            )


def post_entry(
    *,
    lines: list[Line],
    memo: str = "",
    date: Date | None = None,
    source_kind: str = "",
    source_id: int | None = None,
    source_ref: str = "",
    event: str = "",
    actor=None,
    reversal_of: JournalEntry | None = None,
    late: bool = False,
) -> JournalEntry | None:
    """Post one balanced entry and return it. With an `event`, one posting per (event,
    document): a repeat returns the entry already posted. Returns None when every line
    is zero (nothing to post).

    A `date` in a closed or locked month is refused, unless the posting is `late` (a
    posting rule learning of an event after its month closed, a correction): it then
    lands today, in the open period."""
    lines = _normalised(lines)
    if not lines:
        return None
    if len(lines) < 2:
        raise ValidationFailed(
            "An entry needs at least one debit and one credit.", field="lines", code="unbalanced"
        )
    check_balanced(lines)
    day = date or timezone.localdate()
    # A savepoint: a refused posting leaves the caller's transaction usable (the database
    # triggers re-check the period and the balance whatever happens here).
    try:
        return _insert(
            lines, day, memo, source_kind, source_id, source_ref, event, actor, reversal_of, late
        )
    except IntegrityError as error:
        # The same event for the same document again (a replay, a retried request):
        # one posting per (event, document), the first one stands.
        if not event or ONE_POSTING not in str(error):
            raise
        return JournalEntry.objects.get(event=event, source_kind=source_kind, source_id=source_id)


def _insert(lines, day, memo, source_kind, source_id, source_ref, event, actor, reversal_of, late):
    fields = {
        "memo": memo[:255],
        "source_kind": source_kind,
        "source_id": source_id,
        "source_ref": str(source_ref)[:64],
        "event": event,
        "posted_by_id": actor.pk if getattr(actor, "pk", None) else None,
        "reversal_of_id": reversal_of.pk if reversal_of is not None else None,
    }
    # The common case in one statement: the day's period is open and the document has no
    # posting yet. Anything else (no period row yet, a closed month, a repeat) takes the
    # general path below, which names the problem or returns the posting already made.
    posted_at = timezone.now()
    written = locking.insert_entry_in_open_period(
        day=day, fields=fields, lines=lines, posted_at=posted_at
    )
    if written is not None:
        entry = JournalEntry(id=written[0], date=day, period_id=written[1], posted_at=posted_at)
        for name, value in fields.items():
            setattr(entry, name, value)
        entry._state.adding, entry._state.db = False, "default"
        return entry
    with transaction.atomic():
        period = period_for(day)
        if period.status != PeriodStatus.OPEN and late:
            day = timezone.localdate()
            period = period_for(day)
        if period.status != PeriodStatus.OPEN:
            raise Conflict(
                f"Period {period} is {period.status}: post the correction in the open period.",
                field="date",
                code="period_closed",
            )
        entry = JournalEntry.objects.create(
            date=day,
            period=period,
            memo=memo[:255],
            source_kind=source_kind,
            source_id=source_id,
            source_ref=str(source_ref)[:64],
            event=event,
            posted_by=actor if getattr(actor, "pk", None) else None,
            reversal_of=reversal_of,
        )
        JournalLine.objects.bulk_create(
            [
                JournalLine(
                    entry=entry,
                    account_id=line.account_id,
                    debit=line.debit,
                    credit=line.credit,
                    currency=line.currency,
                    channel_id=line.channel_id,
                    order_id=line.order_id,
                    sku_id=line.sku_id,
                    location_id=line.location_id,
                    memo=line.memo[:255],
                )
                for line in lines
            ]
        )
        return entry


def reverse_entry(*, entry: JournalEntry, actor, memo: str = "") -> JournalEntry:
    """Correct a posted entry by its mirror image, dated in the open period. An entry is
    reversed at most once (one posting per event and document)."""
    if entry.reversal_of_id:
        raise Conflict(
            f"{entry} is itself a reversal; post a new entry instead.",
            field="entry",
            code="is_reversal",
        )
    existing = JournalEntry.objects.filter(reversal_of=entry).first()
    if existing is not None:
        return existing
    lines = [
        Line(
            line.account_id,
            debit=line.credit,
            credit=line.debit,
            currency=line.currency,
            channel_id=line.channel_id,
            order_id=line.order_id,
            sku_id=line.sku_id,
            location_id=line.location_id,
            memo=line.memo,
        )
        for line in entry.lines.all()
    ]
    return post_entry(
        lines=lines,
        memo=memo or f"Reversal of {entry}: {entry.memo}",
        date=timezone.localdate(),
        late=True,
        source_kind="journal_entry",
        source_id=entry.pk,
        source_ref=str(entry),
        event=REVERSAL_EVENT,
        actor=actor,
        reversal_of=entry,
    )
