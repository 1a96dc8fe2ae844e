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
