"""eBay Sell Fulfillment API `getOrder` (`Order` type) → NormalizedOrder.

Fields used, from eBay's Order, LineItem, PricingSummary and CancelStatus types (amounts are
`{"value": "19.0", "currency": "USD"}`, unpadded text; dates are UTC):
- `orderId` → external_id and order_number; `creationDate` → placed_at,
  `lastModifiedDate` → updated_at.
- `orderPaymentStatus` → payment status; `cancelStatus.cancelState` CANCELED → cancelled
  (IN_PROGRESS is a pending request: noted in extra); `orderFulfillmentStatus` FULFILLED →
  shipped on the channel.
- `pricingSummary`: `total` (what the buyer pays; currency of the order), `deliveryCost`,
  `tax`; `priceDiscount` and `deliveryDiscount` are negative and become a positive
  discount_total. eBay adds Collect-and-Remit tax to `total` only when getOrder was called
  with `fieldGroups=TAX_BREAKDOWN`: when `total` is exactly the sum without `tax`, the tax is
  added and extra says so.
- `fulfillmentStartInstructions[0].shippingStep`: `shipTo` → ship_to, `shippingServiceCode`
  → service level (eBay codes such as USPSPriority are standard, UPSNextDay next day).
- `lineItems[]`: `lineItemId` (external_line_id; shipping fulfillments and refunds name it),
  `sku` is optional (listings made with the Trading API have none: channel_sku ""), so
  external_item_id = `legacyItemId` [+ ":" + `legacyVariationId`] for mapping;
  `lineItemCost` is the price of the whole quantity (unit = cost / quantity, remainder noted);
  `appliedPromotions[].discountAmount` (positive) → line discount; `taxes[].amount` (else
  `ebayCollectAndRemitTaxes[].amount`) → line tax;
  `lineItemFulfillmentInstructions.shipByDate` → ship_by (the earliest over lines).
- `lineItems[].refunds[].amount` → removed_quantity while the line is not yet FULFILLED:
  eBay cannot cancel one line of a multi-line order, it drops it by refunding it
  (`issueRefund` with `refundItems`). A `LineItemRefund` carries no quantity, only an
  amount, which is the seller's net (without eBay-collected tax): the units removed are
  the whole units that amount covers at the line's net unit price (cost − promotions) /
  quantity, so a partial refund (a price adjustment) removes none. Once the line is
  FULFILLED its refunds are returns, not removals.
"""

from decimal import Decimal

from orders.adapters.base import (
    ChannelStatus,
    NormalizedAddress,
    NormalizedLine,
    NormalizedOrder,
    PaymentStatus,
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
    required,
    rounding_note,
    service_level_from_text,
    text,
    utc_datetime,
)

ZERO = Decimal("0.00")
PAYMENT_STATUS = {
    "PAID": PaymentStatus.CAPTURED,
    "PENDING": PaymentStatus.PENDING,
    "FAILED": PaymentStatus.PENDING,  # no money taken: hold as unpaid
    "PARTIALLY_REFUNDED": PaymentStatus.PARTIALLY_REFUNDED,
    "FULLY_REFUNDED": PaymentStatus.REFUNDED,
}


def parse_order(payload: dict) -> NormalizedOrder:
    check_shape(payload, "eBay", ("orderId", "lineItems"))
    summary = obj(payload.get("pricingSummary"), "pricingSummary")
    currency = currency_code(
        obj(required(summary, "total", "pricingSummary.total"), "pricingSummary.total").get(
            "currency"
        ),
        "pricingSummary.total.currency",
    )

    def money(value, where: str, *, default=None) -> Decimal:
        return amount_in(
            value, where, currency, amount_key="value", currency_key="currency", default=default
        )

    raw_lines = items(payload["lineItems"], "lineItems", required_non_empty=True)
    lines, extra = _lines(raw_lines, money, currency)
    step = obj(_first_instruction(payload).get("shippingStep"), "shippingStep")
    discount_total = -(
        money(summary.get("priceDiscount"), "pricingSummary.priceDiscount", default=ZERO)
        + money(summary.get("deliveryDiscount"), "pricingSummary.deliveryDiscount", default=ZERO)
    )
    shipping_total = money(summary.get("deliveryCost"), "pricingSummary.deliveryCost", default=ZERO)
    tax_total = money(summary.get("tax"), "pricingSummary.tax", default=ZERO)
    total = money(summary["total"], "pricingSummary.total")
    subtotal = money(summary.get("priceSubtotal"), "pricingSummary.priceSubtotal", default=ZERO)
    adjustment = money(summary.get("adjustment"), "pricingSummary.adjustment", default=ZERO)
    if tax_total and total == subtotal + shipping_total - discount_total + adjustment:
        total += tax_total
        extra["total_adds_collect_and_remit_tax"] = True
    cancel_state = text(dig(payload, "cancelStatus.cancelState")).upper()
    if cancel_state == "IN_PROGRESS":
        extra["cancel_requested"] = True
    return NormalizedOrder(
        channel_kind="ebay",
        external_id=identifier(payload["orderId"], "orderId"),
        order_number=text(payload["orderId"]),
        placed_at=utc_datetime(payload.get("creationDate"), "creationDate"),
        updated_at=optional_utc_datetime(payload.get("lastModifiedDate"), "lastModifiedDate"),
        ship_by=_ship_by(raw_lines),
        currency=currency,
        lines=lines,
        service_level=service_level_from_text(step.get("shippingServiceCode")),
        payment_status=PAYMENT_STATUS.get(
            text(payload.get("orderPaymentStatus")).upper(), PaymentStatus.PENDING
        ),
        channel_status=_channel_status(payload, cancel_state),
        cancelled_at=optional_utc_datetime(
            dig(payload, "cancelStatus.cancelledDate"), "cancelStatus.cancelledDate"
        )
        if cancel_state == "CANCELED"
        else None,
        ship_to=_address(step.get("shipTo")),
        customer_email=text(dig(step, "shipTo.email")),
        shipping_total=shipping_total,
        tax_total=tax_total,
        discount_total=discount_total,
        total=total,
        taxes_included=False,  # eBay adds sales tax / collect-and-remit tax to the item price
        extra=extra,
    )


def _lines(raw_lines: list, money, currency: str):
    lines, rounding = [], []
    for index, line in enumerate(raw_lines):
        where = path("lineItems", index)
        line = obj(line, where)
        line_id = identifier(line.get("lineItemId"), path(where, "lineItemId"))
        count = quantity(line.get("quantity"), path(where, "quantity"))
        cost = money(
            required(line, "lineItemCost", path(where, "lineItemCost")), path(where, "lineItemCost")
        )
        unit, remainder = per_unit(cost, count, currency)
        if remainder:
            rounding.append(rounding_note(line_id, cost, count, unit, remainder))
        taxes_key = "taxes" if line.get("taxes") else "ebayCollectAndRemitTaxes"
        discount = _sum(money, line, "appliedPromotions", "discountAmount", where)
        lines.append(
            NormalizedLine(
                external_line_id=line_id,
                channel_sku=text(line.get("sku")),
                quantity=count,
                unit_price=unit,
                tax=_sum(money, line, taxes_key, "amount", where),
                discount=discount,
                removed_quantity=_refunded_units(money, line, where, count, cost - discount),
                title=text(line.get("title")),
                external_item_id=_item_id(line),
            )
        )
    return tuple(lines), ({"unit_price_rounding": rounding} if rounding else {})


def _sum(money, line: dict, list_key: str, key: str, where: str) -> Decimal:
    list_path = path(where, list_key)
    return sum(
        (
            money(
                obj(entry, path(list_path, i)).get(key), path(path(list_path, i), key), default=ZERO
            )
            for i, entry in enumerate(items(line.get(list_key), list_path))
        ),
        ZERO,
    )


def _refunded_units(money, line: dict, where: str, count: int, net: Decimal) -> int:
    """Whole units of the line its refunds pay back (eBay's way to drop a line)."""
    if text(line.get("lineItemFulfillmentStatus")).upper() == "FULFILLED" or net <= 0:
        return 0
    refunded = _sum(money, line, "refunds", "amount", where)
    return min(int(refunded * count // net), count)


def _item_id(line: dict) -> str:
    item_id = text(line.get("legacyItemId"))
    variation = text(line.get("legacyVariationId"))
    return f"{item_id}:{variation}" if item_id and variation else item_id


def _ship_by(raw_lines: list):
    dates = [
        optional_utc_datetime(
            dig(line, "lineItemFulfillmentInstructions.shipByDate"),
            f"lineItems[{index}].lineItemFulfillmentInstructions.shipByDate",
        )
        for index, line in enumerate(raw_lines)
    ]
    dates = [date for date in dates if date is not None]
    return min(dates) if dates else None


def _channel_status(payload: dict, cancel_state: str) -> str:
    if cancel_state == "CANCELED":
        return ChannelStatus.CANCELLED
    if text(payload.get("orderFulfillmentStatus")).upper() == "FULFILLED":
        return ChannelStatus.SHIPPED
    return ChannelStatus.OPEN


def _first_instruction(payload: dict) -> dict:
    instructions = items(
        payload.get("fulfillmentStartInstructions"), "fulfillmentStartInstructions"
    )
    return obj(instructions[0], "fulfillmentStartInstructions[0]") if instructions else {}


def _address(ship_to) -> NormalizedAddress | None:
    if not ship_to:
        return None
    where = "fulfillmentStartInstructions[0].shippingStep.shipTo"
    ship_to = obj(ship_to, where)
    address = obj(ship_to.get("contactAddress"), f"{where}.contactAddress")
    return NormalizedAddress(
        name=text(ship_to.get("fullName")),
        company=text(ship_to.get("companyName")),
        line1=text(address.get("addressLine1")),
        line2=text(address.get("addressLine2")),
        city=text(address.get("city")),
        region=text(address.get("stateOrProvince")),
        postal_code=text(address.get("postalCode")),
        country=country_code(address.get("countryCode"), f"{where}.contactAddress.countryCode"),
        phone=text(dig(ship_to, "primaryPhone.phoneNumber")),
        email=text(ship_to.get("email")),
    )
