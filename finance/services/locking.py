"""Row locks for the books (one helper per table, in one place)."""

from finance.models import Period


def locked_period(year: int, month: int) -> Period:
    """The period row FOR UPDATE: postings in flight hold it FOR SHARE (the insert trigger),
    so a close waits for them and no posting lands after the close commits."""
    return Period.objects.select_for_update().get(year=year, month=month)
