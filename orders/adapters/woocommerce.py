"""WooCommerce REST API v3 order (`GET /wp-json/wc/v3/orders/{id}`, order.* webhooks).

Fields used, from the v3 Order schema (and WooCommerce's source for what they hold):
- `id` → external_id, `number` → order_number, `currency`.
- `date_created_gmt` → placed_at and `date_modified_gmt` → updated_at. `date_created` is
  site-local time without an offset and is never read; the `*_gmt` twins are UTC, also
  written without an offset.
- `status` + `date_paid_gmt`: pending, on-hold (bank transfer, cheque) and failed await
  payment; processing/completed are captured once `date_paid_gmt` is set (`needs_payment`
  only covers pending/failed, so it is not used); `refunds[]` on a paid order → partially
  refunded; refunded → refunded; cancelled → cancelled; completed → shipped on the channel.
- `line_items[]`: `id`, `sku`, `product_id`/`variation_id`, `name`, `quantity`, `subtotal`
  (the line before coupons, excluding tax), `subtotal_tax`, `total` (after coupons),
  `total_tax`. Unit price = subtotal / quantity; discount = subtotal − total (the coupon's
  effect). The line `price` (a JSON float, = total / quantity after coupons) is not used.
- `prices_include_tax` → taxes_included. WooCommerce stores line amounts excluding tax even
  then, so for such orders unit price, discount and shipping are made tax-inclusive (amount
  + its tax), matching what the shopper saw and Shopify's `taxes_included` semantics.
- `total`, `total_tax`, `shipping_total`/`shipping_tax`, `discount_total`/`discount_tax`.
- `shipping` → ship_to (names may be non-ASCII: kept as sent), `billing.email`,
  `shipping_lines[].method_title`/`method_id` → service level. No ship-by promise: None.
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
    check_shape,
    country_code,
    currency_code,
    identifier,
    items,
    money,
    obj,
    optional_money,
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

AWAITING_PAYMENT = {"pending", "on-hold", "failed"}
CANCELLED = {"cancelled", "trash"}


def parse_order(payload: dict) -> NormalizedOrder:
    check_shape(payload, "WooCommerce", ("id", "line_items", "date_created_gmt"))
    currency = currency_code(required(payload, "currency", "currency"), "currency")
    gross = bool(payload.get("prices_include_tax"))
    line_items = items(payload["line_items"], "line_items", required_non_empty=True)
    lines, rounding = [], []
    for index, line in enumerate(line_items):
        normalized, note = _line(obj(line, path("line_items", index)), index, currency, gross)
        lines.append(normalized)
        if note:
            rounding.append(note)

    def amount(key: str) -> Decimal:
        return optional_money(payload.get(key), key, currency)

    shipping_lines = items(payload.get("shipping_lines"), "shipping_lines")
    return NormalizedOrder(
        channel_kind="woocommerce",
        external_id=identifier(payload["id"], "id"),
        order_number=text(payload.get("number")),
        placed_at=utc_datetime(payload["date_created_gmt"], "date_created_gmt", naive_is_utc=True),
        updated_at=optional_utc_datetime(
            payload.get("date_modified_gmt"), "date_modified_gmt", naive_is_utc=True
        ),
        currency=currency,
        lines=tuple(lines),
        service_level=service_level_from_text(
            *(
                f"{text(line.get('method_title'))} {text(line.get('method_id'))}"
                for line in shipping_lines
                if isinstance(line, dict)
            )
        ),
        payment_status=_payment_status(payload),
        channel_status=_channel_status(payload),
        ship_to=_address(payload),
        customer_email=text(obj(payload.get("billing"), "billing").get("email")),
        shipping_total=amount("shipping_total") + (amount("shipping_tax") if gross else 0),
        tax_total=amount("total_tax"),
        discount_total=amount("discount_total") + (amount("discount_tax") if gross else 0),
        total=money(required(payload, "total", "total"), "total", currency),
        taxes_included=gross,
        extra={"unit_price_rounding": rounding} if rounding else {},
    )


def _line(line: dict, index: int, currency: str, gross: bool):
    where = path("line_items", index)
    line_id = identifier(line.get("id"), path(where, "id"))
    count = quantity(line.get("quantity"), path(where, "quantity"))

    def amount(key: str) -> Decimal:
        return money(required(line, key, path(where, key)), path(where, key), currency)

    subtotal, total = amount("subtotal"), amount("total")
    tax = optional_money(line.get("total_tax"), path(where, "total_tax"), currency)
    if gross:
        subtotal += optional_money(line.get("subtotal_tax"), path(where, "subtotal_tax"), currency)
        total += tax
    unit, remainder = per_unit(subtotal, count, currency)
    variation = text(line.get("variation_id"))
    normalized = NormalizedLine(
        external_line_id=line_id,
        channel_sku=text(line.get("sku")),
        quantity=count,
        unit_price=unit,
        tax=tax,
        discount=subtotal - total,
        title=text(line.get("name")),
        external_item_id=variation if variation not in ("", "0") else text(line.get("product_id")),
    )
    note = rounding_note(line_id, subtotal, count, unit, remainder) if remainder else None
    return normalized, note


def _payment_status(payload: dict) -> str:
    status = text(payload.get("status")).lower()
    if status == "refunded":
        return PaymentStatus.REFUNDED
    if status in CANCELLED:
        return PaymentStatus.VOIDED
    paid = payload.get("date_paid_gmt") or payload.get("date_paid")
    if status in AWAITING_PAYMENT or not paid:
        return PaymentStatus.PENDING
    if items(payload.get("refunds"), "refunds"):
        return PaymentStatus.PARTIALLY_REFUNDED
    return PaymentStatus.CAPTURED


def _channel_status(payload: dict) -> str:
    status = text(payload.get("status")).lower()
    if status in CANCELLED:
        return ChannelStatus.CANCELLED
    if status == "completed":
        return ChannelStatus.SHIPPED
    return ChannelStatus.OPEN


def _address(payload: dict) -> NormalizedAddress | None:
    shipping = obj(payload.get("shipping"), "shipping")
    billing = obj(payload.get("billing"), "billing")
    if not any(text(shipping.get(key)) for key in ("address_1", "city", "postcode", "country")):
        return None  # virtual or downloadable goods only
    name = " ".join(
        part for part in (text(shipping.get("first_name")), text(shipping.get("last_name"))) if part
    )
    return NormalizedAddress(
        name=name,
        company=text(shipping.get("company")),
        line1=text(shipping.get("address_1")),
        line2=text(shipping.get("address_2")),
        city=text(shipping.get("city")),
        region=text(shipping.get("state")),
        postal_code=text(shipping.get("postcode")),
        country=country_code(shipping.get("country"), "shipping.country"),
        phone=text(shipping.get("phone")) or text(billing.get("phone")),
        email=text(billing.get("email")),
    )
