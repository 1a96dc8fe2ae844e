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

An order the buyer paid in another currency (Shopify presentment money) is quoted twice, by
the same rule: in the shop's money (the order's amounts: what settles and posts) and in the
buyer's (the `presentment_*` amounts: what the channel is told and the customer gets back).
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
class LineAmounts:
    items_amount: Decimal
    tax_amount: Decimal
    restocking_fee: Decimal


@dataclass(frozen=True)
class LineQuote:
    rma_line: RmaLine
    quantity: int
    items_amount: Decimal
    discount_amount: Decimal
    tax_amount: Decimal
    restocking_fee: Decimal
    presentment: LineAmounts | None = None  # in the buyer's money


@dataclass(frozen=True)
class PresentmentQuote:
    """The quote's total in the buyer's money; its lines are on each LineQuote."""

    currency: str
    shipping_amount: Decimal
    computed_amount: Decimal
    paid: Decimal  # Order.presentment_total
    refunded: Decimal  # live refunds of the order so far, in the buyer's money

    @property
    def remaining_paid(self) -> Decimal:
        return max(self.paid - self.refunded, ZERO)


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
    presentment: PresentmentQuote | None = None  # the buyer's money, when it differs

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
    quotes, not_due, shipping_base, seen_base = [], [], ZERO, ZERO
    for line in lines:
        policy = policies[line.sku.product_family or ""]
        units = due[line.pk] - (refunded_units.get(line.pk) or 0)
        if units <= 0:
            if not refunded_units.get(line.pk):
                not_due.append(_not_due_note(line, policy))
            continue
        before = refunded_per_order_line.get(line.order_line_id, 0)
        quote = _line_quote(line, units, before, policy, order=order)
        quotes.append(quote)
        if policy.seller_pays_shipping or line.reason.our_fault:
            shipping_base += quote.items_amount
            if quote.presentment:
                seen_base += quote.presentment.items_amount
    totals = _order_totals(order)
    shipping = _shipping_share(
        order.shipping_total, shipping_base, totals["merchandise"], totals["shipping_refunded"]
    )
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
        presentment=_presentment_quote(order, quotes, seen_base, totals),
    )


def _presentment_quote(order, quotes, base: Decimal, totals: dict) -> PresentmentQuote | None:
    if not order.presentment_currency:
        return None
    shipping = _shipping_share(
        order.presentment_shipping_total,
        base,
        totals["presentment_merchandise"],
        totals["presentment_shipping_refunded"],
    )
    seen = [quote.presentment for quote in quotes]
    items = sum((line.items_amount for line in seen), ZERO)
    tax = sum((line.tax_amount for line in seen), ZERO)
    fee = sum((line.restocking_fee for line in seen), ZERO)
    return PresentmentQuote(
        currency=order.presentment_currency,
        shipping_amount=shipping,
        computed_amount=max(items + tax + shipping - fee, ZERO),
        paid=order.presentment_total or ZERO,
        refunded=totals["presentment_refunded"],
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


def _line_quote(line: RmaLine, units: int, before: int, policy: EffectivePolicy, *, order):
    """`before`: units of the order line earlier refunds already paid back."""
    order_line = line.order_line
    fee_percent = ZERO if line.reason.our_fault else policy.restocking_fee_percent or ZERO

    def amounts(unit_price, discount_total, tax_total):
        discount = _share(discount_total or ZERO, before, units, order_line.quantity)
        items = money(unit_price * units) - discount
        tax = (
            ZERO
            if order.taxes_included
            else _share(tax_total or ZERO, before, units, order_line.quantity)
        )
        return discount, items, tax, money(items * fee_percent / Decimal(100))

    discount, items, tax, fee = amounts(order_line.unit_price, order_line.discount, order_line.tax)
    seen = None
    if order.presentment_currency:
        _, seen_items, seen_tax, seen_fee = amounts(
            order_line.presentment_unit_price,
            order_line.presentment_discount,
            order_line.presentment_tax,
        )
        seen = LineAmounts(items_amount=seen_items, tax_amount=seen_tax, restocking_fee=seen_fee)
    return LineQuote(
        rma_line=line,
        quantity=units,
        items_amount=items,
        discount_amount=discount,
        tax_amount=tax,
        restocking_fee=fee,
        presentment=seen,
    )


def _merchandise(prefix: str) -> ExpressionWrapper:
    return ExpressionWrapper(
        F(f"{prefix}unit_price") * F("quantity") - F(f"{prefix}discount"),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )


def _order_totals(order) -> dict:
    """Merchandise after line discounts, and what live refunds already took, in the shop's
    and the buyer's money: two queries."""
    merchandise = OrderLine.objects.filter(order=order).aggregate(
        shop=Sum(_merchandise("")), seen=Sum(_merchandise("presentment_"))
    )
    refunds = Refund.objects.filter(order=order, state__in=LIVE_REFUND_STATES).aggregate(
        amount=Sum("amount"),
        shipping=Sum("shipping_amount"),
        seen_amount=Sum("presentment_amount"),
        seen_shipping=Sum("presentment_shipping_amount"),
    )
    return {
        "merchandise": merchandise["shop"] or ZERO,
        "refunded": refunds["amount"] or ZERO,
        "shipping_refunded": refunds["shipping"] or ZERO,
        "presentment_merchandise": merchandise["seen"] or ZERO,
        "presentment_refunded": refunds["seen_amount"] or ZERO,
        "presentment_shipping_refunded": refunds["seen_shipping"] or ZERO,
    }


def _shipping_share(
    order_shipping: Decimal | None, base: Decimal, merchandise: Decimal, refunded: Decimal
) -> Decimal:
    if not base or not order_shipping or merchandise <= 0:
        return ZERO
    share = money(order_shipping * base / merchandise)
    return max(min(share, order_shipping - refunded), ZERO)
