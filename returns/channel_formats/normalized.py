"""The project's own refund format, for B2B-portal and manual channels (kinds b2b, manual).

The same fields as the refund body the returns service already queues
(returns/services/refund_notice.py), plus what a receiver needs to act on it (record only,
restock, shipping tax). Amounts are strings with two places, lines are named by the
`line_id` and `sku` the order came with. Posted to the channel's endpoint at
`/orders/{external_id}/refunds`:

    {
      "refund_reference": "RF-000012",
      "rma_number": "RMA-000123",
      "channel_kind": "b2b",
      "order_external_id": "PO-2026-0042", "order_number": "B2B-0042",
      "currency": "USD",
      "amount": "64.20",                        what goes back
      "items_amount": "…", "tax_amount": "…", "shipping_amount": "…",
      "shipping_tax": "…", "restocking_fee": "…",
      "posted_at": "2026-11-21T19:29:58Z",      UTC
      "reason": "defective", "note": "…",
      "record_only": false,                     true: already paid, only record it
      "restock": true,
      "lines": [{"line_id": "1", "channel_sku": "TEE-BLK-M", "external_item_id": "",
                 "quantity": 2, "reason": "defective", "items_amount": "…",
                 "tax_amount": "…", "restocking_fee": "…"}]
    }
"""

from datetime import UTC

from returns.channel_formats.base import (
    ZERO,
    OutboundRequest,
    RefundNotice,
    checked,
    dedupe_key,
    line_money,
    refund_key,
    text_amount,
)


def build_refund_request(notice: RefundNotice) -> OutboundRequest:
    notice = checked(notice, "The refund feed")
    kind = notice.channel_kind or "b2b"
    lines = line_money(notice, channel="The refund feed", label="line id")
    body = {
        "refund_reference": refund_key(notice),
        "rma_number": notice.rma_reference,
        "channel_kind": kind,
        "order_external_id": notice.order_external_id,
        "order_number": notice.order_number,
        "currency": notice.currency,
        "amount": text_amount(notice.total),
        "items_amount": text_amount(sum((line.item_amount for line in notice.lines), ZERO)),
        "tax_amount": text_amount(sum((line.tax_amount for line in notice.lines), ZERO)),
        "shipping_amount": text_amount(notice.shipping_amount),
        "shipping_tax": text_amount(notice.shipping_tax),
        "restocking_fee": text_amount(notice.restocking_fee),
        "posted_at": notice.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reason": notice.reason_code,
        "note": notice.note,
        "record_only": bool(notice.record_only),
        "restock": bool(notice.restock),
        "lines": [
            {
                "line_id": entry.external_id,
                "channel_sku": entry.line.channel_sku,
                "external_item_id": entry.line.external_item_id,
                "quantity": entry.quantity,
                "reason": entry.line.reason_code or notice.reason_code,
                "items_amount": text_amount(entry.item_amount),
                "tax_amount": text_amount(entry.tax_amount),
                "restocking_fee": text_amount(entry.restocking_fee),
            }
            for entry in lines
        ],
    }
    return OutboundRequest(
        method="POST",
        path=f"/orders/{notice.order_external_id}/refunds",
        body=body,
        topic=f"refund.{kind}",
        dedupe_key=dedupe_key(kind, notice),
    )
