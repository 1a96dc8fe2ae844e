"""The refund confirmation a channel receives through the outbox, in the project's own
normalized format (fulfillment/channel_formats has no refund builders; a channel's native
refund call can be built from this body at delivery, as tracking uploads are):

    {
      "refund_reference": "RF-000012",          our refund number (also in the dedupe key)
      "rma_number": "RMA-000123",
      "channel": "SHOP-US", "channel_kind": "shopify",
      "order_external_id": "5841237402233", "order_number": "#1042",
      "currency": "USD",
      "amount": "23.79",                       what goes back, as a string
      "items_amount": "…", "tax_amount": "…", "shipping_amount": "…", "restocking_fee": "…",
      "posted_at": "2026-11-21T19:29:58Z",     UTC
      "note": "…",
      "lines": [{"line_id": "14210000001", "channel_sku": "TEE-BLK-M", "external_item_id": "…",
                 "quantity": 1, "reason": "wrong_size", "items_amount": "…",
                 "tax_amount": "…", "restocking_fee": "…"}]
    }

Lines are named by the channel's own line id (`OrderLine.external_line_id`), which every
channel's refund call needs (Shopify line_item_id, eBay lineItemId, Walmart lineNumber,
WooCommerce line item id, Amazon OrderItemId).
"""

from datetime import UTC


def refund_topic(channel_kind: str) -> str:
    return f"refund.{channel_kind}"


def refund_dedupe_key(refund) -> str:
    return f"refund.{refund.channel.kind}:{refund.order.external_id}:{refund.number}"


def build_refund_body(refund, lines) -> dict:
    """`lines`: the refund's RefundLines with rma_line → order_line and reason loaded."""
    order, channel = refund.order, refund.channel
    return {
        "refund_reference": refund.number,
        "rma_number": refund.rma.number,
        "channel": channel.code,
        "channel_kind": channel.kind,
        "order_external_id": order.external_id,
        "order_number": order.order_number,
        "currency": refund.currency,
        "amount": str(refund.amount),
        "items_amount": str(refund.items_amount),
        "tax_amount": str(refund.tax_amount),
        "shipping_amount": str(refund.shipping_amount),
        "restocking_fee": str(refund.restocking_fee),
        "posted_at": refund.posted_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "note": refund.note,
        "lines": [
            {
                "line_id": line.rma_line.order_line.external_line_id,
                "channel_sku": line.rma_line.order_line.channel_sku,
                "external_item_id": line.rma_line.order_line.external_item_id,
                "quantity": line.quantity,
                "reason": line.rma_line.reason.code,
                "items_amount": str(line.items_amount),
                "tax_amount": str(line.tax_amount),
                "restocking_fee": str(line.restocking_fee),
            }
            for line in lines
        ],
    }
