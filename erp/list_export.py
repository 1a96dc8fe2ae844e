"""Export of a back-office list: the same filtered queryset the page shows, as streamed
CSV or as XLSX (erp.exports).

A list view builds its rows with its own filter form or selector (one place), then
hands them here when the query string asks for `export=csv` or `export=xlsx`:

    rows = filters.results()
    if fmt := export_format(request):  # erp.exports
        return export_rows("orders", rows, ORDER_COLUMNS, fmt)

Columns name `values_list` paths, so the export is one SELECT with its joins, read in
chunks through a server-side cursor: constant memory and a constant number of queries,
whatever the number of rows. The export links are `{% export_url "csv" %}` and
`{% export_url "xlsx" %}` (erp/templatetags/list_export.py): the current query string
without the page number.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import QuerySet
from django.utils import timezone

from erp.exports import export_response

EXPORT_PARAMETER = "export"
CHUNK_SIZE = 2000


@dataclass(frozen=True)
class Column:
    """One CSV column: its header and the `values_list` path it reads; `choices` turns
    a stored code into its label, `display` formats the value otherwise."""

    header: str
    path: str
    choices: Sequence[tuple[str, str]] | None = None
    display: Callable[[object], object] | None = None

    def render(self, value, fmt: str = "csv"):
        if self.choices is not None:
            return dict(self.choices).get(value, value)
        if self.display is not None:
            return self.display(value)
        if fmt == "xlsx":
            return value  # dates and times stay dates in the sheet (erp.exports)
        if isinstance(value, datetime):
            return timezone.localtime(value).isoformat(timespec="seconds")
        if isinstance(value, date):
            return value.isoformat()
        return value


def export_rows(filename: str, queryset: QuerySet, columns: Sequence[Column], fmt: str = "csv"):
    """`queryset` (already filtered and ordered) with these columns, as `fmt`."""
    paths = [column.path for column in columns]
    values = queryset.prefetch_related(None).values_list(*paths).iterator(chunk_size=CHUNK_SIZE)
    rows = (
        [column.render(value, fmt) for column, value in zip(columns, row, strict=True)]
        for row in values
    )
    stamp = timezone.localdate().isoformat()
    return export_response(fmt, f"{filename}-{stamp}", [column.header for column in columns], rows)
