"""Streamed CSV exports: header first, rows as read, formula cells defused."""

import csv
import io

from erp.exports import csv_lines, csv_response


def _parse(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_csv_response_streams_header_then_rows_with_a_slugged_filename():
    response = csv_response(
        "Orders on hold", ["Number", "Total"], iter([("SO-1", 12), ("SO-2", None)])
    )
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == 'attachment; filename="orders-on-hold.csv"'
    assert _parse(response) == [["Number", "Total"], ["SO-1", "12"], ["SO-2", ""]]


def test_cells_a_spreadsheet_would_evaluate_are_quoted_but_negative_numbers_stay_numbers():
    rows = list(csv.reader(csv_lines(["a", "b"], [("=HYPERLINK(1)", -5), ("@SUM", "+1")])))
    assert rows[1] == ["'=HYPERLINK(1)", "-5"]
    assert rows[2] == ["'@SUM", "'+1"]


def test_rows_are_consumed_lazily():
    consumed = []

    def rows():
        for n in range(3):
            consumed.append(n)
            yield (n,)

    lines = csv_lines(["n"], rows())
    next(lines)  # the header needs no row
    assert consumed == []
    next(lines)
    assert consumed == [0]


def _sheet(response):
    from openpyxl import load_workbook

    body = b"".join(response.streaming_content)
    return load_workbook(io.BytesIO(body)).active


def test_xlsx_response_types_cells_and_keeps_text_as_text(settings):
    settings.TIME_ZONE = "America/New_York"
    from datetime import UTC, date, datetime
    from decimal import Decimal

    from erp.exports import XLSX_TYPE, xlsx_response

    response = xlsx_response(
        "Orders on hold",
        ["Number", "Total", "Placed", "Due", "Note"],
        iter(
            [
                ("SO-1", Decimal("12.50"), datetime(2026, 11, 2, 15, 0, tzinfo=UTC), None, "=1+1"),
                ("SO-2", -3, None, date(2026, 11, 9), "bell\x07 rung"),
            ]
        ),
    )

    assert response["Content-Type"] == XLSX_TYPE
    assert response["Content-Disposition"] == 'attachment; filename="orders-on-hold.xlsx"'
    sheet = _sheet(response)
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == ["Number", "Total", "Placed", "Due", "Note"]
    assert sheet["A1"].font.bold
    assert rows[1] == ["SO-1", 12.5, datetime(2026, 11, 2, 10, 0), None, "=1+1"]
    assert sheet["E2"].data_type == "s"  # text, not a formula a spreadsheet would run
    assert rows[2] == ["SO-2", -3, None, datetime(2026, 11, 9), "bell rung"]


def test_an_xlsx_sheet_stops_at_its_row_limit_and_says_so(monkeypatch):
    from erp.exports import xlsx_response

    monkeypatch.setattr("erp.exports.XLSX_MAX_ROWS", 3)
    sheet = _sheet(xlsx_response("big", ["n"], ((n,) for n in range(10))))

    values = [row[0].value for row in sheet.iter_rows()]
    assert values == ["n", 0, 1, 2, "Only the first 3 rows: export CSV for every row."]
