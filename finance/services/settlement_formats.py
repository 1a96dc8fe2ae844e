"""Settlement formats: each source's report, normalized into signed settlement lines.

Pure functions (no database): `parse_settlement(source, data)` returns a
`ParsedSettlement` or raises `SettlementFormatError` naming the line. Every amount is
parsed from its text into `Decimal` (never through float); positive is money to the
seller. Sign conventions per source:

- Amazon flat file V2: amounts are already signed (fees, withheld tax and refunded
  principal negative; fee reversals on refunds positive). The first data row is the
  summary (total-amount, deposit-date). Columns are mapped by header name; the file's
  locale (decimal point or comma, year-first or day-first dates) is read from the summary.
- Shopify Payments: balance transactions carry a signed gross `amount` (refunds and the
  payout itself negative) and an unsigned `fee`; `net` = amount − fee.
- eBay Finances: `amount.value` is unsigned, `bookingEntry` (CREDIT/DEBIT) gives the
  direction. A SALE's `amount` is the seller's net: the buyer paid `totalFeeBasisAmount`,
  which includes `totalFeeAmount` and `eBayCollectedTaxAmount`.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from erp.errors import ValidationFailed
from finance.models.settlements import LineCategory as C
from finance.models.settlements import LineType as T
from finance.models.settlements import SettlementSource

ZERO = Decimal("0")
CENT = Decimal("0.01")

# ISO 4217 codes in circulation (the marketplaces settle in a handful of them).
CURRENCIES = frozenset(
    [
        "AED",
        "ARS",
        "AUD",
        "BGN",
        "BRL",
        "CAD",
        "CHF",
        "CLP",
        "CNY",
        "COP",
        "CZK",
        "DKK",
        "EGP",
        "EUR",
        "GBP",
        "HKD",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "JPY",
        "KRW",
        "MXN",
        "MYR",
        "NOK",
        "NZD",
        "PHP",
        "PLN",
        "RON",
        "SAR",
        "SEK",
        "SGD",
        "THB",
        "TRY",
        "TWD",
        "UAH",
        "USD",
        "ZAR",
    ]
)


class SettlementFormatError(ValidationFailed):
    """A file that cannot be imported; `line` is the 1-based line (TSV) or transaction
    (JSON) at fault, 0 for the file as a whole."""

    def __init__(self, message: str, *, line: int = 0, field_name: str = "file"):
        where = f"Line {line}: " if line else ""
        super().__init__(f"{where}{message}", field=field_name, code="invalid_settlement")
        self.line = line


@dataclass(slots=True)
class ParsedLine:
    line_no: int
    type: str
    category: str
    amount: Decimal
    raw_type: str = ""
    description: str = ""
    order_ref: str = ""
    reference: str = ""
    sku_ref: str = ""
    posted_on: date | None = None


@dataclass
class ParsedSettlement:
    source: str
    external_id: str
    currency: str
    total_amount: Decimal
    period_start: date | None = None
    period_end: date | None = None
    deposit_date: date | None = None
    # The channel reverses its commission when it refunds (Amazon does; Shopify Payments
    # keeps its processing fee).
    refund_reverses_fee: bool = False
    lines: list[ParsedLine] = field(default_factory=list)


def _currency(value, *, line: int) -> str:
    code = str(value or "").strip().upper()
    if code not in CURRENCIES:
        raise SettlementFormatError(f"unknown currency {value!r}.", line=line)
    return code


_POINT = re.compile(r"^[+-]?(\d+|\d{1,3}(,\d{3})+)(\.\d+)?$")
_COMMA = re.compile(r"^[+-]?(\d+|\d{1,3}(\.\d{3})+)(,\d+)?$")


def _amount(text, *, line: int, column: str, decimal_comma: bool = False) -> Decimal:
    """A money amount from its text. In a decimal-point file, `12,50` is refused (a
    decimal comma where a point is expected), and the other way round."""
    raw = str(text if text is not None else "").strip()
    value = _amount_value(raw, decimal_comma)
    if isinstance(value, str):
        raise SettlementFormatError(
            f"{column} {value}" if raw else f"{column} is empty.", line=line, field_name=column
        )
    return value


@lru_cache(maxsize=65536)
def _amount_value(raw: str, decimal_comma: bool) -> Decimal | str:
    """The Decimal, or what is wrong with the text (cached: reports repeat amounts)."""
    if not raw:
        return "is empty."
    if decimal_comma:
        ok = _COMMA.match(raw)
        normal = raw.replace(".", "").replace(",", ".")
    else:
        ok = _POINT.match(raw)
        normal = raw.replace(",", "")
    if not ok:
        if not decimal_comma and re.match(r"^[+-]?\d+,\d{1,2}$", raw):
            return f"{raw!r} has a decimal comma where this file uses a decimal point."
        return f"{raw!r} is not an amount."
    try:
        value = Decimal(normal)
    except InvalidOperation:
        return f"{raw!r} is not an amount."
    if value != value.quantize(CENT):
        return f"{raw!r} has more than two decimals."
    return value


def _json_amount(value, *, line: int, column: str) -> Decimal:
    if isinstance(value, float):
        # Parse the text JSON gave, not a binary float: json.loads(parse_float=str) below.
        value = repr(value)
    return _amount(value, line=line, column=column)


_DATE_FORMATS_YEAR_FIRST = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")
_DATE_FORMATS_MONTH_FIRST = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y")
_DATE_FORMATS_DAY_FIRST = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y")


def _date(text, *, line: int, column: str, day_first: bool = False) -> date | None:
    raw = str(text or "").strip()
    if not raw:
        return None
    parsed = _parse_date(raw, day_first)
    if parsed is None:
        raise SettlementFormatError(
            f"{column} {text!r} is not a date.", line=line, field_name=column
        )
    return parsed


@lru_cache(maxsize=4096)
def _parse_date(raw: str, day_first: bool) -> date | None:
    """A report repeats a handful of dates over thousands of rows: parsed once each."""
    raw = re.sub(r"\s*(UTC|GMT|Z)$", "", raw)
    raw = re.sub(r"(\.\d+)?([+-]\d{2}:?\d{2})?$", "", raw) if "T" in raw else raw
    if re.match(r"^\d{4}-", raw):
        formats = _DATE_FORMATS_YEAR_FIRST  # ISO is unambiguous, whatever the locale
    elif day_first or "." in raw:
        formats = _DATE_FORMATS_DAY_FIRST
    else:
        formats = _DATE_FORMATS_MONTH_FIRST
    for fmt in formats:
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    return None


# --- Amazon settlement report, flat file V2 -------------------------------------------

AMAZON_REQUIRED = (
    "settlement-id",
    "settlement-start-date",
    "settlement-end-date",
    "deposit-date",
    "total-amount",
    "currency",
    "transaction-type",
    "order-id",
    "amount-type",
    "amount-description",
    "amount",
)
_AMAZON_PRICE = {
    "principal": (T.PRINCIPAL, C.SALE),
    "tax": (T.TAX, C.SALE),
    "shipping": (T.SHIPPING, C.SALE),
    "shippingtax": (T.TAX, C.SALE),
    "giftwrap": (T.SHIPPING, C.SALE),
    "giftwraptax": (T.TAX, C.SALE),
    "restockingfee": (T.ADJUSTMENT, C.SALE),
}
_AMAZON_COMMISSION = {
    "commission",
    "variableclosingfee",
    "fixedclosingfee",
    "salesTaxcollectionfee",
}
_AMAZON_RESERVE = ("reserve",)


@lru_cache(maxsize=1024)
def _amazon_kind(transaction_type: str, amount_type: str, description: str) -> tuple[str, str]:
    """(line type, category) from Amazon's transaction-type / amount-type /
    amount-description; unknown combinations come back as (adjustment, unknown)."""
    tt, at, desc = transaction_type.lower(), amount_type.lower(), description.lower()
    refund = tt in ("refund", "chargeback refund", "a-to-z guarantee claim")
    if at == "itemprice" or at == "promotion":
        line_type, category = _AMAZON_PRICE.get(desc.replace(" ", ""), (None, None))
        if at == "promotion":
            line_type, category = T.PRINCIPAL, C.SALE
        if line_type is None:
            return T.ADJUSTMENT, C.UNKNOWN
        return (T.REFUND if refund and category == C.SALE else line_type), category
    if at == "itemwithheldtax":
        return T.TAX, C.WITHHELD_TAX
    if at == "itemfees":
        if desc in {d.lower() for d in _AMAZON_COMMISSION}:
            return T.FEE, C.COMMISSION
        return T.FEE, C.OTHER_FEE
    if tt == "servicefee" or at == "servicefee" or "fee" in desc:
        return T.FEE, C.OTHER_FEE
    if "shipping label" in desc or "postage" in desc:
        return T.FEE, C.SHIPPING_LABEL
    if any(word in desc for word in _AMAZON_RESERVE):
        return T.RESERVE, C.RESERVE
    if "reimbursement" in desc or "reimbursement" in at or tt == "adjustment":
        return T.ADJUSTMENT, C.ADJUSTMENT
    return T.ADJUSTMENT, C.UNKNOWN


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def parse_amazon_v2(data: bytes, progress=None) -> ParsedSettlement:
    text = _decode(data)
    rows = text.splitlines()
    if not rows or not rows[0].strip():
        raise SettlementFormatError("the file is empty.", line=1)
    header = [name.strip().lower() for name in rows[0].split("\t")]
    missing = [name for name in AMAZON_REQUIRED if name not in header]
    if missing:
        raise SettlementFormatError(f"missing column(s): {', '.join(missing)}.", line=1)
    col = {name: index for index, name in enumerate(header)}
    width = len(header)

    def cell(values, name):
        index = col.get(name)
        return values[index].strip() if index is not None and index < len(values) else ""

    summary = None
    lines: list[ParsedLine] = []
    decimal_comma = day_first = False
    settlement_id = ""
    i_order, i_type, i_desc, i_amount = (
        col["order-id"],
        col["amount-type"],
        col["amount-description"],
        col["amount"],
    )
    i_tt, i_sid = col["transaction-type"], col["settlement-id"]
    i_posted = col.get("posted-date")
    i_sku, i_adj = col.get("sku"), col.get("adjustment-id")
    i_item = col.get("order-item-code")
    for number, row in enumerate(rows[1:], start=2):
        if not row.strip():
            continue
        values = row.split("\t")
        if len(values) < width:
            values += [""] * (width - len(values))
        if summary is None:
            total = cell(values, "total-amount")
            if not total:
                raise SettlementFormatError(
                    "the first row after the header must be the settlement summary "
                    "(with total-amount).",
                    line=number,
                )
            decimal_comma = bool(re.match(r"^[+-]?[\d.]*\d,\d{1,2}$", total))
            start_text = cell(values, "settlement-start-date")
            day_first = bool(re.match(r"^\d{1,2}[./]\d{1,2}[./]\d{4}", start_text))
            settlement_id = cell(values, "settlement-id")
            if not settlement_id:
                raise SettlementFormatError("settlement-id is empty.", line=number)
            summary = ParsedSettlement(
                source=SettlementSource.AMAZON_V2,
                external_id=settlement_id,
                currency=_currency(cell(values, "currency"), line=number),
                total_amount=_amount(
                    total, line=number, column="total-amount", decimal_comma=decimal_comma
                ),
                period_start=_date(
                    start_text, line=number, column="settlement-start-date", day_first=day_first
                ),
                period_end=_date(
                    cell(values, "settlement-end-date"),
                    line=number,
                    column="settlement-end-date",
                    day_first=day_first,
                ),
                deposit_date=_date(
                    cell(values, "deposit-date"),
                    line=number,
                    column="deposit-date",
                    day_first=day_first,
                ),
                refund_reverses_fee=True,
            )
            continue
        if values[i_sid].strip() != settlement_id:
            raise SettlementFormatError(
                f"settlement-id {values[i_sid].strip()!r} differs from the summary's "
                f"{settlement_id!r}.",
                line=number,
            )
        transaction_type, amount_type = values[i_tt].strip(), values[i_type].strip()
        description = values[i_desc].strip()
        if not amount_type and not description:
            raise SettlementFormatError(
                "amount-type and amount-description are empty.", line=number
            )
        line_type, category = _amazon_kind(transaction_type, amount_type, description)
        lines.append(
            ParsedLine(
                line_no=number,
                type=line_type,
                category=category,
                amount=_amount(
                    values[i_amount], line=number, column="amount", decimal_comma=decimal_comma
                ),
                raw_type=f"{transaction_type}/{amount_type}"[:128],
                description=description[:255],
                order_ref=values[i_order].strip(),
                reference=(
                    values[i_adj].strip() if i_adj is not None and values[i_adj].strip() else ""
                )
                or (values[i_item].strip() if i_item is not None else ""),
                sku_ref=values[i_sku].strip() if i_sku is not None else "",
                posted_on=_date(
                    values[i_posted] if i_posted is not None else "",
                    line=number,
                    column="posted-date",
                    day_first=day_first,
                ),
            )
        )
        if progress and len(lines) % 10_000 == 0:
            progress(len(lines), len(rows) - 2)
    if summary is None:
        raise SettlementFormatError("no settlement summary row.", line=2)
    summary.lines = lines
    _check_total(summary)
    return summary


# --- Shopify Payments payout with balance transactions --------------------------------


def _load_json(data: bytes):
    try:
        return json.loads(_decode(data), parse_float=str, parse_int=str)
    except json.JSONDecodeError as error:
        raise SettlementFormatError(
            f"not valid JSON ({error.msg} at line {error.lineno}).", line=error.lineno
        ) from None


def _obj(value, what: str, line: int = 0) -> dict:
    if not isinstance(value, dict):
        raise SettlementFormatError(f"{what} must be an object.", line=line)
    return value


def _ref(value) -> str:
    return "" if value in (None, "", "null") else str(value)


_SHOPIFY_TYPES = {
    "charge": (T.PRINCIPAL, C.SALE),
    "refund": (T.REFUND, C.SALE),
    "dispute": (T.ADJUSTMENT, C.ADJUSTMENT),
    "adjustment": (T.ADJUSTMENT, C.ADJUSTMENT),
    "reserve": (T.RESERVE, C.RESERVE),
    "payout": (T.PAYOUT, C.PAYOUT),
    "payout_failure": (T.ADJUSTMENT, C.ADJUSTMENT),
    "payout_cancellation": (T.ADJUSTMENT, C.ADJUSTMENT),
}


def parse_shopify_payout(data: bytes, progress=None) -> ParsedSettlement:
    document = _obj(_load_json(data), "the document")
    payout = _obj(document.get("payout"), "payout")
    transactions = document.get("transactions")
    if not isinstance(transactions, list) or not transactions:
        raise SettlementFormatError(
            "no balance transactions: upload the payout with its balance transactions "
            "(payout + transactions)."
        )
    payout_id = _ref(payout.get("id"))
    if not payout_id:
        raise SettlementFormatError("payout.id is missing.", field_name="payout.id")
    currency = _currency(payout.get("currency"), line=0)
    parsed = ParsedSettlement(
        source=SettlementSource.SHOPIFY_PAYMENTS,
        external_id=payout_id,
        currency=currency,
        total_amount=_json_amount(payout.get("amount"), line=0, column="payout.amount"),
        deposit_date=_date(payout.get("date"), line=0, column="payout.date"),
    )
    days = []
    for number, raw in enumerate(transactions, start=1):
        txn = _obj(raw, f"transaction {number}", number)
        kind = str(txn.get("type") or "")
        if _ref(txn.get("payout_id")) not in ("", payout_id):
            raise SettlementFormatError(
                f"transaction {txn.get('id')} belongs to payout {txn.get('payout_id')}.",
                line=number,
            )
        if _currency(txn.get("currency"), line=number) != currency:
            raise SettlementFormatError(
                f"currency {txn.get('currency')} differs from the payout's {currency}.",
                line=number,
            )
        amount = _json_amount(txn.get("amount"), line=number, column="amount")
        fee = _json_amount(txn.get("fee", "0"), line=number, column="fee")
        line_type, category = _SHOPIFY_TYPES.get(kind, (T.ADJUSTMENT, C.UNKNOWN))
        posted = _date(txn.get("processed_at"), line=number, column="processed_at")
        if posted:
            days.append(posted)
        common = {
            "line_no": number,
            "raw_type": f"{kind}/{txn.get('source_type') or ''}"[:128],
            "order_ref": _ref(txn.get("source_order_id")),
            "reference": _ref(txn.get("id")),
            "posted_on": posted,
        }
        parsed.lines.append(
            ParsedLine(type=line_type, category=category, amount=amount, description=kind, **common)
        )
        if fee:
            parsed.lines.append(
                ParsedLine(
                    type=T.FEE,
                    category=C.COMMISSION if kind == "charge" else C.OTHER_FEE,
                    amount=-fee,
                    description=f"{kind} fee",
                    **common,
                )
            )
        net = txn.get("net")
        if net not in (None, "") and _json_amount(net, line=number, column="net") != amount - fee:
            raise SettlementFormatError(
                f"net {net} is not amount {amount} − fee {fee}.", line=number, field_name="net"
            )
    if days:
        parsed.period_start, parsed.period_end = min(days), max(days)
    payouts = [line for line in parsed.lines if line.type == T.PAYOUT]
    if payouts and sum((line.amount for line in payouts), ZERO) != -parsed.total_amount:
        raise SettlementFormatError(
            f"the payout transaction ({payouts[0].amount}) does not match payout.amount "
            f"{parsed.total_amount}.",
            line=payouts[0].line_no,
        )
    summary = payout.get("summary")
    if isinstance(summary, dict):
        gross = sum(
            (
                _json_amount(v, line=0, column=k)
                for k, v in summary.items()
                if k.endswith("_gross_amount")
            ),
            ZERO,
        )
        fees = sum(
            (
                _json_amount(v, line=0, column=k)
                for k, v in summary.items()
                if k.endswith("_fee_amount")
            ),
            ZERO,
        )
        if gross - fees != parsed.total_amount:
            raise SettlementFormatError(
                f"payout summary: gross {gross} − fees {fees} is not the amount "
                f"{parsed.total_amount}."
            )
    _check_total(parsed)
    return parsed


# --- eBay Finances getTransactions -----------------------------------------------------

_EBAY_SIGN = {"CREDIT": 1, "DEBIT": -1}


def _money(obj, *, line: int, column: str, currency: str | None = None) -> Decimal:
    if obj is None:
        return ZERO
    value = _obj(obj, column, line)
    if currency and value.get("currency") and str(value["currency"]).upper() != currency:
        raise SettlementFormatError(
            f"{column} is in {value['currency']}, the payout in {currency}.", line=line
        )
    return _json_amount(value.get("value"), line=line, column=column)


def _ebay_order_ref(txn: dict) -> str:
    if txn.get("orderId"):
        return str(txn["orderId"])
    for reference in txn.get("references") or []:
        if isinstance(reference, dict) and reference.get("referenceType") == "ORDER_ID":
            return str(reference.get("referenceId") or "")
    return ""


def parse_ebay_transactions(data: bytes, progress=None) -> ParsedSettlement:
    document = _obj(_load_json(data), "the document")
    transactions = document.get("transactions")
    if not isinstance(transactions, list) or not transactions:
        raise SettlementFormatError("no transactions in the document.")
    payout_ids = {_ref(_obj(t, "transaction").get("payoutId")) for t in transactions}
    if len(payout_ids) != 1 or "" in payout_ids:
        raise SettlementFormatError(
            "every transaction must name the same payoutId (one payout per upload)."
        )
    first = _obj(transactions[0].get("amount"), "amount", 1)
    currency = _currency(first.get("currency"), line=1)
    parsed = ParsedSettlement(
        source=SettlementSource.EBAY_FINANCES,
        external_id=payout_ids.pop(),
        currency=currency,
        total_amount=ZERO,
    )
    days = []
    for number, txn in enumerate(transactions, start=1):
        kind = str(txn.get("transactionType") or "")
        booking = str(txn.get("bookingEntry") or "").upper()
        if booking not in _EBAY_SIGN:
            raise SettlementFormatError(
                f"bookingEntry {txn.get('bookingEntry')!r} is neither CREDIT nor DEBIT.",
                line=number,
                field_name="bookingEntry",
            )
        sign = _EBAY_SIGN[booking]
        amount = _money(txn.get("amount"), line=number, column="amount", currency=currency)
        tax = _money(
            txn.get("eBayCollectedTaxAmount"),
            line=number,
            column="eBayCollectedTaxAmount",
            currency=currency,
        )
        posted = _date(txn.get("transactionDate"), line=number, column="transactionDate")
        if posted:
            days.append(posted)
        common = {
            "line_no": number,
            "raw_type": f"{kind}/{txn.get('feeType') or ''}".rstrip("/")[:128],
            "order_ref": _ebay_order_ref(txn),
            "reference": _ref(txn.get("transactionId")),
            "posted_on": posted,
        }
        out = parsed.lines
        if kind == "SALE":
            basis = _money(
                txn.get("totalFeeBasisAmount"), line=number, column="totalFeeBasisAmount"
            )
            fee_total = _money(txn.get("totalFeeAmount"), line=number, column="totalFeeAmount")
            fees = []
            for item in txn.get("orderLineItems") or []:
                for fee in _obj(item, "orderLineItems[]", number).get("marketplaceFees") or []:
                    fees.append(
                        (
                            str(fee.get("feeType") or "FEE"),
                            _money(fee.get("amount"), line=number, column="marketplaceFees.amount"),
                        )
                    )
            if not fees and fee_total:
                fees = [("TOTAL_FEE", fee_total)]
            if not basis:
                basis = sign * amount + sum((f for _, f in fees), ZERO) + tax
            out.append(
                ParsedLine(
                    type=T.PRINCIPAL,
                    category=C.SALE,
                    amount=basis - tax,
                    description="Sale (buyer paid, excluding eBay-collected tax)",
                    **common,
                )
            )
            if tax:
                out.append(
                    ParsedLine(type=T.TAX, category=C.SALE, amount=tax, description="Tax", **common)
                )
                out.append(
                    ParsedLine(
                        type=T.TAX,
                        category=C.WITHHELD_TAX,
                        amount=-tax,
                        description="Tax collected and remitted by eBay",
                        **common,
                    )
                )
            for fee_type, value in fees:
                out.append(
                    ParsedLine(
                        type=T.FEE,
                        category=C.COMMISSION,
                        amount=-value,
                        description=fee_type,
                        **common,
                    )
                )
            rest = sign * amount - (basis - sum((f for _, f in fees), ZERO) - tax)
            if rest:
                out.append(
                    ParsedLine(
                        type=T.ADJUSTMENT,
                        category=C.ADJUSTMENT,
                        amount=rest,
                        description="Sale net differs from buyer paid − fees − tax",
                        **common,
                    )
                )
        elif kind == "REFUND":
            out.append(
                ParsedLine(
                    type=T.REFUND,
                    category=C.SALE,
                    amount=sign * (amount + tax),
                    description="Refund to the buyer",
                    **common,
                )
            )
            if tax:
                out.append(
                    ParsedLine(
                        type=T.TAX,
                        category=C.WITHHELD_TAX,
                        amount=-sign * tax,
                        description="Tax refunded by eBay",
                        **common,
                    )
                )
        elif kind == "SHIPPING_LABEL":
            out.append(
                ParsedLine(
                    type=T.FEE,
                    category=C.SHIPPING_LABEL,
                    amount=sign * amount,
                    description=str(txn.get("transactionMemo") or "Shipping label")[:255],
                    **common,
                )
            )
        elif kind == "NON_SALE_CHARGE":
            out.append(
                ParsedLine(
                    type=T.FEE,
                    category=C.OTHER_FEE,
                    amount=sign * amount,
                    description=str(txn.get("transactionMemo") or txn.get("feeType") or kind)[:255],
                    **common,
                )
            )
        elif kind in ("CREDIT", "ADJUSTMENT", "DISPUTE", "LOAN_REPAYMENT", "TRANSFER"):
            out.append(
                ParsedLine(
                    type=T.ADJUSTMENT,
                    category=C.ADJUSTMENT,
                    amount=sign * amount,
                    description=str(txn.get("transactionMemo") or kind)[:255],
                    **common,
                )
            )
        else:
            out.append(
                ParsedLine(
                    type=T.ADJUSTMENT,
                    category=C.UNKNOWN,
                    amount=sign * amount,
                    description=str(txn.get("transactionMemo") or kind)[:255],
                    **common,
                )
            )
    parsed.total_amount = sum((line.amount for line in parsed.lines), ZERO)
    if days:
        parsed.period_start, parsed.period_end = min(days), max(days)
        parsed.deposit_date = max(days)
    return parsed


def _check_total(parsed: ParsedSettlement) -> None:
    lines = sum((line.amount for line in parsed.lines if line.type != T.PAYOUT), ZERO)
    if lines != parsed.total_amount:
        raise SettlementFormatError(
            f"the lines add up to {lines} {parsed.currency} but the settlement total is "
            f"{parsed.total_amount}: the file is incomplete or not this settlement's."
        )


PARSERS = {
    SettlementSource.AMAZON_V2: parse_amazon_v2,
    SettlementSource.SHOPIFY_PAYMENTS: parse_shopify_payout,
    SettlementSource.EBAY_FINANCES: parse_ebay_transactions,
}

# The source a channel kind settles with.
SOURCE_FOR_CHANNEL_KIND = {
    "amazon": SettlementSource.AMAZON_V2,
    "shopify": SettlementSource.SHOPIFY_PAYMENTS,
    "ebay": SettlementSource.EBAY_FINANCES,
}


def parse_settlement(source: str, data: bytes, progress=None) -> ParsedSettlement:
    parser = PARSERS.get(source)
    if parser is None:
        raise ValidationFailed(
            f"{source!r} is not a settlement format we read.", field="source", code="invalid"
        )
    return parser(data, progress)
