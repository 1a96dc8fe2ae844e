"""What a posted refund tells a sales channel, and the request that carries it.

`RefundNotice` is the channel-neutral fact ("these order lines are refunded this much, for
this reason"), built by the returns service from its models. Each channel module turns it
into an `OutboundRequest` (fulfillment.channel_formats.base) in the channel's own format.
Everything here is pure: no database, no network, no clock.

Money is `Decimal` from end to end: amounts arrive as Decimal (or as text, parsed), are
checked to be whole cents, added up and split in Decimal, and only the finished figure is
rendered the way the channel's sample does: a string ("21.41", eBay "15.00") or a JSON
number (Shopify 23.79, Walmart -2.0). A JSON number is an IEEE double on the wire whatever
we do; `json_number` hands over the double whose shortest text is exactly our cents
(0.1 + 0.2 goes out as 0.3), never the result of float arithmetic. A `float` given as an
amount is refused.

The refund adds up: total = Σ lines (item + tax) + shipping + shipping tax − restocking fee,
and a notice whose total says otherwise is refused, so no channel is told an amount that our
books do not show. Every formatter refuses a notice the channel would refuse, with
`ValidationFailed` naming the notice field (`total`, `lines[1].quantity`,
`lines[0].external_line_id`, `extra.marketplace_id`): a refund that cannot succeed must fail
when it is posted, not after N delivery retries.
"""

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

from erp.errors import ValidationFailed
from fulfillment.channel_formats.base import OutboundRequest, Prerequisite

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True, kw_only=True)
class RefundTaxLine:
    """One tax of a line as the channel names it: WooCommerce's tax rate id ("1"), Walmart's
    taxName ("Tax1"). Its amounts add up to the line's tax_amount."""

    tax_id: str
    amount: Decimal


@dataclass(frozen=True, kw_only=True)
class RefundTransaction:
    """A payment the refund goes back to (Shopify: the sale or capture transaction, from
    POST …/refunds/calculate.json), with the part of the refund it takes."""

    parent_id: str
    amount: Decimal
    gateway: str = ""


@dataclass(frozen=True, kw_only=True)
class RefundNoticeLine:
    line_number: int  # OrderLine.line_number (our position on the order)
    external_line_id: str  # OrderLine.external_line_id: Shopify line_item id, Amazon
    # OrderItemId, eBay lineItemId, Walmart lineNumber, WooCommerce line item id
    quantity: int  # units of this line refunded
    item_amount: Decimal  # for the whole quantity, after discounts, without tax
    tax_amount: Decimal = ZERO  # tax refunded with it
    external_item_id: str = ""  # ASIN, eBay legacyItemId[:variation], Shopify variant id, …
    channel_sku: str = ""  # the seller SKU as the channel knows it
    # This line's share of the notice's restocking fee (RefundLine.restocking_fee). Leave
    # every line at 0 to have the notice's fee split in proportion to the items.
    restocking_fee: Decimal = ZERO
    reason_code: str = ""  # this line's reason, when it differs from the notice's
    reason_is_damage: bool = False  # that reason's flags (ReturnReason.counts_as_damage,
    reason_is_our_fault: bool = False  # .our_fault); unused without a reason_code
    channel_tax_lines: tuple[RefundTaxLine, ...] = ()  # WooCommerce needs them when taxed

    def __post_init__(self):
        object.__setattr__(self, "channel_tax_lines", tuple(self.channel_tax_lines or ()))


@dataclass(frozen=True, kw_only=True)
class RefundNotice:
    """One posted refund of one order, as the channel must learn it."""

    channel_kind: str  # erp Channel.Kind: shopify, amazon, ebay, walmart, woocommerce, b2b, manual
    order_external_id: str  # Order.external_id (Walmart purchaseOrderId)
    refund_id: int  # Refund.pk
    currency: str  # ISO 4217, the order's (Shopify: the presentment currency)
    lines: tuple[RefundNoticeLine, ...]
    total: Decimal  # what goes back: Σ lines + shipping + shipping tax − restocking fee
    created_at: datetime  # timezone-aware: when the refund was posted
    order_number: str = ""  # Order.order_number ("#1042")
    refund_reference: str = ""  # Refund.number ("RF-000012"): the dedupe key's last part
    rma_reference: str = ""  # Rma.number
    extra: dict = field(default_factory=dict)  # Order.extra: channel ids kept at ingestion
    reason_code: str = ""  # ReturnReason.code, or the channel's own reason value
    reason_label: str = ""  # ReturnReason.label
    reason_is_damage: bool = False  # ReturnReason.counts_as_damage
    reason_is_our_fault: bool = False  # ReturnReason.our_fault
    note: str = ""  # the refund's note, shown to the buyer where the channel has a comment
    shipping_amount: Decimal = ZERO  # shipping refunded, without its tax
    shipping_tax: Decimal = ZERO
    restocking_fee: Decimal = ZERO  # kept back from the items
    # True when nothing may move money: the channel refunded the buyer itself, or policy
    # says only record. WooCommerce then sends api_refund false, Shopify no transaction;
    # channels whose refund call always pays (eBay, Walmart, Amazon) refuse the notice.
    record_only: bool = False
    restock: bool = True  # units go back to stock (Shopify restock_type, Woo api_restock)
    notify_customer: bool = True
    channel_location_id: str = ""  # Shopify location that takes restocked units
    transactions: tuple[RefundTransaction, ...] = ()  # Shopify: the payments refunded

    def __post_init__(self):
        object.__setattr__(self, "lines", tuple(self.lines))
        object.__setattr__(self, "transactions", tuple(self.transactions or ()))
        object.__setattr__(self, "extra", dict(self.extra or {}))

    def as_dict(self) -> dict:
        """JSON-safe form (amounts as text), for an outbox row that formats later."""
        data = {
            name: _plain(getattr(self, name))
            for name in self.__dataclass_fields__
            if name not in {"lines", "transactions"}
        }
        data["lines"] = [
            {
                **{
                    name: _plain(getattr(line, name))
                    for name in line.__dataclass_fields__
                    if name != "channel_tax_lines"
                },
                "channel_tax_lines": [
                    {"tax_id": tax.tax_id, "amount": str(tax.amount)}
                    for tax in line.channel_tax_lines
                ],
            }
            for line in self.lines
        ]
        data["transactions"] = [
            {"parent_id": t.parent_id, "amount": str(t.amount), "gateway": t.gateway}
            for t in self.transactions
        ]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "RefundNotice":
        values = dict(data)
        values["created_at"] = datetime.fromisoformat(values["created_at"])
        for name in ("total", "shipping_amount", "shipping_tax", "restocking_fee"):
            if name in values:
                values[name] = Decimal(values[name])
        values["lines"] = tuple(_line_from_dict(line) for line in values["lines"])
        values["transactions"] = tuple(
            RefundTransaction(
                parent_id=t["parent_id"], amount=Decimal(t["amount"]), gateway=t.get("gateway", "")
            )
            for t in values.get("transactions") or ()
        )
        return cls(**values)


def _line_from_dict(data: dict) -> RefundNoticeLine:
    values = dict(data)
    for name in ("item_amount", "tax_amount", "restocking_fee"):
        if name in values:
            values[name] = Decimal(values[name])
    values["channel_tax_lines"] = tuple(
        RefundTaxLine(tax_id=tax["tax_id"], amount=Decimal(tax["amount"]))
        for tax in values.get("channel_tax_lines") or ()
    )
    return RefundNoticeLine(**values)


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@dataclass(frozen=True, kw_only=True)
class FeedRequest(OutboundRequest):
    """A request whose data travels as a document uploaded first (Amazon's Feeds API): run
    `prerequisite` (create the feed document), upload `document` with
    `document_content_type` to the URL it answers, then send this request with the
    document's id in place of `{feedDocumentId}`."""

    document: str = ""
    document_content_type: str = ""


@dataclass(frozen=True, kw_only=True)
class LineMoney:
    """What one channel line gets back, after the notice's totals were split over lines.
    Lines naming the same channel line are merged (two RMA lines of one order line)."""

    index: int  # position of the first notice line merged into it
    line: RefundNoticeLine  # that first notice line (ids, reason, tax lines)
    external_id: str
    quantity: int
    item_amount: Decimal
    tax_amount: Decimal
    shipping_amount: Decimal
    shipping_tax: Decimal
    restocking_fee: Decimal
    tax_lines: tuple[RefundTaxLine, ...]

    @property
    def net_item_amount(self) -> Decimal:
        """The item refund once the restocking fee is kept back."""
        return self.item_amount - self.restocking_fee

    @property
    def amount(self) -> Decimal:
        """Everything this line gets back."""
        return (
            self.item_amount
            + self.tax_amount
            + self.shipping_amount
            + self.shipping_tax
            - self.restocking_fee
        )


def refuse(message: str, *, field: str, code: str = "invalid"):
    raise ValidationFailed(message, field=field, code=code)


def refund_key(notice: RefundNotice) -> str:
    reference = str(notice.refund_reference or "").strip()
    return reference or (str(notice.refund_id) if notice.refund_id else "")


def dedupe_key(kind: str, notice: RefundNotice) -> str:
    """The outbox dedupe key, as returns.services.refund_notice.refund_dedupe_key makes it."""
    return f"refund.{kind}:{notice.order_external_id}:{refund_key(notice)}"


def money(value, where: str) -> Decimal:
    """An amount as whole cents: Decimal, int or text; never float, never negative."""
    if isinstance(value, bool | float):
        refuse(
            f"{where} must be a Decimal amount, not {type(value).__name__} {value!r}: "
            "money is never carried as float.",
            field=where,
            code="not_decimal",
        )
    if isinstance(value, int):
        value = Decimal(value)
    elif isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            refuse(f"{where} must be an amount, not {value!r}.", field=where, code="invalid")
    if not isinstance(value, Decimal) or not value.is_finite():
        refuse(f"{where} must be an amount, not {value!r}.", field=where, code="invalid")
    if value < 0:
        refuse(
            f"{where} cannot be negative ({value}); the channel's sign is applied when formatting.",
            field=where,
            code="negative_amount",
        )
    if value != value.quantize(CENT):
        refuse(
            f"{where} must be whole cents, not {value}: rounding it here would change money.",
            field=where,
            code="invalid_precision",
        )
    return value.quantize(CENT) if value else ZERO


def checked(notice: RefundNotice, channel: str) -> RefundNotice:
    """What every channel needs: the order's id, a refund key, a currency, an aware time,
    lines with whole positive quantities and amounts in cents, and a total that adds up.
    Returns the notice with every amount as a 2-place Decimal."""
    if not str(notice.order_external_id or "").strip():
        refuse(f"{channel} needs the order's id.", field="order_external_id", code="required")
    if not refund_key(notice):
        refuse("The refund's reference is required.", field="refund_reference", code="required")
    if not CURRENCY.match(str(notice.currency or "")):
        refuse(
            f"The currency must be a three-letter ISO code, not {notice.currency!r}.",
            field="currency",
            code="invalid_currency",
        )
    if not isinstance(notice.created_at, datetime):
        refuse("The refund's time is required.", field="created_at", code="required")
    if notice.created_at.utcoffset() is None:
        refuse("The refund's time needs a time zone.", field="created_at", code="naive_datetime")
    if not notice.lines:
        refuse("A refund notice needs at least one line.", field="lines", code="required")
    lines = []
    for index, line in enumerate(notice.lines):
        where = f"lines[{index}]"
        quantity = line.quantity
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            refuse(
                f"Line {index + 1}: the refunded quantity must be a whole number of at least 1, "
                f"not {quantity!r}.",
                field=f"{where}.quantity",
                code="invalid_quantity",
            )
        taxes = tuple(
            replace(tax, amount=money(tax.amount, f"{where}.channel_tax_lines[{i}].amount"))
            for i, tax in enumerate(line.channel_tax_lines)
        )
        line = replace(
            line,
            item_amount=money(line.item_amount, f"{where}.item_amount"),
            tax_amount=money(line.tax_amount, f"{where}.tax_amount"),
            restocking_fee=money(line.restocking_fee, f"{where}.restocking_fee"),
            channel_tax_lines=taxes,
        )
        if taxes and sum((tax.amount for tax in taxes), ZERO) != line.tax_amount:
            refuse(
                f"Line {index + 1}: its taxes add up to {sum(t.amount for t in taxes)}, "
                f"not its tax amount {line.tax_amount}.",
                field=f"{where}.channel_tax_lines",
                code="tax_mismatch",
            )
        lines.append(line)
    notice = replace(
        notice,
        lines=tuple(lines),
        total=money(notice.total, "total"),
        shipping_amount=money(notice.shipping_amount, "shipping_amount"),
        shipping_tax=money(notice.shipping_tax, "shipping_tax"),
        restocking_fee=money(notice.restocking_fee, "restocking_fee"),
        transactions=tuple(
            replace(t, amount=money(t.amount, f"transactions[{i}].amount"))
            for i, t in enumerate(notice.transactions)
        ),
    )
    expected = computed_total(notice)
    if notice.total != expected:
        refuse(
            f"The refund total {notice.total} does not add up: lines {lines_total(notice)} + "
            f"shipping {notice.shipping_amount + notice.shipping_tax} − restocking fee "
            f"{notice.restocking_fee} = {expected}.",
            field="total",
            code="total_mismatch",
        )
    if notice.total <= 0:
        refuse("A refund must pay something back.", field="total", code="min_value")
    _line_fees(notice)  # a fee that cannot be split is refused for every channel
    return notice


def lines_total(notice: RefundNotice) -> Decimal:
    return sum((line.item_amount + line.tax_amount for line in notice.lines), ZERO)


def computed_total(notice: RefundNotice) -> Decimal:
    return (
        lines_total(notice) + notice.shipping_amount + notice.shipping_tax - notice.restocking_fee
    )


def allocate(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split `amount` over the weights in whole cents, in proportion, the cents left over
    going to the largest remainders (the earlier line on a tie). Σ result == amount."""
    if not weights:
        return []
    cents = int((amount / CENT).to_integral_value())
    total = sum(weights, ZERO)
    if total <= 0:
        return [amount] + [ZERO] * (len(weights) - 1)
    shares, remainders = [], []
    for index, weight in enumerate(weights):
        exact = Decimal(cents) * weight / total
        whole = int(exact.to_integral_value(rounding=ROUND_FLOOR))
        shares.append(whole)
        remainders.append((exact - whole, -index))
    for _, negative_index in sorted(remainders, reverse=True)[: cents - sum(shares)]:
        shares[-negative_index] += 1
    return [Decimal(share) * CENT for share in shares]


def _line_fees(notice: RefundNotice) -> list[Decimal]:
    fees = [line.restocking_fee for line in notice.lines]
    given = sum(fees, ZERO)
    if given == notice.restocking_fee:
        pass
    elif given == 0:
        fees = allocate(notice.restocking_fee, [line.item_amount for line in notice.lines])
    else:
        refuse(
            f"The lines' restocking fees add up to {given}, not the refund's "
            f"{notice.restocking_fee}.",
            field="restocking_fee",
            code="restocking_fee_mismatch",
        )
    for index, (line, fee) in enumerate(zip(notice.lines, fees, strict=True)):
        if fee > line.item_amount:
            refuse(
                f"Line {index + 1}: a restocking fee of {fee} is more than its items "
                f"({line.item_amount}).",
                field=f"lines[{index}].restocking_fee",
                code="exceeds_item_amount",
            )
    return fees


def line_money(
    notice: RefundNotice, *, channel: str, label: str, attribute: str = "external_line_id"
) -> list[LineMoney]:
    """Per channel line (`attribute` of the notice lines; `label` is the channel's name for
    it), in first-seen order: the line's amounts, its share of the restocking fee (as
    given per line, else in proportion to the items) and of shipping and shipping tax (in
    proportion to the items). Call after `checked`."""
    fees = _line_fees(notice)
    weights = [line.item_amount + line.tax_amount for line in notice.lines]
    shipping = allocate(notice.shipping_amount, weights)
    shipping_tax = allocate(notice.shipping_tax, weights)
    merged: dict[str, LineMoney] = {}
    for index, line in enumerate(notice.lines):
        value = str(getattr(line, attribute) or "").strip()
        if not value:
            refuse(
                f"Line {index + 1}: {channel} needs the line's {label} ({attribute}).",
                field=f"lines[{index}].{attribute}",
                code="required",
            )
        current = merged.get(value)
        parts = {
            "quantity": line.quantity,
            "item_amount": line.item_amount,
            "tax_amount": line.tax_amount,
            "shipping_amount": shipping[index],
            "shipping_tax": shipping_tax[index],
            "restocking_fee": fees[index],
        }
        if current is None:
            merged[value] = LineMoney(
                index=index,
                line=line,
                external_id=value,
                tax_lines=line.channel_tax_lines,
                **parts,
            )
        else:
            merged[value] = replace(
                current,
                tax_lines=_merge_taxes(current.tax_lines, line.channel_tax_lines),
                **{name: getattr(current, name) + amount for name, amount in parts.items()},
            )
    return list(merged.values())


def _merge_taxes(first, second) -> tuple[RefundTaxLine, ...]:
    amounts: dict[str, Decimal] = {}
    for tax in (*first, *second):
        amounts[tax.tax_id] = amounts.get(tax.tax_id, ZERO) + tax.amount
    return tuple(RefundTaxLine(tax_id=tax_id, amount=amount) for tax_id, amount in amounts.items())


def text_amount(value: Decimal) -> str:
    """Two places, no exponent, no grouping: "21.41", "15.00", "0.30"."""
    return f"{value.quantize(CENT):f}"


def json_number(value: Decimal) -> float:
    """The JSON number for an amount in cents: the double whose shortest text is exactly
    `value` (23.79, -2.0, 0.3), checked to round-trip; never -0.0."""
    value = value.quantize(CENT)
    if value == 0:
        return 0.0
    number = float(value)
    if Decimal(repr(number)) != value:  # pragma: no cover - beyond 15 significant digits
        refuse(f"{value} cannot be sent exactly as a JSON number.", field="total")
    return number


def not_record_only(notice: RefundNotice, channel: str):
    if notice.record_only:
        refuse(
            f"{channel}'s refund call always pays the buyer; a refund the channel already made "
            "or one that is only recorded has nothing to send.",
            field="record_only",
            code="unsupported",
        )


def comment(notice: RefundNotice, limit: int | None = None) -> str:
    """The buyer-facing text: the note, else the reason's label, else its code."""
    text = " ".join(str(notice.note or notice.reason_label or notice.reason_code or "").split())
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


# Reasons: our codes are managed data, so each is read as one of a few kinds, by its words
# and then by the reason's flags; each channel maps a kind to its own value.
REASON_WORDS = (
    ("not_received", ("not_received", "never_arrived", "lost", "inr", "undeliver")),
    ("wrong_item", ("wrong_item", "incorrect_item", "wrong_product", "different_item")),
    ("not_as_described", ("not_as_described", "not_as_advertised", "snad", "described")),
    ("missing_parts", ("missing",)),
    ("damaged", ("damag", "broken")),
    ("defective", ("defect", "faulty", "does_not_work", "not_working")),
    ("late", ("late",)),
)


def reason_kind(reason: RefundNotice | RefundNoticeLine) -> str:
    """damaged, defective, wrong_item, not_as_described, missing_parts, not_received, late
    or remorse (the buyer's own reason: changed mind, wrong size, no longer needed): by the
    code's words, else by the reason's flags."""
    key = re.sub(r"[^a-z0-9]+", "_", str(reason.reason_code or "").lower())
    for kind, words in REASON_WORDS:
        if any(re.search(rf"(^|_){word}", key) for word in words):
            return kind
    if reason.reason_is_damage:
        return "damaged"
    if reason.reason_is_our_fault:
        return "not_as_described"
    return "remorse"


def channel_reason(
    notice: RefundNotice, values, by_kind: dict[str, str], line: RefundNoticeLine | None = None
) -> str:
    """The channel's value for the line's reason (when it has its own) or the notice's: the
    code itself when it already is one of the channel's `values` (any case or spacing),
    else the value for its kind."""
    reason = line if line is not None and str(line.reason_code or "").strip() else notice
    own = str(reason.reason_code or "").strip()
    spelled = {re.sub(r"[^a-z0-9]", "", value.lower()): value for value in values}
    direct = spelled.get(re.sub(r"[^a-z0-9]", "", own.lower())) if own else None
    return direct or by_kind[reason_kind(reason)]


__all__ = [
    "FeedRequest",
    "LineMoney",
    "OutboundRequest",
    "Prerequisite",
    "RefundNotice",
    "RefundNoticeLine",
    "RefundTaxLine",
    "RefundTransaction",
]
