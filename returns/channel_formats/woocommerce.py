"""WooCommerce REST v3: create an order refund (`POST /wp-json/wc/v3/orders/{id}/refunds`).

From the v3 Order refunds documentation (and WooCommerce's source):
- `amount` is a **positive** string ("21.41"), two places: what goes back, our total. (An
  order's `refunds[].total` reads negative; the endpoint takes it positive.) When given it
  takes precedence over the line items' totals, so shipping refunded without a shipping
  line item still goes back.
- `api_refund` defaults to **true**, which asks the payment gateway to move the money; false
  only records the refund. We always send it: false when the notice is record-only (the
  channel or the gateway already paid, or policy says only record).
- `api_restock` defaults to true (restock the refunded line items): sent as false only
  when the notice says not to restock.
- `line_items`: per order line item `id` (the line item id kept as external_line_id, as a
  string like the sample), `quantity`, `refund_total` (the items without tax, restocking
  fee kept back; a JSON number) and `refund_tax` [{id: tax rate id, refund_total}], one per
  tax rate of the line: a taxed line needs its `channel_tax_lines`.
- `reason`: the note.
"""

from returns.channel_formats.base import (
    OutboundRequest,
    RefundNotice,
    checked,
    comment,
    dedupe_key,
    json_number,
    line_money,
    refuse,
    text_amount,
)


def build_refund_request(notice: RefundNotice) -> OutboundRequest:
    notice = checked(notice, "WooCommerce")
    line_items = []
    for entry in line_money(notice, channel="WooCommerce", label="line item id"):
        if entry.tax_amount and not entry.tax_lines:
            refuse(
                f"Line {entry.index + 1}: WooCommerce refunds tax per tax rate; give the line's "
                "tax rate ids (channel_tax_lines).",
                field=f"lines[{entry.index}].channel_tax_lines",
                code="required",
            )
        line_items.append(
            {
                "id": entry.external_id,
                "quantity": entry.quantity,
                "refund_total": json_number(entry.net_item_amount),
                "refund_tax": [
                    {"id": str(tax.tax_id), "refund_total": json_number(tax.amount)}
                    for tax in entry.tax_lines
                ],
            }
        )
    body = {
        "amount": text_amount(notice.total),
        "reason": comment(notice),
        "api_refund": not notice.record_only,
    }
    if not notice.restock:
        body["api_restock"] = False
    body["line_items"] = line_items
    return OutboundRequest(
        method="POST",
        path=f"/wp-json/wc/v3/orders/{notice.order_external_id}/refunds",
        body=body,
        topic="refund.woocommerce",
        dedupe_key=dedupe_key("woocommerce", notice),
    )
