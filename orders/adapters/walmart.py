"""Walmart Marketplace Orders API purchase order (`GET /v3/orders/{purchaseOrderId}`).

Accepts the response (`{"order": {...}}`) or the bare order. Fields used:
- `purchaseOrderId` → external_id (acknowledge, ship, cancel and refund are per
  purchaseOrderId + lineNumber); `customerOrderId` → order_number (one customer order can
  span several purchase orders), also in extra.
- `orderDate` → placed_at: epoch milliseconds in practice although the schema types it as
  date-time, so both are accepted. There is no order-level modification time; the latest
  line `statusDate` stands in for updated_at.
- `shippingInfo`: `estimatedShipDate` → ship_by, `methodCode` → service level,
  `postalAddress` → ship_to (`country` "USA" → "US"), `phone`; `customerEmailId` → email.
- `orderLines.orderLine[]`: `lineNumber` → external_line_id (the same SKU may sit on several
  lines; they stay separate), `item.sku` → channel_sku, `item.productName`,
  `orderLineQuantity.amount` (a string) → quantity, `charges.charge[]` with `chargeType`
  PRODUCT (price) or SHIPPING and each charge's `tax.taxAmount`; amounts are JSON numbers.
  `orderLineStatuses.orderLineStatus[]` (`status`, `statusQuantity.amount`): Cancelled units
  → removed_quantity; all lines Cancelled → cancelled; all the rest Shipped/Delivered → shipped.
- Payment: Walmart charges the customer when lines are marked Shipped, so an open order is
  authorized, a shipped one captured, an entirely cancelled one voided.

Unconfirmed: since Multi-Line Multi-Quantity a line may hold several units, and Walmart's
schema does not say whether a charge is per unit or per line. ITEM_PRICE_BASIS reads charges
(and their taxes) as per unit, which is what they were when every line held one unit; confirm
on a sandbox order and flip it to "line" if Walmart sends line totals. Lines with more than
one unit are flagged in extra["price_basis_unconfirmed"] until then.
"""

from dataclasses import dataclass
from decimal import Decimal

from orders.adapters.base import (
    AdapterError,
    ChannelStatus,
    NormalizedAddress,
    NormalizedLine,
    NormalizedOrder,
    PaymentStatus,
    ServiceLevel,
)
from orders.adapters.parsing import (
    amount_in,
    check_shape,
    country_code,
    currency_code,
    dig,
    identifier,
    items,
    obj,
    optional_utc_datetime,
    path,
    per_unit,
    quantity,
    rounding_note,
    text,
    utc_datetime,
    whole_number,
)

ITEM_PRICE_BASIS = "unit"  # "unit" or "line": see the module docstring
ZERO = Decimal("0.00")
SERVICE_LEVEL = {
    "value": ServiceLevel.ECONOMY,
    "standard": ServiceLevel.STANDARD,
    "express": ServiceLevel.EXPEDITED,
    "twoday": ServiceLevel.EXPEDITED,
    "oneday": ServiceLevel.NEXT_DAY,
    "nextday": ServiceLevel.NEXT_DAY,
    "freight": ServiceLevel.STANDARD,
    "whiteglove": ServiceLevel.STANDARD,
}
SHIPPED = {"shipped", "delivered"}


@dataclass
class _Line:
    normalized: NormalizedLine
    price: Decimal = ZERO
    shipping: Decimal = ZERO
    discount: Decimal = ZERO
    other: Decimal = ZERO  # charge types other than PRODUCT/SHIPPING still reach the total
    tax: Decimal = ZERO
    rounding: dict | None = None

    @property
    def total(self) -> Decimal:
        return self.price + self.shipping + self.other - self.discount + self.tax


def parse_order(payload: dict, *, item_price_basis: str = ITEM_PRICE_BASIS) -> NormalizedOrder:
    if item_price_basis not in ("unit", "line"):
        raise ValueError(f"item_price_basis must be 'unit' or 'line', not {item_price_basis!r}")
    if isinstance(payload, dict) and isinstance(payload.get("order"), dict):
        payload, root = payload["order"], "order."
    else:
        root = ""
    check_shape(payload, "Walmart", ("purchaseOrderId", "orderLines.orderLine"), prefix=root)
    lines_path = f"{root}orderLines.orderLine"
    raw_lines = items(payload["orderLines"]["orderLine"], lines_path, required_non_empty=True)
    raw_lines = [obj(line, path(lines_path, i)) for i, line in enumerate(raw_lines)]
    currency = _currency(raw_lines, lines_path)
    parsed = [
        _line(line, path(lines_path, i), currency, item_price_basis)
        for i, line in enumerate(raw_lines)
    ]

    def total(name: str) -> Decimal:
        return sum((getattr(line, name) for line in parsed), ZERO)

    shipping = obj(payload.get("shippingInfo"), f"{root}shippingInfo")
    payment_status, channel_status = _status(raw_lines)
    return NormalizedOrder(
        channel_kind="walmart",
        external_id=identifier(payload["purchaseOrderId"], f"{root}purchaseOrderId"),
        order_number=text(payload.get("customerOrderId")),
        placed_at=utc_datetime(payload.get("orderDate"), f"{root}orderDate"),
        updated_at=_updated_at(raw_lines, lines_path),
        ship_by=optional_utc_datetime(
            shipping.get("estimatedShipDate"), f"{root}shippingInfo.estimatedShipDate"
        ),
        currency=currency,
        lines=tuple(line.normalized for line in parsed),
        service_level=SERVICE_LEVEL.get(
            text(shipping.get("methodCode")).lower(), ServiceLevel.STANDARD
        ),
        payment_status=payment_status,
        channel_status=channel_status,
        # Every line cancelled: the last line status change is the cancellation.
        cancelled_at=_updated_at(raw_lines, lines_path)
        if channel_status == ChannelStatus.CANCELLED
        else None,
        ship_to=_address(shipping, payload, root),
        customer_email=text(payload.get("customerEmailId")),
        shipping_total=total("shipping"),
        tax_total=total("tax"),
        discount_total=total("discount"),
        total=total("total"),
        taxes_included=False,  # US sales tax is charged on top of the price
        extra=_extra(payload, parsed, item_price_basis),
    )


def _currency(raw_lines: list, lines_path: str) -> str:
    for i, line in enumerate(raw_lines):
        for j, charge in enumerate(items(dig(line, "charges.charge"), "charges.charge")):
            stated = dig(charge, "chargeAmount.currency")
            if stated:
                where = f"{path(lines_path, i)}.charges.charge[{j}].chargeAmount.currency"
                return currency_code(stated, where)
    raise AdapterError(
        "No charge states the order's currency.",
        field=f"{path(lines_path, 0)}.charges.charge",
        code="required",
    )


def _line(line: dict, where: str, currency: str, basis: str) -> _Line:
    line_id = identifier(line.get("lineNumber"), path(where, "lineNumber"))
    count = quantity(dig(line, "orderLineQuantity.amount"), f"{where}.orderLineQuantity.amount")
    factor = count if basis == "unit" else 1  # charge amount × factor = line amount
    sums = dict.fromkeys(("price", "shipping", "discount", "other", "tax"), ZERO)
    priced = False  # a free item has a PRODUCT charge of 0.00; a line without one is malformed
    charges_path = f"{where}.charges.charge"
    for j, charge in enumerate(items(dig(line, "charges.charge"), charges_path)):
        charge_path = path(charges_path, j)
        charge = obj(charge, charge_path)
        value = factor * _amount(
            charge.get("chargeAmount"), f"{charge_path}.chargeAmount", currency
        )
        kind = text(charge.get("chargeType")).upper()
        if kind == "PRODUCT":
            priced = priced or value >= 0
            sums["price" if value >= 0 else "discount"] += abs(value)
        else:
            sums["shipping" if kind == "SHIPPING" else "other"] += value
        tax = dig(charge, "tax.taxAmount")
        if tax is not None:
            sums["tax"] += factor * _amount(tax, f"{charge_path}.tax.taxAmount", currency)
    if not priced:
        raise AdapterError(f"{where} has no PRODUCT charge.", field=charges_path, code="required")
    unit, remainder = per_unit(sums["price"], count, currency)
    normalized = NormalizedLine(
        external_line_id=line_id,
        channel_sku=text(dig(line, "item.sku")),
        quantity=count,
        removed_quantity=min(_status_quantity(line, where, "cancelled"), count),
        unit_price=unit,
        tax=sums["tax"],
        discount=sums["discount"],
        title=text(dig(line, "item.productName")),
    )
    note = rounding_note(line_id, sums["price"], count, unit, remainder) if remainder else None
    return _Line(normalized, **sums, rounding=note)


def _amount(value, where: str, currency: str) -> Decimal:
    return amount_in(value, where, currency, amount_key="amount", currency_key="currency")


def _statuses(line: dict) -> list[dict]:
    statuses = dig(line, "orderLineStatuses.orderLineStatus")
    return [status for status in statuses or [] if isinstance(status, dict)]


def _status_name(status: dict) -> str:
    name = text(status.get("status")).lower()
    return "cancelled" if name == "canceled" else name  # Walmart Canada spells it "Canceled"


def _status_quantity(line: dict, where: str, status_name: str) -> int:
    return sum(
        whole_number(
            dig(status, "statusQuantity.amount") or 0,
            f"{where}.orderLineStatuses.orderLineStatus[{i}].statusQuantity.amount",
        )
        for i, status in enumerate(_statuses(line))
        if _status_name(status) == status_name
    )


def _status(raw_lines: list) -> tuple[str, str]:
    per_line = [{_status_name(status) for status in _statuses(line)} for line in raw_lines]
    if all(statuses == {"cancelled"} for statuses in per_line):
        return PaymentStatus.VOIDED, ChannelStatus.CANCELLED
    live = [statuses - {"cancelled"} for statuses in per_line if statuses != {"cancelled"}]
    if all(statuses and statuses <= SHIPPED for statuses in live):
        return PaymentStatus.CAPTURED, ChannelStatus.SHIPPED
    return PaymentStatus.AUTHORIZED, ChannelStatus.OPEN


def _updated_at(raw_lines: list, lines_path: str):
    dates = [
        optional_utc_datetime(line.get("statusDate"), f"{path(lines_path, i)}.statusDate")
        for i, line in enumerate(raw_lines)
    ]
    dates = [date for date in dates if date is not None]
    return max(dates) if dates else None


def _address(shipping: dict, payload: dict, root: str) -> NormalizedAddress | None:
    address = shipping.get("postalAddress")
    if not address:
        return None
    where = f"{root}shippingInfo.postalAddress"
    address = obj(address, where)
    return NormalizedAddress(
        name=text(address.get("name")),
        line1=text(address.get("address1")),
        line2=text(address.get("address2")),
        city=text(address.get("city")),
        region=text(address.get("state")),
        postal_code=text(address.get("postalCode")),
        country=country_code(address.get("country"), f"{where}.country"),
        phone=text(shipping.get("phone")),
        email=text(payload.get("customerEmailId")),
    )


def _extra(payload: dict, parsed: list, basis: str) -> dict:
    extra = {"customer_order_id": text(payload.get("customerOrderId"))}
    notes = [line.rounding for line in parsed if line.rounding]
    if notes:
        extra["unit_price_rounding"] = notes
    multi = [line.normalized.external_line_id for line in parsed if line.normalized.quantity > 1]
    if multi:
        extra["price_basis_unconfirmed"] = {"basis": basis, "lines": multi}
    return extra
