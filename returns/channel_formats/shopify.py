"""Shopify: create a refund (`POST /admin/api/{version}/orders/{order_id}/refunds.json`).

From Shopify's Refund resource (REST Admin API; legacy since 1 Oct 2024, GraphQL
`refundCreate` takes the same structure):
- `refund_line_items` name the *order* line items (`line_items[].id`, kept as
  external_line_id; not fulfillment-order line items) with a quantity and a `restock_type`:
  `return` puts the units back at `location_id` (then required), `no_restock` does not.
- `transactions` say which payment the money goes back to: `parent_id` is the sale or
  capture transaction, `kind` "refund", its `gateway`, `amount` a JSON number. Their sum is
  what the buyer gets: our total (items + tax + shipping + shipping tax − restocking fee).
  Shopify books what differs from its own calculation (a restocking fee, a partial amount)
  as an order adjustment.
- `shipping` {"amount": …} refunds shipping (without its tax); left out when none is.
- `currency` is the order's presentment currency; `notify` e-mails the buyer; `note`.
- A refund with no transaction records the refund (and restocks) without moving money:
  that is what `record_only` sends.
Shopify asks for `POST …/refunds/calculate.json` first: it answers the suggested
transactions (parent id, gateway, maximum refundable) and the restock location.
`refund_calculation_lookup(notice)` builds that call and `resolve_refund_calculation(notice,
response)` puts its answer on the notice; `lookup_before_formatting` says when it is needed.
"""

from dataclasses import replace
from decimal import Decimal

from returns.channel_formats.base import (
    ZERO,
    OutboundRequest,
    Prerequisite,
    RefundNotice,
    RefundTransaction,
    checked,
    comment,
    dedupe_key,
    json_number,
    line_money,
    money,
    refuse,
)


def needs_lookup(notice: RefundNotice) -> bool:
    return (not notice.record_only and not notice.transactions) or (
        notice.restock and not str(notice.channel_location_id or "").strip()
    )


def refund_calculation_lookup(notice: RefundNotice) -> Prerequisite:
    notice = checked(notice, "Shopify")
    body = {"currency": notice.currency}
    if notice.shipping_amount:
        body["shipping"] = {"amount": json_number(notice.shipping_amount)}
    body["refund_line_items"] = _refund_line_items(notice, need_location=False)
    return Prerequisite(
        method="POST",
        path=f"/admin/api/{{version}}/orders/{notice.order_external_id}/refunds/calculate.json",
        body={"refund": body},
        purpose="Shopify suggests the transactions to refund and the restock location: "
        "read them, then resolve_refund_calculation(notice, response) before formatting.",
    )


def resolve_refund_calculation(notice: RefundNotice, response) -> RefundNotice:
    """The notice with its transactions (our total spread over Shopify's suggested
    transactions, each up to its maximum refundable) and restock location filled in."""
    notice = checked(notice, "Shopify")
    refund = response.get("refund") if isinstance(response, dict) else None
    if not isinstance(refund, dict):
        refuse("Expected the refunds/calculate.json response.", field="calculation")
    changes = {}
    if notice.restock and not str(notice.channel_location_id or "").strip():
        locations = [
            item.get("location_id")
            for item in refund.get("refund_line_items") or []
            if isinstance(item, dict) and item.get("location_id")
        ]
        if locations:
            changes["channel_location_id"] = str(locations[0])
    if not notice.record_only and not notice.transactions:
        changes["transactions"] = _spread(notice.total, refund.get("transactions") or [])
    return replace(notice, **changes)


def build_refund_request(notice: RefundNotice) -> OutboundRequest:
    notice = checked(notice, "Shopify")
    body = {
        "currency": notice.currency,
        "notify": bool(notice.notify_customer),
    }
    note = comment(notice)
    if note:
        body["note"] = note
    if notice.shipping_amount:
        body["shipping"] = {"amount": json_number(notice.shipping_amount)}
    body["refund_line_items"] = _refund_line_items(notice, need_location=True)
    body["transactions"] = [] if notice.record_only else _transactions(notice)
    return OutboundRequest(
        method="POST",
        path=f"/admin/api/{{version}}/orders/{notice.order_external_id}/refunds.json",
        body={"refund": body},
        topic="refund.shopify",
        dedupe_key=dedupe_key("shopify", notice),
    )


def _refund_line_items(notice: RefundNotice, *, need_location: bool) -> list[dict]:
    location = str(notice.channel_location_id or "").strip()
    if notice.restock and need_location and not location:
        refuse(
            "Shopify restocks returned units at a location (restock_type return): name it, "
            "or read it with refund_calculation_lookup first.",
            field="channel_location_id",
            code="required",
        )
    items = []
    for entry in line_money(notice, channel="Shopify", label="line item id"):
        item = {
            "line_item_id": _id(entry.external_id, f"lines[{entry.index}].external_line_id"),
            "quantity": entry.quantity,
            "restock_type": "return" if notice.restock else "no_restock",
        }
        if notice.restock and location:
            item["location_id"] = _id(location, "channel_location_id")
        items.append(item)
    return items


def _transactions(notice: RefundNotice) -> list[dict]:
    if not notice.transactions:
        refuse(
            "Shopify refunds money against the order's sale transaction: read it with "
            "refund_calculation_lookup, then resolve_refund_calculation.",
            field="transactions",
            code="refund_calculation_required",
        )
    paid = sum((t.amount for t in notice.transactions), ZERO)
    if paid != notice.total:
        refuse(
            f"The transactions refund {paid}, not the refund's total {notice.total}.",
            field="transactions",
            code="total_mismatch",
        )
    rows = []
    for index, transaction in enumerate(notice.transactions):
        if transaction.amount <= 0:
            continue
        row = {
            "parent_id": _id(transaction.parent_id, f"transactions[{index}].parent_id"),
            "amount": json_number(transaction.amount),
            "kind": "refund",
        }
        if transaction.gateway:
            row["gateway"] = transaction.gateway
        rows.append(row)
    return rows


def _spread(total: Decimal, suggested) -> tuple[RefundTransaction, ...]:
    if not isinstance(suggested, list):
        refuse("Expected the calculation's transactions.", field="calculation.transactions")
    left, spread = total, []
    for index, transaction in enumerate(suggested):
        if not isinstance(transaction, dict) or left <= 0:
            continue
        where = f"calculation.transactions[{index}]"
        ceiling = transaction.get("maximum_refundable", transaction.get("amount"))
        ceiling = money(str(ceiling if ceiling is not None else "0"), f"{where}.maximum_refundable")
        take = min(left, ceiling)
        if take <= 0:
            continue
        spread.append(
            RefundTransaction(
                parent_id=str(_id(transaction.get("parent_id"), f"{where}.parent_id")),
                amount=take,
                gateway=str(transaction.get("gateway") or ""),
            )
        )
        left -= take
    if left > 0:
        refuse(
            f"Shopify can refund only {total - left} of {total} on this order's payments.",
            field="total",
            code="exceeds_refundable",
        )
    return tuple(spread)


def _id(value, where: str) -> int:
    if isinstance(value, bool):
        refuse(f"{where} must be a Shopify id.", field=where)
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, str) and value.strip().isdigit() and int(value.strip()) > 0:
        return int(value.strip())
    refuse(f"{where} must be a Shopify id, not {value!r}.", field=where)
