"""Exports: every list, queue and KPI table hands its filtered rows here, as CSV or XLSX.

CSV is streamed: rows are written as they are read (`QuerySet.iterator` or any generator),
so an export of a million rows holds one chunk in memory, never the whole file. Cells that
a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) are prefixed with a quote,
as OWASP advises for CSV injection.

XLSX (openpyxl's write-only workbook) also reads the rows as they come and spills the sheet
to a temporary file, so memory stays flat; the file is sent once written. A sheet holds at
most XLSX_MAX_ROWS rows: past that, the last row says so and points to the CSV. Text is
always stored as text (never a formula), numbers as numbers, dates and times as dates in
the project's time zone.
"""

import csv
import re
import tempfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify

EXPORT_FORMATS = ("csv", "xlsx")
XLSX_MAX_ROWS = 50_000  # data rows per sheet; the CSV of the same view has every row
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

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


def _xlsx_value(sheet, value):
    """A cell value as openpyxl writes it: text as text even when it starts with `=`."""
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, date):
        return value
    text = _ILLEGAL_XML.sub("", str(value))
    if not text.startswith("="):
        return text
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # openpyxl would otherwise store it as a formula
    return cell


def xlsx_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]):
    """An `.xlsx` download named `<filename>.xlsx` (slugified): one sheet, the header in
    bold, at most XLSX_MAX_ROWS rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    name = slugify(filename) or "export"
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=name[:31])
    bold = Font(bold=True)
    titles = []
    for title in header:
        cell = WriteOnlyCell(sheet, value=_ILLEGAL_XML.sub("", str(title)))
        cell.font = bold
        titles.append(cell)
    sheet.append(titles)
    for number, row in enumerate(rows, start=1):
        if number > XLSX_MAX_ROWS:
            sheet.append([f"Only the first {XLSX_MAX_ROWS:,} rows: export CSV for every row."])
            break
        sheet.append([_xlsx_value(sheet, value) for value in row])
    # FileResponse closes it once sent.
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    workbook.save(spool)
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=f"{name}.xlsx", content_type=XLSX_TYPE)


def export_format(request, default: str | None = None) -> str | None:
    """The format the request asks for (`?export=csv` or `?export=xlsx`), else `default`."""
    asked = request.GET.get("export")
    return asked if asked in EXPORT_FORMATS else default


def export_response(fmt: str, filename: str, header: Sequence[str], rows: Iterable[Sequence]):
    """The rows as a CSV (streamed) or XLSX download."""
    if fmt == "xlsx":
        return xlsx_response(filename, header, rows)
    return csv_response(filename, header, rows)
