"""Shopify: a Refund as the `refunds/create` webhook delivers it (REST Admin API Refund).

From Shopify's Refund resource:
- `id` is the refund's id: the channel refund id (and, when the refund belongs to no
  Shopify Return, the return's id too: the refund is the only record of the return).
  `return` is null, or the Return ({"id": …}) the refund settles.
- `order_id` is the order's id, which ingestion keeps as the order's external id.
- `refund_line_items[]` name the *order* line items (`line_item_id`) with a `quantity`
  and a `restock_type` (`no_restock`, `cancel`, `return`, `legacy_restock`); `subtotal`
  and `total_tax` are JSON numbers beside the string `*_set` amounts: not read, since the
  money that left is in the transactions.
- `transactions[]`: what the buyer got back is the sum of the `refund` transactions whose
  `status` is `success`, `amount` as text in the transaction's `currency` (the
  presentment currency). A refund whose transactions are pending or failed moved no
  money (yet): it is read with no refund.
- A refund carries no reason code; the staff's `note` is the only reason it gives, so it
  stands as every line's reason text.
- Times carry the shop's offset (`-05:00`): read as UTC.
"""

from decimal import Decimal

from orders.adapters.parsing import (
    check_shape,
    currency_code,
    decimal_value,
    identifier,
    items,
    obj,
    optional_utc_datetime,
    path,
    quantity,
    text,
)
from returns.adapters.base import AdapterError, ChannelRefund, ChannelReturn, ReturnedLine

FORMAT = "shopify_refund"
TOPIC = "refunds/create"


def parse_return(payload) -> ChannelReturn:
    check_shape(payload, "Shopify refund", ("id", "order_id"))
    refund_id = identifier(payload["id"], "id")
    shopify_return = obj(payload.get("return"), "return")
    return_id = refund_id
    return_field = "id"
    if shopify_return.get("id") not in (None, ""):
        return_id = f"return:{identifier(shopify_return['id'], 'return.id')}"
        return_field = "return.id"
    note = text(payload.get("note"))
    lines = []
    for index, entry in enumerate(items(payload.get("refund_line_items"), "refund_line_items")):
        where = path("refund_line_items", index)
        entry = obj(entry, where)
        count = quantity(entry.get("quantity"), path(where, "quantity"))
        restock_type = text(entry.get("restock_type"))
        lines.append(
            ReturnedLine(
                quantity=count,
                reason=note,
                external_line_id=identifier(entry.get("line_item_id"), path(where, "line_item_id")),
                channel_sku=text(obj(entry.get("line_item"), path(where, "line_item")).get("sku")),
                note=f"Shopify restock_type {restock_type}" if restock_type else "",
                fields={"line": path(where, "line_item_id"), "quantity": path(where, "quantity")},
            )
        )
    return ChannelReturn(
        channel_kind="shopify",
        source_format=FORMAT,
        return_id=return_id,
        order_external_id=identifier(payload["order_id"], "order_id"),
        lines=tuple(lines),
        requested_at=optional_utc_datetime(payload.get("created_at"), "created_at"),
        refund=_refund(payload, refund_id),
        note=note,
        fields={"order": "order_id", "return_id": return_field, "lines": "refund_line_items"},
    )


def _refund(payload, refund_id: str) -> ChannelRefund | None:
    total, currency, first_field, refunded_at = Decimal("0"), "", "", None
    for index, entry in enumerate(items(payload.get("transactions"), "transactions")):
        where = path("transactions", index)
        entry = obj(entry, where)
        if text(entry.get("kind")) != "refund" or text(entry.get("status")) != "success":
            continue
        amount = decimal_value(entry.get("amount"), path(where, "amount"))
        if amount < 0:
            raise AdapterError(
                f"{where}.amount is negative ({amount}); Shopify sends refunds as positive "
                "amounts.",
                field=path(where, "amount"),
                code="negative_amount",
            )
        code = currency_code(entry.get("currency"), path(where, "currency"))
        if currency and code != currency:
            raise AdapterError(
                f"The refund's transactions are in {currency} and {code}.",
                field=path(where, "currency"),
                code="currency_mismatch",
            )
        currency, total = code, total + amount
        first_field = first_field or path(where, "amount")
        refunded_at = refunded_at or optional_utc_datetime(
            entry.get("processed_at") or entry.get("created_at"), path(where, "processed_at")
        )
    if not currency or total <= 0:
        return None
    return ChannelRefund(
        reference=refund_id,
        amount=total,
        currency=currency,
        refunded_at=refunded_at
        or optional_utc_datetime(payload.get("processed_at"), "processed_at"),
        fields={"amount": first_field, "currency": first_field.replace(".amount", ".currency")},
    )
