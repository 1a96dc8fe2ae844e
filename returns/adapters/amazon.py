"""Amazon returns reports, read by their header names.

Two tab-separated flat files with a header row:
- seller-fulfilled returns (`GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE`): one row per
  returned item with headers like `Order ID`, `Amazon RMA ID`, `Merchant SKU`,
  `Return quantity`, `Return Reason`, `Return request date`, `Tracking ID`, `Currency code`
  and `Refunded Amount` (empty until Amazon refunded the buyer). The rows of one Amazon RMA
  ID are one return: it becomes one RMA with a line per row.
- FBA customer returns (`GET_FBA_FULFILLMENT_CUSTOMER_RETURNS_DATA`): one row per returned
  unit batch with `return-date`, `order-id`, `sku`, `quantity`, `license-plate-number` (the
  batch's id at the fulfilment centre: the return's id), `fulfillment-center-id`,
  `detailed-disposition`, `reason`, `status`. It carries no refund.

Columns are found by name, whatever their order, case or spacing (`Order ID` and `order-id`
read alike); a file without a report's required columns is refused whole, naming them. The
seller SKU is the line's key (`Merchant SKU`/`sku`), never the ASIN. Reason, status and
disposition values are kept as data, unknown ones included.

Amounts follow the file's locale: EU files have been seen with decimal commas (`1141,18`)
and day-first dates (`14.03.2023`); the decimal separator is decided once per file from
the amounts that can only be read one way, and a file that mixes both is refused. Dates
are ISO (`2026-11-12`, `2026-11-24T15:02:41+00:00`), `… UTC`, or day-first with dots; a
date without a time is that day's start in UTC.

A row that cannot be read is refused on its own (its entry carries the error, naming the
line and column); the other rows are read.
"""

import re
from datetime import UTC, datetime
from decimal import Decimal

from orders.adapters.parsing import currency_code, decimal_value, quantity
from returns.adapters.base import (
    AdapterError,
    ChannelRefund,
    ChannelReturn,
    ParsedReport,
    ReportEntry,
    ReturnedLine,
)

MFN_FORMAT = "amazon_mfn_returns"
FBA_FORMAT = "amazon_fba_returns"
MFN_REQUIRED = ("Order ID", "Amazon RMA ID", "Merchant SKU", "Return quantity")
FBA_REQUIRED = ("order-id", "sku", "quantity", "return-date")
MFN_AMOUNTS = ("Label cost", "Order Amount", "Refunded Amount", "SafeT claim reimbursement amount")

_POINT = re.compile(r"^-?(\d+\.\d{1,2}|\d{1,3}(,\d{3})+\.\d+)$")
_COMMA = re.compile(r"^-?(\d+,\d{1,2}|\d{1,3}(\.\d{3})+,\d+)$")
_PLAIN = re.compile(r"^-?\d+(\.\d+)?$")
_DAY_FIRST = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def key(name: str) -> str:
    """`Order ID`, `order-id` and `order_id` name the same column."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def decode(content: bytes | str) -> str:
    """Reports come as UTF-8 (with or without a byte-order mark) or, from older
    marketplaces, Windows-1252."""
    if isinstance(content, str):
        return content.lstrip("\ufeff")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", "replace")


class _Table:
    """The header (names as spelled in the file) and the data rows by file line number."""

    def __init__(self, text: str):
        lines = text.splitlines()
        first = next((number for number, line in enumerate(lines, 1) if line.strip()), None)
        if first is None:
            raise AdapterError("The report is empty.", field="header", code="required")
        self.header = [name.strip() for name in lines[first - 1].split("\t")]
        self.index = {}
        for position, name in enumerate(self.header):
            if not name:
                continue
            if key(name) in self.index:
                raise AdapterError(
                    f"The header names {name!r} twice.", field="header", code="duplicate_column"
                )
            self.index[key(name)] = position
        self.rows = [
            (number, line.split("\t"))
            for number, line in enumerate(lines[first:], first + 1)
            if line.strip()
        ]

    def has(self, name: str) -> bool:
        return key(name) in self.index

    def name(self, name: str) -> str:
        """The column's name as the file spells it (for messages)."""
        return self.header[self.index[key(name)]] if self.has(name) else name

    def require(self, names: tuple[str, ...], report: str) -> None:
        missing = [name for name in names if not self.has(name)]
        if missing:
            raise AdapterError(
                f"The {report} report has no column {', '.join(missing)}; its header has "
                f"{', '.join(name for name in self.header if name)}.",
                field="header",
                code="missing_columns",
            )

    def cell(self, cells: list[str], name: str) -> str:
        position = self.index.get(key(name))
        if position is None or position >= len(cells):
            return ""
        return cells[position].strip()


def parse_report(content: bytes | str) -> ParsedReport:
    """The returns in an Amazon returns report (MFN or FBA, told by its columns)."""
    table = _Table(decode(content))
    if table.has("Amazon RMA ID"):
        table.require(MFN_REQUIRED, "seller-fulfilled returns")
        source_format, parse_row = MFN_FORMAT, _mfn_row
    elif table.has("license-plate-number") or table.has("detailed-disposition"):
        table.require(FBA_REQUIRED, "FBA customer returns")
        source_format, parse_row = FBA_FORMAT, _fba_row
    else:
        raise AdapterError(
            "Not an Amazon returns report: expected the seller-fulfilled report's columns "
            f"({', '.join(MFN_REQUIRED)}) or the FBA customer returns report's "
            f"({', '.join(FBA_REQUIRED)}, license-plate-number).",
            field="header",
            code="unknown_report",
        )
    style = _decimal_style(table, MFN_AMOUNTS if source_format == MFN_FORMAT else ())
    parsed = []
    for number, cells in table.rows:
        try:
            if len(cells) > len(table.header):
                raise AdapterError(
                    f"Line {number} has {len(cells)} cells; the header names {len(table.header)}.",
                    field=f"rows[{number}]",
                    code="extra_cells",
                )
            parsed.append((number, cells, parse_row(table, number, cells, style), None))
        except AdapterError as error:
            parsed.append((number, cells, None, error))
    return ParsedReport(source_format=source_format, entries=tuple(_grouped(parsed)))


def _where(table: _Table, number: int, name: str) -> str:
    return f"rows[{number}].{table.name(name)}"


def _required(table: _Table, number: int, cells: list[str], name: str) -> str:
    value = table.cell(cells, name)
    if not value:
        where = _where(table, number, name)
        raise AdapterError(f"{where} is required.", field=where, code="required")
    return value


def _mfn_row(table: _Table, number: int, cells: list[str], style: str) -> ChannelReturn:
    def where(name):
        return _where(table, number, name)

    rma_id = _required(table, number, cells, "Amazon RMA ID")
    status = table.cell(cells, "Return request status")
    resolution = table.cell(cells, "Resolution")
    line = ReturnedLine(
        quantity=quantity(table.cell(cells, "Return quantity"), where("Return quantity")),
        reason=table.cell(cells, "Return Reason"),
        channel_sku=_required(table, number, cells, "Merchant SKU"),
        note=" · ".join(part for part in (f"Amazon RMA {rma_id}", status, resolution) if part),
        fields={"line": where("Merchant SKU"), "quantity": where("Return quantity")},
    )
    refund = None
    refunded = _amount(table.cell(cells, "Refunded Amount"), where("Refunded Amount"), style)
    if refunded is not None and refunded < 0:
        raise AdapterError(
            f"{where('Refunded Amount')} is negative ({refunded}).",
            field=where("Refunded Amount"),
            code="negative_amount",
        )
    if refunded:
        refund = ChannelRefund(
            reference=rma_id,
            amount=refunded,
            currency=currency_code(table.cell(cells, "Currency code"), where("Currency code")),
            fields={"amount": where("Refunded Amount"), "currency": where("Currency code")},
        )
    return ChannelReturn(
        channel_kind="amazon",
        source_format=MFN_FORMAT,
        return_id=rma_id,
        order_external_id=_required(table, number, cells, "Order ID"),
        lines=(line,),
        requested_at=_moment(
            table.cell(cells, "Return request date"), where("Return request date")
        ),
        label_reference=table.cell(cells, "Tracking ID"),
        refund=refund,
        status=status,
        fields={"order": where("Order ID"), "return_id": where("Amazon RMA ID")},
    )


def _fba_row(table: _Table, number: int, cells: list[str], style: str) -> ChannelReturn:
    def where(name):
        return _where(table, number, name)

    order_id = _required(table, number, cells, "order-id")
    sku = _required(table, number, cells, "sku")
    returned = _moment(_required(table, number, cells, "return-date"), where("return-date"))
    plate = table.cell(cells, "license-plate-number")
    # Without a licence plate the batch is known by order, SKU and return time.
    return_id = plate or f"{order_id}/{sku}/{returned.isoformat()}"
    centre = table.cell(cells, "fulfillment-center-id")
    disposition = table.cell(cells, "detailed-disposition")
    status = table.cell(cells, "status")
    comments = table.cell(cells, "customer-comments")
    note = " · ".join(
        part
        for part in (
            f"FBA {centre}".strip() if centre or disposition else "",
            disposition,
            status,
            comments,
        )
        if part
    )
    line = ReturnedLine(
        quantity=quantity(table.cell(cells, "quantity"), where("quantity")),
        reason=table.cell(cells, "reason"),
        channel_sku=sku,
        note=note[:500],
        fields={"line": where("sku"), "quantity": where("quantity")},
    )
    return ChannelReturn(
        channel_kind="amazon",
        source_format=FBA_FORMAT,
        return_id=return_id,
        order_external_id=order_id,
        lines=(line,),
        requested_at=returned,
        # FBA returns go back to Amazon's fulfilment centre, never to our dock.
        returns_centre=f"Amazon FBA {centre}".strip(),
        status=status,
        note=note,
        fields={
            "order": where("order-id"),
            "return_id": where("license-plate-number") if plate else where("order-id"),
        },
    )


def _decimal_style(table: _Table, columns: tuple[str, ...]) -> str:
    """ "comma" or "point": what the amounts that can be read only one way say."""
    seen = {}
    for number, cells in table.rows:
        for name in columns:
            value = table.cell(cells, name)
            if _COMMA.match(value):
                seen.setdefault("comma", _where(table, number, name))
            elif _POINT.match(value):
                seen.setdefault("point", _where(table, number, name))
    if len(seen) == 2:
        raise AdapterError(
            f"The file mixes decimal commas ({seen['comma']}) and decimal points "
            f"({seen['point']}); amounts cannot be read safely.",
            field=seen["comma"],
            code="mixed_decimal_separators",
        )
    return "comma" if "comma" in seen else "point"


def _amount(value: str, where: str, style: str) -> Decimal | None:
    if not value:
        return None
    plain = value.replace(".", "").replace(",", ".") if style == "comma" else value.replace(",", "")
    if not _PLAIN.match(plain):
        raise AdapterError(f"{where} is not an amount: {value!r}.", field=where, code="invalid")
    return decimal_value(plain, where)


def _moment(value: str, where: str) -> datetime | None:
    if not value:
        return None
    text = value.strip()
    if text.upper().endswith(" UTC"):
        text = text[:-4].strip() + "+00:00"
    day_first = _DAY_FIRST.match(value.strip().removesuffix(" UTC"))
    try:
        if day_first:
            day, month, year, hour, minute, second = day_first.groups()
            moment = datetime(
                int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
            )
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise AdapterError(
            f"{where} is not a date: {value!r}.", field=where, code="invalid_date"
        ) from None
    if moment.tzinfo is None:
        if len(text) > 10 and not day_first:
            raise AdapterError(
                f"{where} has a time but no UTC offset: {value!r}.",
                field=where,
                code="naive_datetime",
            )
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _grouped(parsed: list) -> list[ReportEntry]:
    """One entry per return: the rows of one Amazon RMA ID (or licence plate) together; a
    row repeated verbatim counts once; a refused row refuses its whole return."""
    groups: dict[str, list] = {}
    entries: list = []
    for number, cells, channel_return, error in parsed:
        if error is not None:
            entries.append([(number, cells, None, error)])
            continue
        group = groups.get(channel_return.return_id)
        if group is None:
            group = groups[channel_return.return_id] = []
            entries.append(group)
        group.append((number, cells, channel_return, None))
    return [_entry(group) for group in entries]


def _entry(group: list) -> ReportEntry:
    numbers = tuple(number for number, *_ in group)
    if group[0][3] is not None:
        return ReportEntry(line_numbers=numbers, error=group[0][3])
    seen, returns = set(), []
    for _, cells, channel_return, _ in group:
        if tuple(cells) not in seen:
            seen.add(tuple(cells))
            returns.append(channel_return)
    first = returns[0]
    try:
        return ReportEntry(line_numbers=numbers, parsed=_merged(first, returns[1:]))
    except AdapterError as error:
        return ReportEntry(line_numbers=numbers, error=error)


def _merged(first: ChannelReturn, others: list[ChannelReturn]) -> ChannelReturn:
    if not others:
        return first
    lines, refund = list(first.lines), first.refund
    for other in others:
        if other.order_external_id != first.order_external_id:
            raise AdapterError(
                f"Amazon RMA {first.return_id} names two orders ({first.order_external_id}, "
                f"{other.order_external_id}).",
                field=other.fields["order"],
                code="inconsistent_return",
            )
        lines.extend(other.lines)
        if other.refund is not None:
            if refund is not None and other.refund.currency != refund.currency:
                raise AdapterError(
                    f"Amazon RMA {first.return_id} is refunded in two currencies.",
                    field=other.refund.fields["currency"],
                    code="currency_mismatch",
                )
            refund = (
                other.refund
                if refund is None
                else ChannelRefund(
                    reference=refund.reference,
                    amount=refund.amount + other.refund.amount,
                    currency=refund.currency,
                    refunded_at=refund.refunded_at,
                    fields=refund.fields,
                )
            )
    return ChannelReturn(
        channel_kind=first.channel_kind,
        source_format=first.source_format,
        return_id=first.return_id,
        order_external_id=first.order_external_id,
        lines=tuple(lines),
        requested_at=min(
            (r.requested_at for r in (first, *others) if r.requested_at), default=None
        ),
        label_reference=first.label_reference
        or next((r.label_reference for r in others if r.label_reference), ""),
        refund=refund,
        returns_centre=first.returns_centre,
        status=first.status,
        note=first.note,
        fields=first.fields,
    )
