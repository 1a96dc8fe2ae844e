"""eBay Sell Fulfillment API `issueRefund` (`POST /sell/fulfillment/v1/order/{order_id}/issue_refund`).

From eBay's IssueRefundRequest, RefundItem and ReasonForRefundEnum types:
- eBay cannot cancel one line of a multi-line order (Post-Order cancels whole orders); a
  line is dropped by refunding it. So every refund names its lines: `refundItems`, one per
  `lineItemId` (the lineItemId kept as external_line_id), never `orderLevelRefundAmount`.
- `refundAmount` {value, currency}: the value as text with two places ("15.00"). A line's
  amount is everything it gets back: items + tax + its share of shipping and shipping tax
  − its share of the restocking fee (shares in proportion to the items).
- `reasonForRefund` is one value of ReasonForRefundEnum for the whole call (eBay: lines
  with different reasons need separate calls): the notice's reason decides.
- `comment` is free text, at most 100 characters: the note, shortened when longer.
The refund is processed asynchronously (read `paymentSummary.refunds` back with getOrder);
for EU/UK sellers the call needs eBay's digital signature headers (the connector's part).
eBay's refund always moves money: a record-only notice is refused.
"""

from returns.channel_formats.base import (
    OutboundRequest,
    RefundNotice,
    channel_reason,
    checked,
    comment,
    dedupe_key,
    line_money,
    not_record_only,
    refuse,
    text_amount,
)

COMMENT_LIMIT = 100
REASONS = (
    "BUYER_CANCEL",
    "SELLER_CANCEL",
    "ITEM_NOT_RECEIVED",
    "BUYER_RETURN",
    "ITEM_NOT_AS_DESCRIBED",
    "OTHER_ADJUSTMENT",
    "SHIPPING_DISCOUNT",
)
REASON_BY_KIND = {
    "not_received": "ITEM_NOT_RECEIVED",
    "wrong_item": "ITEM_NOT_AS_DESCRIBED",
    "not_as_described": "ITEM_NOT_AS_DESCRIBED",
    "missing_parts": "ITEM_NOT_AS_DESCRIBED",
    "damaged": "ITEM_NOT_AS_DESCRIBED",
    "defective": "ITEM_NOT_AS_DESCRIBED",
    "late": "OTHER_ADJUSTMENT",
    "remorse": "BUYER_RETURN",
}


def build_refund_request(notice: RefundNotice) -> OutboundRequest:
    notice = checked(notice, "eBay")
    not_record_only(notice, "eBay")
    items = []
    for entry in line_money(notice, channel="eBay", label="lineItemId"):
        if entry.amount <= 0:
            refuse(
                f"Line {entry.index + 1}: eBay refunds each line a positive amount; after the "
                f"restocking fee it gets {entry.amount}.",
                field=f"lines[{entry.index}].item_amount",
                code="min_value",
            )
        items.append(
            {
                "refundAmount": {"value": text_amount(entry.amount), "currency": notice.currency},
                "lineItemId": entry.external_id,
            }
        )
    body = {"reasonForRefund": channel_reason(notice, REASONS, REASON_BY_KIND)}
    text = comment(notice, COMMENT_LIMIT)
    if text:
        body["comment"] = text
    body["refundItems"] = items
    return OutboundRequest(
        method="POST",
        path=f"/sell/fulfillment/v1/order/{notice.order_external_id}/issue_refund",
        body=body,
        topic="refund.ebay",
        dedupe_key=dedupe_key("ebay", notice),
    )
