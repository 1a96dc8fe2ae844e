"""The outbox message that confirms a posted refund to its channel, in the channel's format.

The refund becomes a channel-neutral `RefundNotice` (returns/channel_formats), which each
channel's formatter turns into its own request; the message is built before the refund
is marked posted, so a refund the channel would refuse fails when it is posted (or
approved), not after N delivery retries. Shopify needs its refund calculation first: the
message then carries the notice and the lookup to run at delivery, as tracking uploads do.

Two choices:
- `restock` is false: this ERP owns inventory and publishes availability itself; a channel
  told to restock would count the units twice.
- A refund whose amount differs from the computed one (agreed, or cut to what the order
  paid) is told as the same lines scaled to that amount, rounding cents onto the largest
  line, so the notice always adds up to what we post.
- An order the buyer paid in another currency (Shopify presentment money) is refunded to
  the channel in that currency: the notice carries the refund's `presentment_*` amounts
  (what the buyer paid and gets back); the shop's amounts stay on the refund for posting.
"""

from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal

from returns.channel_formats import build_refund_request, lookup_before_formatting
from returns.channel_formats.base import RefundNotice, RefundNoticeLine, checked

CENT = Decimal("0.01")


def refund_topic(channel_kind: str) -> str:
    return f"refund.{channel_kind}"


def refund_dedupe_key(refund) -> str:
    return f"refund.{refund.channel.kind}:{refund.order.external_id}:{refund.number}"


def refund_message(refund, lines) -> dict:
    """topic, payload and dedupe key of the outbox row for this refund. `lines`: its
    RefundLines with rma_line → order_line and reason loaded."""
    kind = refund.channel.kind
    notice = build_notice(refund, lines)
    lookup = lookup_before_formatting(kind, notice)
    if lookup is None:
        request = build_refund_request(kind, notice)
        return {
            "topic": request.topic,
            "payload": {"format": kind, "request": request.as_dict()},
            "dedupe_key": request.dedupe_key,
        }
    checked(notice, kind)
    return {
        "topic": refund_topic(kind),
        "payload": {"format": kind, "lookup": asdict(lookup), "notice": notice.as_dict()},
        "dedupe_key": refund_dedupe_key(refund),
    }


@dataclass(frozen=True)
class _Side:
    """One currency's figures of a refund: what the notice tells the channel."""

    currency: str
    amount: Decimal
    computed_amount: Decimal
    shipping_amount: Decimal
    lines: list  # (items, tax, fee) per refund line


def _side(refund, lines) -> _Side:
    if refund.presentment_currency:  # the buyer's money: what they paid and get back
        return _Side(
            currency=refund.presentment_currency,
            amount=refund.presentment_amount,
            computed_amount=refund.presentment_computed_amount,
            shipping_amount=refund.presentment_shipping_amount,
            lines=[
                (
                    line.presentment_items_amount,
                    line.presentment_tax_amount,
                    line.presentment_restocking_fee,
                )
                for line in lines
            ],
        )
    return _Side(
        currency=refund.currency,
        amount=refund.amount,
        computed_amount=refund.computed_amount,
        shipping_amount=refund.shipping_amount,
        lines=[(line.items_amount, line.tax_amount, line.restocking_fee) for line in lines],
    )


def build_notice(refund, lines) -> RefundNotice:
    lines = list(lines)
    order, first_reason = refund.order, lines[0].rma_line.reason
    side = _side(refund, lines)
    amounts = _scaled(side)
    return RefundNotice(
        channel_kind=refund.channel.kind,
        order_external_id=order.external_id,
        refund_id=refund.pk,
        currency=side.currency,
        lines=tuple(
            RefundNoticeLine(
                line_number=line.rma_line.order_line.line_number,
                external_line_id=line.rma_line.order_line.external_line_id,
                quantity=line.quantity,
                item_amount=item,
                tax_amount=tax,
                external_item_id=line.rma_line.order_line.external_item_id,
                channel_sku=line.rma_line.order_line.channel_sku,
                restocking_fee=fee,
                reason_code=line.rma_line.reason.code,
                reason_is_damage=line.rma_line.reason.counts_as_damage,
                reason_is_our_fault=line.rma_line.reason.our_fault,
            )
            for line, (item, tax, fee) in zip(lines, amounts["lines"], strict=True)
        ),
        total=side.amount,
        created_at=refund.posted_at,
        order_number=order.order_number,
        refund_reference=refund.number,
        rma_reference=refund.rma.number,
        extra=order.extra,
        reason_code=first_reason.code,
        reason_label=first_reason.label,
        reason_is_damage=first_reason.counts_as_damage,
        reason_is_our_fault=first_reason.our_fault,
        note=refund.note,
        shipping_amount=amounts["shipping"],
        restocking_fee=sum((fee for _, _, fee in amounts["lines"]), Decimal("0.00")),
        restock=False,
    )


def _scaled(side: _Side) -> dict:
    parts = side.lines
    if side.amount == side.computed_amount:
        return {"lines": parts, "shipping": side.shipping_amount}
    zero = Decimal("0.00")
    if not side.computed_amount:  # nothing computed (a 100 % fee): the agreed amount as items
        rest = [(zero, zero, zero)] * (len(parts) - 1)
        return {"lines": [(side.amount, zero, zero), *rest], "shipping": zero}
    ratio = side.amount / side.computed_amount

    def scale(value):
        return (value * ratio).quantize(CENT, rounding=ROUND_HALF_UP)

    scaled = [[scale(item), scale(tax), scale(fee)] for item, tax, fee in parts]
    shipping = scale(side.shipping_amount)
    told = sum(item + tax - fee for item, tax, fee in scaled) + shipping
    largest = max(range(len(scaled)), key=lambda index: scaled[index][0])
    scaled[largest][0] += side.amount - told
    return {"lines": [tuple(part) for part in scaled], "shipping": shipping}
