"""Hand-written statements on the posting path (every shipment, refund, receipt and
adjustment posts through here): prepared once per connection instead of an ORM query
compiled per posting. `post_entry` and `accounts_for` are the only callers; the rules
they enforce live there.
"""

from datetime import date as Date
from datetime import datetime

from django.db import connection

from erp import fastsql
from finance.models import Account, JournalEntry, JournalLine, Period, PeriodStatus


def read_accounts(roles, channel_id: int | None) -> list[tuple[str, int | None, int]]:
    """(role, channel_id, id) of the active accounts with these roles that are company-wide
    or belong to `channel_id`."""
    roles = sorted(roles)
    if not roles:
        return []
    scope = "channel_id IS NULL" + (" OR channel_id = %s" if channel_id is not None else "")
    params = [*roles] + ([channel_id] if channel_id is not None else [])
    with fastsql.cursor() as cur:
        cur.execute(
            f"SELECT role, channel_id, id FROM {Account._meta.db_table}"
            f" WHERE active AND role IN ({fastsql.in_list(roles)}) AND ({scope})",
            params,
        )
        return cur.fetchall()


_LINE_COLUMNS = (
    ("account_id", "bigint"),
    ("debit", "numeric"),
    ("credit", "numeric"),
    ("currency", "varchar"),
    ("channel_id", "bigint"),
    ("order_id", "bigint"),
    ("sku_id", "bigint"),
    ("location_id", "bigint"),
    ("memo", "varchar"),
)


def _entry_sql() -> str:
    entry, line, period = (
        JournalEntry._meta.db_table,
        JournalLine._meta.db_table,
        Period._meta.db_table,
    )
    names = ", ".join(name for name, _ in _LINE_COLUMNS)
    arrays = ", ".join(f"%s::{kind}[]" for _, kind in _LINE_COLUMNS)
    return (
        f"WITH p AS (SELECT id FROM {period} WHERE year = %s AND month = %s AND status = %s),"
        f" e AS (INSERT INTO {entry} (date, period_id, memo, source_kind, source_id,"
        f" source_ref, event, posted_by_id, posted_at, reversal_of_id)"
        f" SELECT %s, p.id, %s, %s, %s, %s, %s, %s, %s, %s FROM p"
        f" ON CONFLICT (event, source_kind, source_id) WHERE NOT (event = '') DO NOTHING"
        f" RETURNING id, period_id),"
        f" l AS (INSERT INTO {line} (entry_id, {names})"
        f" SELECT e.id, v.* FROM e CROSS JOIN unnest({arrays}) AS v ({names}))"
        f" SELECT id, period_id FROM e"
    )


def insert_entry_in_open_period(
    *, day: Date, fields: dict, lines: list, posted_at: datetime
) -> tuple[int, int] | None:
    """Write an entry and its lines in ONE statement when `day`'s period exists and is
    open and the (event, document) has no posting yet; returns (entry id, period id), else
    None and nothing is written (the caller takes the general path, which creates the
    period, moves a late posting to the open period or returns the posting already there).

    PostgreSQL only (a data-modifying CTE over arrays: the statement text is the same for
    any number of lines, so it is prepared once). The database still checks the period,
    the balance at commit and the one side per line."""
    if connection.vendor != "postgresql":
        return None
    columns = [[getattr(line, name) for line in lines] for name, _ in _LINE_COLUMNS]
    params = [
        day.year,
        day.month,
        PeriodStatus.OPEN,
        day,
        fields["memo"],
        fields["source_kind"],
        fields["source_id"],
        fields["source_ref"],
        fields["event"],
        fields["posted_by_id"],
        posted_at,
        fields["reversal_of_id"],
        *columns,
    ]
    with fastsql.cursor() as cur:
        cur.execute(_entry_sql(), params)
        row = cur.fetchone()
    return tuple(row) if row else None
