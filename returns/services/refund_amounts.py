"""What a refund pays back, computed from the order, never more than the order paid.

Per RMA line, for the units the policy's timing makes due and no earlier refund covered:
    items    = unit price × units − the line discount's share
    tax      = the line tax's share (none when prices include tax)
    fee      = restocking fee % of items, unless the reason is our fault
Shipping: the order's shipping charge, in proportion to the refunded items' share of the
order's merchandise, when the policy has the seller pay return shipping or the reason is
our fault — never more than the shipping not refunded yet.
Total = items + tax + shipping − fee, capped at the order total minus every live refund.
Shares are rounded half-up to the cent cumulatively per order line, so the refunds of every
unit of a line add up to exactly the line's discount and tax.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, Sum

from orders.models import OrderLine
from returns import selectors
from returns.models import LIVE_REFUND_STATES, Refund, RefundLine, RefundTiming, Rma, RmaLine
from returns.services.policies import EffectivePolicy, policies_for

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineQuote:
    rma_line: RmaLine
    quantity: int
    items_amount: Decimal
    discount_amount: Decimal
    tax_amount: Decimal
    restocking_fee: Decimal


@dataclass(frozen=True)
class RefundQuote:
    lines: tuple[LineQuote, ...]
    items_amount: Decimal
    tax_amount: Decimal
    shipping_amount: Decimal
    restocking_fee: Decimal
    computed_amount: Decimal
    paid: Decimal  # the order's total
    refunded: Decimal  # live refunds of the order so far
    not_due: tuple[str, ...]  # why units are not refundable yet, one note per line

    @property
    def remaining_paid(self) -> Decimal:
        return max(self.paid - self.refunded, ZERO)

    @property
    def amount(self) -> Decimal:
        return min(self.computed_amount, self.remaining_paid)

    @property
    def capped(self) -> bool:
        return self.computed_amount > self.remaining_paid

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)


def quote_refund(rma: Rma, *, whole_rma: bool = False) -> RefundQuote:
    """The refund due now for this RMA (`whole_rma`: for every authorized unit not yet
    refunded, whatever the timing: a refund the channel already made)."""
    order = rma.order
    lines = list(rma.lines.select_related("order_line", "sku", "reason").order_by("pk"))
    policies = policies_for(rma.channel, {line.sku.product_family for line in lines})
    due = _due_units(rma, lines, policies, whole_rma)
    refunded_units, refunded_per_order_line = _refunded_units(order)
    quotes, not_due, shipping_base = [], [], ZERO
    for line in lines:
        policy = policies[line.sku.product_family or ""]
        units = due[line.pk] - (refunded_units.get(line.pk) or 0)
        if units <= 0:
            if not refunded_units.get(line.pk):
                not_due.append(_not_due_note(line, policy))
            continue
        before = refunded_per_order_line.get(line.order_line_id, 0)
        quote = _line_quote(line, units, before, policy, taxes_included=order.taxes_included)
        quotes.append(quote)
        if policy.seller_pays_shipping or line.reason.our_fault:
            shipping_base += quote.items_amount
    totals = _order_totals(order)
    shipping = _shipping_share(order, shipping_base, totals)
    items = sum((q.items_amount for q in quotes), ZERO)
    tax = sum((q.tax_amount for q in quotes), ZERO)
    fee = sum((q.restocking_fee for q in quotes), ZERO)
    return RefundQuote(
        lines=tuple(quotes),
        items_amount=items,
        tax_amount=tax,
        shipping_amount=shipping,
        restocking_fee=fee,
        computed_amount=max(items + tax + shipping - fee, ZERO),
        paid=order.total,
        refunded=totals["refunded"],
        not_due=tuple(not_due),
    )


def _due_units(rma, lines, policies, whole_rma) -> dict[int, int]:
    """Units each line may refund under its policy's timing."""
    inspected = selectors.inspected_by_rma_line(rma.pk)
    due = {}
    for line in lines:
        timing = policies[line.sku.product_family or ""].refund_timing
        if whole_rma or timing == RefundTiming.ON_AUTHORIZATION:
            due[line.pk] = line.quantity
        elif timing == RefundTiming.ON_RECEIPT:
            due[line.pk] = line.quantity_received
        else:
            due[line.pk] = inspected.get(line.pk, 0)
    return due


def _not_due_note(line: RmaLine, policy: EffectivePolicy) -> str:
    stage = {
        RefundTiming.ON_RECEIPT: "when the units arrive",
        RefundTiming.AFTER_INSPECTION: "after the units are inspected",
    }.get(policy.refund_timing, "on authorization")
    return f"{line.sku.code}: the policy refunds {stage}."


def _refunded_units(order) -> tuple[dict[int, int], dict[int, int]]:
    """Units live refunds of this order already cover, per RMA line and per order line."""
    per_rma_line: dict[int, int] = {}
    per_order_line: dict[int, int] = {}
    rows = (
        RefundLine.objects.filter(refund__order=order, refund__state__in=LIVE_REFUND_STATES)
        .values("rma_line", "rma_line__order_line")
        .annotate(units=Sum("quantity"))
        .values_list("rma_line", "rma_line__order_line", "units")
    )
    for rma_line_id, order_line_id, units in rows:
        per_rma_line[rma_line_id] = units
        per_order_line[order_line_id] = per_order_line.get(order_line_id, 0) + units
    return per_rma_line, per_order_line


def _share(total: Decimal, before: int, units: int, quantity: int) -> Decimal:
    """These units' share of a line total, as the difference of two rounded cumulative
    shares: the refunds of every unit of a line add up to the line total exactly."""
    return money(total * (before + units) / quantity) - money(total * before / quantity)


def _line_quote(
    line: RmaLine, units: int, before: int, policy: EffectivePolicy, *, taxes_included
) -> LineQuote:
    """`before`: units of the order line earlier refunds already paid back."""
    order_line = line.order_line
    discount = _share(order_line.discount, before, units, order_line.quantity)
    items = money(order_line.unit_price * units) - discount
    tax = ZERO if taxes_included else _share(order_line.tax, before, units, order_line.quantity)
    fee = ZERO
    if not line.reason.our_fault and policy.restocking_fee_percent:
        fee = money(items * policy.restocking_fee_percent / Decimal(100))
    return LineQuote(
        rma_line=line,
        quantity=units,
        items_amount=items,
        discount_amount=discount,
        tax_amount=tax,
        restocking_fee=fee,
    )


def _order_totals(order) -> dict:
    """Merchandise after line discounts, and what live refunds already took: two sums."""
    merchandise = OrderLine.objects.filter(order=order).aggregate(
        value=Sum(
            ExpressionWrapper(
                F("unit_price") * F("quantity") - F("discount"),
                output_field=DecimalField(max_digits=14, decimal_places=2),
            )
        )
    )["value"]
    refunds = Refund.objects.filter(order=order, state__in=LIVE_REFUND_STATES).aggregate(
        amount=Sum("amount"), shipping=Sum("shipping_amount")
    )
    return {
        "merchandise": merchandise or ZERO,
        "refunded": refunds["amount"] or ZERO,
        "shipping_refunded": refunds["shipping"] or ZERO,
    }


def _shipping_share(order, base: Decimal, totals: dict) -> Decimal:
    if not base or not order.shipping_total or totals["merchandise"] <= 0:
        return ZERO
    share = money(order.shipping_total * base / totals["merchandise"])
    return max(min(share, order.shipping_total - totals["shipping_refunded"]), ZERO)
