"""eBay: a return as the Post-Order API reads it (`GET /post-order/v2/return/{returnId}`,
`fieldgroups=SUMMARY`).

From eBay's Post-Order return types:
- `summary.returnId` is the return's id; `summary.orderId` the order's id as ingestion
  keeps it; `summary.creationInfo.item` names the listing (`itemId`, the legacy item id
  that order lines keep as `legacyItemId[:legacyVariationId]`), its `transactionId` and
  the `returnQuantity`. One return is one item.
- Amounts are Amount objects whose `value` is a JSON number (`59.98`): read from its
  text (the API parses bodies with Decimal), never through float arithmetic.
- Dates are objects `{"value": "2026-11-24T17:40:12.000Z"}`, in UTC.
- `buyerTotalRefund.estimatedRefundAmount` is what eBay expects to refund;
  `actualRefundAmount` appears only once a refund was issued to the buyer. Only the actual
  amount is a refund: the return's id stands as its reference (eBay gives the refund no
  id of its own here, and one return is refunded once).
- `creationInfo.reason` (NO_LONGER_NEED_ITEM, …) and `state` are kept as data.
"""

from orders.adapters.parsing import (
    check_shape,
    currency_code,
    decimal_value,
    identifier,
    obj,
    optional_utc_datetime,
    quantity,
    text,
)
from returns.adapters.base import AdapterError, ChannelRefund, ChannelReturn, ReturnedLine

FORMAT = "ebay_return"


def parse_return(payload) -> ChannelReturn:
    check_shape(
        payload,
        "eBay return",
        ("summary.returnId", "summary.orderId", "summary.creationInfo.item.itemId"),
    )
    summary = payload["summary"]
    creation = obj(summary.get("creationInfo"), "summary.creationInfo")
    item = obj(creation.get("item"), "summary.creationInfo.item")
    where = "summary.creationInfo.item"
    reason = text(creation.get("reason"))
    comment = text(obj(creation.get("comments"), "summary.creationInfo.comments").get("content"))
    transaction_id = text(item.get("transactionId"))
    line = ReturnedLine(
        quantity=quantity(item.get("returnQuantity"), f"{where}.returnQuantity"),
        reason=reason,
        external_item_id=identifier(item.get("itemId"), f"{where}.itemId"),
        note=" · ".join(
            part
            for part in (
                f"eBay transaction {transaction_id}" if transaction_id else "",
                text(creation.get("reasonType")),
                comment,
            )
            if part
        )[:500],
        fields={"line": f"{where}.itemId", "quantity": f"{where}.returnQuantity"},
    )
    return_id = identifier(summary["returnId"], "summary.returnId")
    return ChannelReturn(
        channel_kind="ebay",
        source_format=FORMAT,
        return_id=return_id,
        order_external_id=identifier(summary["orderId"], "summary.orderId"),
        lines=(line,),
        requested_at=_date(creation.get("creationDate"), "summary.creationInfo.creationDate"),
        refund=_refund(summary, return_id),
        status=text(summary.get("state") or summary.get("status")),
        note=comment,
        fields={"order": "summary.orderId", "return_id": "summary.returnId"},
    )


def _date(value, where: str):
    """eBay Post-Order dates are objects {"value": …}; a bare string is read too."""
    if isinstance(value, dict):
        return optional_utc_datetime(value.get("value"), f"{where}.value")
    return optional_utc_datetime(value, where)


def _refund(summary: dict, return_id: str) -> ChannelRefund | None:
    for side in ("buyerTotalRefund", "sellerTotalRefund"):
        where = f"summary.{side}.actualRefundAmount"
        actual = obj(obj(summary.get(side), f"summary.{side}").get("actualRefundAmount"), where)
        if not actual:
            continue
        amount = decimal_value(actual.get("value"), f"{where}.value")
        if amount < 0:
            raise AdapterError(
                f"{where}.value is negative ({amount}).", field=f"{where}.value", code="invalid"
            )
        if amount == 0:
            return None
        return ChannelRefund(
            reference=return_id,
            amount=amount,
            currency=currency_code(actual.get("currency"), f"{where}.currency"),
            fields={"amount": f"{where}.value", "currency": f"{where}.currency"},
        )
    return None
