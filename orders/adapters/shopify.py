"""Shopify Admin REST `Order` (as delivered by the orders/create and orders/updated webhooks).

Fields used, from Shopify's Order resource:
- `id` → external_id; `name` ("#1042") → order_number; `admin_graphql_api_id` kept in extra
  because the GraphQL Admin API (required for new public apps) names orders by it.
- `created_at` → placed_at and `updated_at` (orders/updated deliveries arrive out of order;
  ingestion compares it). Both carry the shop's offset (`-05:00`) and are turned into UTC.
- Currency: `currency` is the shop's, `presentment_currency` the buyer's. The order currency
  is the shop's: what settles and posts, and what the shop's channel sells in. Its amounts
  are read from `*_set.shop_money`, else from the plain fields (`price`, `total_price`, …),
  which Shopify keeps in shop money. When the buyer paid in another currency, what the
  buyer saw (what refunds and mails use) is read from every `*_set.presentment_money`
  into the presentment amounts; a plain field is never taken for presentment money.
- `financial_status` → payment status; `cancelled_at` → cancelled, and when;
  `fulfillment_status` "fulfilled" → shipped on the channel.
- `line_items[]`: `id` (external_line_id), `sku`, `variant_id` (external_item_id), `quantity`
  (ordered) and `current_quantity` (after edits and refunds → removed_quantity), `price` (per
  unit), `tax_lines[].price`, and `discount_allocations[].amount` for the discount: a line's
  `total_discount` can read 0.00 while its allocations carry the discount, so it is only the
  fallback when a payload has no allocations at all.
- `total_price`, `total_tax`, `total_discounts`, `total_shipping_price_set` (else the sum of
  `shipping_lines[].price`), `taxes_included`.
- `shipping_lines[].code`/`title` → service level (free text; unknown → standard).
- `shipping_address` → ship_to; `email` / `contact_email` / `customer.email`.
- Risk: the Order resource carries none (risk_score None). When the caller merged the
  order's OrderRisk objects under `risks`, the highest `score` (0–1) becomes 0–100.
"""

from decimal import Decimal

from orders.adapters.base import (
    AdapterError,
    ChannelStatus,
    NormalizedAddress,
    NormalizedLine,
    NormalizedOrder,
    PaymentStatus,
    PresentmentTotals,
)
from orders.adapters.parsing import (
    amount_in,
    check_shape,
    country_code,
    currency_code,
    dig,
    identifier,
    items,
    money,
    obj,
    optional_utc_datetime,
    path,
    quantity,
    required,
    risk_from_fraction,
    service_level_from_text,
    text,
    utc_datetime,
    whole_number,
)

ZERO = Decimal("0.00")

PAYMENT_STATUS = {
    "pending": PaymentStatus.PENDING,
    "authorized": PaymentStatus.AUTHORIZED,
    # Part of the order is still unpaid: hold it like an unpaid one.
    "partially_paid": PaymentStatus.PENDING,
    "paid": PaymentStatus.CAPTURED,
    "partially_refunded": PaymentStatus.PARTIALLY_REFUNDED,
    "refunded": PaymentStatus.REFUNDED,
    "voided": PaymentStatus.VOIDED,
    "expired": PaymentStatus.VOIDED,  # the authorization lapsed uncaptured
}


class _Money:
    """Reads amounts from one side of Shopify's money sets: `shop_money` (falling back on
    the plain fields, which are in shop money) or `presentment_money` (no fallback)."""

    def __init__(self, currency: str, side: str):
        self.currency, self.side = currency, side

    def __call__(self, container: dict, key: str, where: str, *, default=None) -> Decimal:
        money_set = container.get(f"{key}_set")
        if money_set is not None:
            return amount_in(
                obj(money_set, f"{where}_set").get(self.side),
                path(f"{where}_set", self.side),
                self.currency,
                amount_key="amount",
                currency_key="currency_code",
            )
        if self.side == PRESENTMENT:
            raise AdapterError(
                f"{where}_set is required: {where} is in the shop's currency, the buyer paid "
                f"in {self.currency}.",
                field=f"{where}_set",
                code="required",
            )
        value = container.get(key)
        if value in (None, "") and default is not None:
            return default
        return money(required(container, key, where), where, self.currency)


SHOP, PRESENTMENT = "shop_money", "presentment_money"


def _readers(payload: dict) -> tuple[_Money, _Money | None]:
    shop_currency = currency_code(required(payload, "currency", "currency"), "currency")
    presentment = currency_code(
        payload.get("presentment_currency") or shop_currency, "presentment_currency"
    )
    buyer = _Money(presentment, PRESENTMENT) if presentment != shop_currency else None
    return _Money(shop_currency, SHOP), buyer


def parse_order(payload: dict) -> NormalizedOrder:
    check_shape(payload, "Shopify", ("id", "line_items", "financial_status"))
    shop, buyer = _readers(payload)
    line_items = items(payload["line_items"], "line_items", required_non_empty=True)
    lines = tuple(
        _line(line, path("line_items", index), shop, buyer) for index, line in enumerate(line_items)
    )
    shipping_lines = items(payload.get("shipping_lines"), "shipping_lines")
    return NormalizedOrder(
        channel_kind="shopify",
        external_id=identifier(payload["id"], "id"),
        order_number=text(payload.get("name")) or text(payload.get("order_number")),
        placed_at=utc_datetime(payload.get("created_at"), "created_at"),
        updated_at=optional_utc_datetime(payload.get("updated_at"), "updated_at"),
        ship_by=None,  # Shopify makes no ship-by promise; the channel SLA applies
        currency=shop.currency,
        lines=lines,
        service_level=service_level_from_text(
            *(
                f"{text(line.get('code'))} {text(line.get('title'))}"
                for line in shipping_lines
                if isinstance(line, dict)
            )
        ),
        payment_status=_payment_status(payload),
        channel_status=_channel_status(payload),
        cancelled_at=optional_utc_datetime(payload.get("cancelled_at"), "cancelled_at"),
        risk_score=_risk(payload),
        ship_to=_address(payload.get("shipping_address"), payload),
        customer_email=_email(payload),
        **_totals(payload, shop),
        presentment=PresentmentTotals(currency=buyer.currency, **_totals(payload, buyer))
        if buyer
        else None,
        taxes_included=bool(payload.get("taxes_included")),
        extra={"admin_graphql_api_id": text(payload.get("admin_graphql_api_id"))},
    )


def _totals(payload: dict, amount: _Money) -> dict[str, Decimal]:
    return {
        "shipping_total": _shipping_total(payload, amount),
        "tax_total": amount(payload, "total_tax", "total_tax", default=ZERO),
        "discount_total": amount(payload, "total_discounts", "total_discounts", default=ZERO),
        "total": amount(payload, "total_price", "total_price"),
    }


def _line_amounts(line: dict, where: str, amount: _Money) -> tuple[Decimal, Decimal, Decimal]:
    """(unit price, line tax, line discount) on one side of the money sets."""
    unit_price = amount(line, "price", path(where, "price"))
    if "discount_allocations" in line:
        discount = _sum(amount, line, "discount_allocations", "amount", where)
    else:
        discount = amount(line, "total_discount", path(where, "total_discount"), default=ZERO)
    return unit_price, _sum(amount, line, "tax_lines", "price", where), discount


def _line(line: dict, where: str, shop: _Money, buyer: _Money | None) -> NormalizedLine:
    line = obj(line, where)
    ordered = quantity(line.get("quantity"), path(where, "quantity"))
    removed = 0
    if line.get("current_quantity") is not None:
        current = whole_number(line["current_quantity"], path(where, "current_quantity"))
        removed = max(ordered - current, 0)
    unit_price, tax, discount = _line_amounts(line, where, shop)
    seen = _line_amounts(line, where, buyer) if buyer else (None, None, None)
    return NormalizedLine(
        external_line_id=identifier(line.get("id"), path(where, "id")),
        channel_sku=text(line.get("sku")),
        quantity=ordered,
        removed_quantity=removed,
        unit_price=unit_price,
        tax=tax,
        discount=discount,
        presentment_unit_price=seen[0],
        presentment_tax=seen[1],
        presentment_discount=seen[2],
        title=text(line.get("name")) or text(line.get("title")),
        external_item_id=text(line.get("variant_id")),
    )


def _sum(amount: _Money, container: dict, list_key: str, key: str, where: str = "") -> Decimal:
    """Σ entry[key] over container[list_key] (tax_lines, discount_allocations, shipping_lines)."""
    list_path = path(where, list_key)
    entries = items(container.get(list_key), list_path)
    return sum(
        (
            amount(obj(entry, path(list_path, i)), key, path(path(list_path, i), key))
            for i, entry in enumerate(entries)
        ),
        ZERO,
    )


def _shipping_total(payload: dict, amount: _Money) -> Decimal:
    if payload.get("total_shipping_price_set") is not None:
        return amount(payload, "total_shipping_price", "total_shipping_price")
    return _sum(amount, payload, "shipping_lines", "price")


def _payment_status(payload: dict) -> str:
    # An unknown status (Shopify adds some over time) holds the order rather than ship unpaid.
    return PAYMENT_STATUS.get(text(payload.get("financial_status")).lower(), PaymentStatus.PENDING)


def _channel_status(payload: dict) -> str:
    if payload.get("cancelled_at"):
        return ChannelStatus.CANCELLED
    if text(payload.get("fulfillment_status")).lower() == "fulfilled":
        return ChannelStatus.SHIPPED
    return ChannelStatus.OPEN


def _risk(payload: dict) -> Decimal | None:
    risks = items(payload.get("risks"), "risks")
    scores = [
        risk_from_fraction(risk["score"], f"risks[{i}].score")
        for i, risk in enumerate(risks)
        if isinstance(risk, dict) and risk.get("score") not in (None, "")
    ]
    return max(scores) if scores else None


def _address(address, payload: dict) -> NormalizedAddress | None:
    if not address:
        return None  # digital goods or local pickup: nothing to ship to
    address = obj(address, "shipping_address")
    name = text(address.get("name")) or " ".join(
        part for part in (text(address.get("first_name")), text(address.get("last_name"))) if part
    )
    return NormalizedAddress(
        name=name,
        company=text(address.get("company")),
        line1=text(address.get("address1")),
        line2=text(address.get("address2")),
        city=text(address.get("city")),
        region=text(address.get("province_code")) or text(address.get("province")),
        postal_code=text(address.get("zip")),
        country=country_code(address.get("country_code"), "shipping_address.country_code"),
        phone=text(address.get("phone")),
        email=_email(payload),
    )


def _email(payload: dict) -> str:
    return (
        text(payload.get("email"))
        or text(payload.get("contact_email"))
        or text(dig(payload, "customer.email"))
    )
