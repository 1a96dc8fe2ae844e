"""Walmart Marketplace Orders API: refund order lines (`POST /v3/orders/{purchaseOrderId}/refund`).

From Walmart's refund-order-lines schema (v3) and its Refunds overview:
- per purchaseOrderId (Order.external_id, also in the body) + `lineNumber` (kept as
  external_line_id; the same SKU can sit on several lines, each refunded by its number);
  only lines already Shipped can be refunded.
- Amounts are JSON numbers and must be **negative** (a refund of 2.00 is `-2.0`), never
  more than was charged for the line.
- Each line carries `refundCharges.refundCharge[]`, one per charge refunded, each with its
  `refundReason` (Walmart's enum) and a `charge` {chargeType, chargeName, chargeAmount
  {currency, amount}, tax {taxName, taxAmount {currency, amount}}}: the item as
  PRODUCT/ItemPrice with its tax, and the line's share of shipping as SHIPPING/Shipping
  with the shipping tax. Charge and tax stay apart, as on the order. A restocking fee is
  kept back from the PRODUCT charge.
- `taxName` is the order charge's tax name: the line's channel tax line when given, else
  Walmart's "Tax1".
- `isFullRefund` false: we always state the amounts.
- `refundComments`: the note.
Walmart's refund always moves money: a record-only notice is refused.
"""

from decimal import Decimal

from returns.channel_formats.base import (
    ZERO,
    LineMoney,
    OutboundRequest,
    RefundNotice,
    channel_reason,
    checked,
    comment,
    dedupe_key,
    json_number,
    line_money,
    not_record_only,
    refuse,
)

DEFAULT_TAX_NAME = "Tax1"
REASONS = (
    "BillingError",
    "TaxExemptCustomer",
    "ItemNotAsAdvertised",
    "IncorrectItemReceived",
    "CancelledYetShipped",
    "ItemNotReceivedByCustomer",
    "IncorrectShippingPrice",
    "DamagedItem",
    "DefectiveItem",
    "CustomerChangedMind",
    "CustomerReceivedItemLate",
    "Missing Parts / Instructions",
    "Finance -> Goodwill",
    "Finance -> Rollback",
)
REASON_BY_KIND = {
    "not_received": "ItemNotReceivedByCustomer",
    "wrong_item": "IncorrectItemReceived",
    "not_as_described": "ItemNotAsAdvertised",
    "missing_parts": "Missing Parts / Instructions",
    "damaged": "DamagedItem",
    "defective": "DefectiveItem",
    "late": "CustomerReceivedItemLate",
    "remorse": "CustomerChangedMind",
}


def build_refund_request(notice: RefundNotice) -> OutboundRequest:
    notice = checked(notice, "Walmart")
    not_record_only(notice, "Walmart")
    text = comment(notice)
    order_lines = []
    for entry in line_money(notice, channel="Walmart", label="lineNumber"):
        if entry.amount <= 0:
            refuse(
                f"Line {entry.index + 1}: Walmart refunds each line a negative amount; after "
                f"the restocking fee it gets {entry.amount}.",
                field=f"lines[{entry.index}].item_amount",
                code="min_value",
            )
        refund = {}
        if text:
            refund["refundComments"] = text
        refund["refundCharges"] = {"refundCharge": _charges(notice, entry)}
        order_lines.append(
            {
                "lineNumber": entry.external_id,
                "isFullRefund": False,
                "refunds": {"refund": [refund]},
            }
        )
    purchase_order_id = notice.order_external_id
    return OutboundRequest(
        method="POST",
        path=f"/v3/orders/{purchase_order_id}/refund",
        body={
            "orderRefund": {
                "purchaseOrderId": purchase_order_id,
                "orderLines": {"orderLine": order_lines},
            }
        },
        topic="refund.walmart",
        dedupe_key=dedupe_key("walmart", notice),
    )


def _charges(notice: RefundNotice, entry: LineMoney) -> list[dict]:
    reason = channel_reason(notice, REASONS, REASON_BY_KIND, entry.line)
    tax_name = entry.tax_lines[0].tax_id if entry.tax_lines else DEFAULT_TAX_NAME
    charges = [
        _charge(
            notice,
            reason,
            "PRODUCT",
            "ItemPrice",
            entry.net_item_amount,
            entry.tax_amount,
            tax_name,
        )
    ]
    if entry.shipping_amount or entry.shipping_tax:
        charges.append(
            _charge(
                notice,
                reason,
                "SHIPPING",
                "Shipping",
                entry.shipping_amount,
                entry.shipping_tax,
                tax_name,
            )
        )
    return charges


def _charge(
    notice: RefundNotice,
    reason: str,
    charge_type: str,
    charge_name: str,
    amount: Decimal,
    tax: Decimal,
    tax_name: str,
) -> dict:
    return {
        "refundReason": reason,
        "charge": {
            "chargeType": charge_type,
            "chargeName": charge_name,
            "chargeAmount": {"currency": notice.currency, "amount": _negative(amount)},
            "tax": {
                "taxName": tax_name,
                "taxAmount": {"currency": notice.currency, "amount": _negative(tax)},
            },
        },
    }


def _negative(amount: Decimal) -> float:
    """Walmart's sign: what goes back to the buyer is negative (0 stays 0.0, not -0.0)."""
    return json_number(ZERO - amount)
