"""CSV exports, streamed: every list, queue and KPI table hands its filtered rows here.

Rows are written as they are read (`QuerySet.iterator` or any generator), so an export of
a million rows holds one chunk in memory, never the whole file. Cells that a spreadsheet
would run as a formula (`=`, `+`, `-`, `@` first) are prefixed with a quote, as OWASP
advises for CSV injection.
"""

import csv
from collections.abc import Iterable, Sequence

from django.http import StreamingHttpResponse
from django.utils.text import slugify

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose write returns the line instead of storing it."""

    def write(self, value: str) -> str:
        return value


def safe_cell(value) -> object:
    """A cell as written: None as empty, text that a spreadsheet would evaluate quoted.
    Numbers keep their sign (a negative amount is data, not a formula)."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence]) -> Iterable[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row])


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]):
    """A streamed `text/csv` download named `<filename>.csv` (slugified)."""
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{slugify(filename)}.csv"'
    return response
