"""Amazon SP-API Orders v0: `{"order": <getOrder Order>, "items": <getOrderItems payload>}`.

Fields used, from the Orders v0 `Order` and `OrderItem` schemas:
- `AmazonOrderId` → external_id and order_number; `PurchaseDate` → placed_at and
  `LastUpdateDate` → updated_at (UTC, `Z`); `LatestShipDate` → ship_by (Amazon's promise).
- `OrderStatus`: `Pending`/`PendingAvailability` → payment pending; Amazon then sends no
  `ShippingAddress` and getOrderItems returns no prices, taxes or promotions, so ship_to is
  None, every amount is None (unknown, not zero) and tax_data_complete is False until the
  order is authorised; a Pending order's amounts are ignored even when some are sent.
  `Unshipped`/`PartiallyShipped` → authorized (under Charge When Ship the buyer is charged at
  shipment confirmation); `Shipped` → captured and shipped; `Canceled` → cancelled.
- `OrderTotal` → total and currency (else the marketplace's currency, for Pending orders).
- `ShipmentServiceLevelCategory` (else the free-text `ShipServiceLevel`) → service level.
- Items: map by `SellerSKU` (the seller's SKU), not `ASIN` (Amazon's catalogue id, kept as
  external_item_id); `OrderItemId` → external_line_id (confirmShipment names it);
  `QuantityOrdered`; `ItemPrice` is for the whole quantity and excludes shipping and gift
  wrap, so unit = ItemPrice / QuantityOrdered (a remainder is noted in extra);
  `ItemTax`, `PromotionDiscount` (line discount), `ShippingPrice`, `ShippingTax`,
  `ShippingDiscount` (order totals); `IsGift` is the string "true"/"false".
- Gift wrap: the item's `BuyerInfo.GiftWrapPrice` (outside `ItemPrice`) → gift_wrap_total,
  `BuyerInfo.GiftWrapTax` → the line's tax and tax_total, so the parts add up to
  `OrderTotal`.
- Tax inside prices: EU/UK/JP marketplaces quote VAT-inclusive `ItemPrice`, US/CA do not.
  taxes_included is read from whether `OrderTotal` adds the taxes on top, else from the
  marketplace.
"""

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
    service_level_from_text,
    text,
    utc_datetime,
    whole_number,
)

ZERO = Decimal("0.00")
PENDING_STATUSES = {"Pending", "PendingAvailability"}
STATUS = {  # OrderStatus → (payment status, channel status)
    "Pending": (PaymentStatus.PENDING, ChannelStatus.OPEN),
    "PendingAvailability": (PaymentStatus.PENDING, ChannelStatus.OPEN),
    "Unshipped": (PaymentStatus.AUTHORIZED, ChannelStatus.OPEN),
    "PartiallyShipped": (PaymentStatus.AUTHORIZED, ChannelStatus.OPEN),
    "InvoiceUnconfirmed": (PaymentStatus.AUTHORIZED, ChannelStatus.OPEN),
    "Shipped": (PaymentStatus.CAPTURED, ChannelStatus.SHIPPED),
    "Canceled": (PaymentStatus.VOIDED, ChannelStatus.CANCELLED),
    "Unfulfillable": (PaymentStatus.PENDING, ChannelStatus.OPEN),
}
SERVICE_LEVEL = {
    "Expedited": ServiceLevel.EXPEDITED,
    "FreeEconomy": ServiceLevel.ECONOMY,
    "NextDay": ServiceLevel.NEXT_DAY,
    "Priority": ServiceLevel.EXPEDITED,
    "SameDay": ServiceLevel.SAME_DAY,
    "SecondDay": ServiceLevel.EXPEDITED,
    "Scheduled": ServiceLevel.STANDARD,
    "Standard": ServiceLevel.STANDARD,
}
MARKETPLACE_CURRENCY = {
    "ATVPDKIKX0DER": "USD",
    "A2EUQ1WTGCTBG2": "CAD",
    "A1AM78C64UM0Y8": "MXN",
    "A2Q3Y263D00KWC": "BRL",
    "A1F83G8C2ARO7P": "GBP",
    "A1PA6795UKMFR9": "EUR",
    "A13V1IB3VIYZZH": "EUR",
    "APJ6JRA9NG5V4": "EUR",
    "A1RKKUPIHCS9HS": "EUR",
    "A1805IZSGTT6HS": "EUR",
    "AMEN7PMS3EDWL": "EUR",
    "A2NODRKZP88ZB9": "SEK",
    "A1C3SOZRARQ6R3": "PLN",
    "A1VC38T7YXB528": "JPY",
    "A39IBJ37TRP1C6": "AUD",
}
TAX_EXCLUSIVE_MARKETPLACES = {"ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"}  # US, CA: tax added on top


def parse_order(payload: dict) -> NormalizedOrder:
    check_shape(payload, "Amazon", ("order.AmazonOrderId", "items.OrderItems"))
    order = payload["order"]
    status = text(order.get("OrderStatus"))
    if status not in STATUS:
        raise AdapterError(
            f"Unknown Amazon OrderStatus {status!r}.", field="order.OrderStatus", code="invalid"
        )
    pending = status in PENDING_STATUSES
    currency = _currency(order)
    money = _Reader(currency, priced=not pending)
    raw_items = items(payload["items"]["OrderItems"], "items.OrderItems")
    lines, extra = _lines(raw_items, money, cancelled=status == "Canceled")
    if not lines and status != "Canceled":
        raise AdapterError("The order has no items.", field="items.OrderItems", code="required")
    totals = _totals(raw_items, money)
    stated_total = None
    if order.get("OrderTotal") is not None and money.priced:
        stated_total = money(order["OrderTotal"], "order.OrderTotal")
    if not money.priced:
        total = None
    elif stated_total is not None:
        total = stated_total
    else:
        total = totals["net"] + totals["tax"]
    payment_status, channel_status = STATUS[status]
    return NormalizedOrder(
        channel_kind="amazon",
        external_id=identifier(order["AmazonOrderId"], "order.AmazonOrderId"),
        order_number=text(order["AmazonOrderId"]),
        placed_at=utc_datetime(order.get("PurchaseDate"), "order.PurchaseDate"),
        updated_at=optional_utc_datetime(order.get("LastUpdateDate"), "order.LastUpdateDate"),
        ship_by=optional_utc_datetime(order.get("LatestShipDate"), "order.LatestShipDate"),
        currency=currency,
        lines=lines,
        service_level=_service_level(order),
        payment_status=payment_status,
        channel_status=channel_status,
        # A Canceled order's last update is its cancellation.
        cancelled_at=optional_utc_datetime(order.get("LastUpdateDate"), "order.LastUpdateDate")
        if status == "Canceled"
        else None,
        ship_to=None if pending else _address(order),
        customer_email=text(dig(order, "BuyerInfo.BuyerEmail")),
        shipping_total=totals["shipping"],
        tax_total=totals["tax"],
        discount_total=totals["discount"],
        gift_wrap_total=totals["gift_wrap"],
        total=total,
        taxes_included=_taxes_included(order, totals, stated_total),
        tax_data_complete=not pending,
        extra=extra
        | {
            "marketplace_id": text(order.get("MarketplaceId")),
            "fulfillment_channel": text(order.get("FulfillmentChannel")),
            "is_prime": order.get("IsPrime") is True,
            "is_business_order": order.get("IsBusinessOrder") is True,
        },
    )


class _Reader:
    """Money objects {"CurrencyCode", "Amount"} in the order currency. A missing one reads 0
    when optional; every amount is None (unknown) while the order is Pending and Amazon
    withholds prices."""

    def __init__(self, currency: str, *, priced: bool):
        self.currency, self.priced = currency, priced

    def __call__(self, value, where: str, *, required: bool = True) -> Decimal | None:
        if not self.priced:
            return None
        if value is None:
            if required:
                raise AdapterError(f"{where} is required.", field=where, code="required")
            return ZERO
        return amount_in(
            value, where, self.currency, amount_key="Amount", currency_key="CurrencyCode"
        )


def _currency(order: dict) -> str:
    stated = dig(order, "OrderTotal.CurrencyCode")
    if stated:
        return currency_code(stated, "order.OrderTotal.CurrencyCode")
    marketplace = MARKETPLACE_CURRENCY.get(text(order.get("MarketplaceId")))
    if marketplace is None:
        raise AdapterError(
            "The order's currency is unknown: no OrderTotal and an unknown MarketplaceId.",
            field="order.OrderTotal.CurrencyCode",
            code="required",
        )
    return marketplace


def _lines(raw_items: list, money: _Reader, *, cancelled: bool):
    lines, rounding, gifts, dropped = [], [], [], []
    for index, item in enumerate(raw_items):
        where = path("items.OrderItems", index)
        item = obj(item, where)
        line_id = identifier(item.get("OrderItemId"), path(where, "OrderItemId"))
        if cancelled and whole_number(item.get("QuantityOrdered"), f"{where}.QuantityOrdered") == 0:
            dropped.append(line_id)  # Amazon zeroes the quantity of cancelled items
            continue
        count = quantity(item.get("QuantityOrdered"), path(where, "QuantityOrdered"))
        item_price = money(item.get("ItemPrice"), path(where, "ItemPrice"))
        unit, remainder = (None, None)
        if item_price is not None:
            unit, remainder = per_unit(item_price, count, money.currency)
        if remainder:
            rounding.append(rounding_note(line_id, item_price, count, unit, remainder))
        tax = money(item.get("ItemTax"), path(where, "ItemTax"), required=False)
        if tax is not None:
            tax += _gift_wrap(item, where, money, "GiftWrapTax")
        if text(item.get("IsGift")).lower() == "true":
            gifts.append(line_id)
        lines.append(
            NormalizedLine(
                external_line_id=line_id,
                channel_sku=text(item.get("SellerSKU")),
                quantity=count,
                unit_price=unit,
                tax=tax,
                discount=money(
                    item.get("PromotionDiscount"), path(where, "PromotionDiscount"), required=False
                ),
                title=text(item.get("Title")),
                external_item_id=text(item.get("ASIN")),
            )
        )
    extra = {}
    if rounding:
        extra["unit_price_rounding"] = rounding
    if gifts:
        extra["gift_order_item_ids"] = gifts
    if dropped:
        extra["cancelled_order_item_ids"] = dropped
    return tuple(lines), extra


def _gift_wrap(item: dict, where: str, money: _Reader, name: str) -> Decimal:
    buyer_info = obj(item.get("BuyerInfo"), path(where, "BuyerInfo"))
    return money(buyer_info.get(name), path(where, f"BuyerInfo.{name}"), required=False)


def _totals(raw_items: list, money: _Reader) -> dict[str, Decimal | None]:
    """Order sums over items: net is what the buyer pays before any tax added on top.
    All None while Amazon withholds prices."""
    names = ("price", "shipping", "tax", "discount", "gift_wrap", "net")
    if not money.priced:
        return dict.fromkeys(names)
    sums = dict.fromkeys(names, ZERO)
    fields = {
        "price": ("ItemPrice",),
        "shipping": ("ShippingPrice",),
        "tax": ("ItemTax", "ShippingTax"),
        "discount": ("PromotionDiscount", "ShippingDiscount"),
    }
    for index, item in enumerate(raw_items):
        for total, names in fields.items():
            for name in names:
                where = f"items.OrderItems[{index}].{name}"
                sums[total] += money(item.get(name), where, required=False)
        item_path = path("items.OrderItems", index)
        sums["gift_wrap"] += _gift_wrap(item, item_path, money, "GiftWrapPrice")
        sums["tax"] += _gift_wrap(item, item_path, money, "GiftWrapTax")
    sums["net"] = sums["price"] + sums["shipping"] + sums["gift_wrap"] - sums["discount"]
    return sums


def _taxes_included(order: dict, totals: dict, stated_total: Decimal | None) -> bool:
    if stated_total is not None and totals["tax"]:
        if stated_total == totals["net"]:
            return True
        if stated_total == totals["net"] + totals["tax"]:
            return False
    return text(order.get("MarketplaceId")) not in TAX_EXCLUSIVE_MARKETPLACES


def _service_level(order: dict) -> str:
    category = text(order.get("ShipmentServiceLevelCategory"))
    if category in SERVICE_LEVEL:
        return SERVICE_LEVEL[category]
    return service_level_from_text(order.get("ShipServiceLevel"))


def _address(order: dict) -> NormalizedAddress | None:
    address = order.get("ShippingAddress")
    if not address:
        return None
    address = obj(address, "order.ShippingAddress")
    line2 = ", ".join(
        part
        for part in (text(address.get("AddressLine2")), text(address.get("AddressLine3")))
        if part
    )
    return NormalizedAddress(
        name=text(address.get("Name")),
        company=text(address.get("CompanyName")),
        line1=text(address.get("AddressLine1")),
        line2=line2,
        city=text(address.get("City")),
        region=text(address.get("StateOrRegion")),
        postal_code=text(address.get("PostalCode")),
        country=country_code(address.get("CountryCode"), "order.ShippingAddress.CountryCode"),
        phone=text(address.get("Phone")),
        email=text(dig(order, "BuyerInfo.BuyerEmail")),
    )
