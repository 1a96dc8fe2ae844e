"""Shopify Admin REST `Order` (as delivered by the orders/create and orders/updated webhooks).

Fields used, from Shopify's Order resource:
- `id` → external_id; `name` ("#1042") → order_number; `admin_graphql_api_id` kept in extra
  because the GraphQL Admin API (required for new public apps) names orders by it.
- `created_at` → placed_at and `updated_at` (orders/updated deliveries arrive out of order;
  ingestion compares it). Both carry the shop's offset (`-05:00`) and are turned into UTC.
- Currency: `currency` is the shop's, `presentment_currency` the buyer's. The order currency
  is the presentment currency: it is what the buyer paid and what refunds are issued in.
  Every amount is read from its `*_set.presentment_money`; the plain fields (`price`,
  `total_price`, …) are in shop money and are used only when both currencies are the same.
  Shop-money totals go to extra for finance when they differ.
- `financial_status` → payment status; `cancelled_at` → cancelled; `fulfillment_status`
  "fulfilled" → shipped on the channel.
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
    """Reads an amount in the presentment currency (see the module docstring)."""

    def __init__(self, payload: dict):
        self.shop_currency = currency_code(required(payload, "currency", "currency"), "currency")
        presentment = payload.get("presentment_currency") or self.shop_currency
        self.currency = currency_code(presentment, "presentment_currency")

    def __call__(self, container: dict, key: str, where: str, *, default=None) -> Decimal:
        money_set = container.get(f"{key}_set")
        if money_set is not None:
            set_path = path(f"{where}_set", "presentment_money")
            return amount_in(
                obj(money_set, f"{where}_set").get("presentment_money"),
                set_path,
                self.currency,
                amount_key="amount",
                currency_key="currency_code",
            )
        if self.currency != self.shop_currency:
            raise AdapterError(
                f"{where}_set is required: {where} is in {self.shop_currency}, the buyer paid "
                f"in {self.currency}.",
                field=f"{where}_set",
                code="required",
            )
        value = container.get(key)
        if value in (None, "") and default is not None:
            return default
        return money(required(container, key, where), where, self.currency)


def parse_order(payload: dict) -> NormalizedOrder:
    check_shape(payload, "Shopify", ("id", "line_items", "financial_status"))
    amount = _Money(payload)
    line_items = items(payload["line_items"], "line_items", required_non_empty=True)
    lines = tuple(
        _line(line, path("line_items", index), amount) for index, line in enumerate(line_items)
    )
    shipping_lines = items(payload.get("shipping_lines"), "shipping_lines")
    return NormalizedOrder(
        channel_kind="shopify",
        external_id=identifier(payload["id"], "id"),
        order_number=text(payload.get("name")) or text(payload.get("order_number")),
        placed_at=utc_datetime(payload.get("created_at"), "created_at"),
        updated_at=optional_utc_datetime(payload.get("updated_at"), "updated_at"),
        ship_by=None,  # Shopify makes no ship-by promise; the channel SLA applies
        currency=amount.currency,
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
        risk_score=_risk(payload),
        ship_to=_address(payload.get("shipping_address"), payload),
        customer_email=_email(payload),
        shipping_total=_shipping_total(payload, amount),
        tax_total=amount(payload, "total_tax", "total_tax", default=ZERO),
        discount_total=amount(payload, "total_discounts", "total_discounts", default=ZERO),
        total=amount(payload, "total_price", "total_price"),
        taxes_included=bool(payload.get("taxes_included")),
        extra=_extra(payload, amount),
    )


def _line(line: dict, where: str, amount: _Money) -> NormalizedLine:
    line = obj(line, where)
    ordered = quantity(line.get("quantity"), path(where, "quantity"))
    removed = 0
    if line.get("current_quantity") is not None:
        current = whole_number(line["current_quantity"], path(where, "current_quantity"))
        removed = max(ordered - current, 0)
    unit_price = amount(line, "price", path(where, "price"))
    if "discount_allocations" in line:
        discount = _sum(amount, line, "discount_allocations", "amount", where)
    else:
        discount = amount(line, "total_discount", path(where, "total_discount"), default=ZERO)
    return NormalizedLine(
        external_line_id=identifier(line.get("id"), path(where, "id")),
        channel_sku=text(line.get("sku")),
        quantity=ordered,
        removed_quantity=removed,
        unit_price=unit_price,
        tax=_sum(amount, line, "tax_lines", "price", where),
        discount=discount,
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


def _extra(payload: dict, amount: _Money) -> dict:
    extra = {"admin_graphql_api_id": text(payload.get("admin_graphql_api_id"))}
    if amount.currency != amount.shop_currency:
        shop_total = dig(payload, "total_price_set.shop_money.amount") or payload.get("total_price")
        extra.update(shop_currency=amount.shop_currency, shop_total=text(shop_total))
    return extra
