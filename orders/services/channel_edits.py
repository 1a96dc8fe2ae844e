"""A later version of an order from its channel, line by line.

Units the buyer cancelled or the channel removed (Shopify `current_quantity`, Walmart
cancelled line statuses, eBay line refunds) are cancelled on our line and their reservations released;
lines the channel added join the order and are validated and routed like the first ones;
prices the channel withheld at first (Amazon Pending) are filled in. Runs inside
ingestion's transaction with the order row locked: edits are the slow path.

Everything is checked before anything is written: a removal the warehouse can no longer
honour (units picked, packed or shipped, or on a pick list) or a line added to an order
already with the warehouse refuses the whole update, which goes to the ingestion-errors
queue with the reason.
"""

from dataclasses import dataclass, field
from typing import Protocol

from erp.errors import ValidationFailed
from orders.adapters.base import NormalizedLine, NormalizedOrder
from orders.models import LineState, Order, OrderLine, OrderState
from orders.services import cancellation, evaluation, in_fulfillment, timeline
from orders.services.validation import AddressCheck

S = OrderState
# Orders whose lines a channel edit may still change; a shipped, closed or cancelled
# order's later refunds are returns, not cancellations.
EDITABLE = (timeline.CANCELLABLE | in_fulfillment.IN_FULFILLMENT) - {S.CANCELLED}
MONEY_FIELDS = (
    "unit_price",
    "tax",
    "discount",
    "presentment_unit_price",
    "presentment_tax",
    "presentment_discount",
)


class AddLines(Protocol):
    def __call__(self, order: Order, lines: list[NormalizedLine]) -> list[OrderLine]: ...


@dataclass
class LineEdits:
    removals: list[tuple[OrderLine, int]] = field(default_factory=list)  # line, units to cancel
    added: list[NormalizedLine] = field(default_factory=list)
    repriced: list[tuple[OrderLine, NormalizedLine]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.removals or self.added or self.repriced)


def plan_line_edits(order: Order, normalized: NormalizedOrder) -> LineEdits:
    """What the channel's version changes in our lines; refuses what cannot be applied."""
    edits = LineEdits()
    if order.state not in EDITABLE:
        return edits
    existing = {line.external_line_id: line for line in order.lines.all()}
    committed = cancellation.committed_units(order, list(existing.values()))
    for incoming in normalized.lines:
        line = existing.get(incoming.external_line_id)
        if line is None:
            edits.added.append(incoming)
            continue
        if line.unit_price is None and incoming.unit_price is not None:
            edits.repriced.append((line, incoming))
        # Units removed, whether the channel counts them (Shopify current_quantity, Walmart
        # cancelled statuses) or lowers the line's quantity (our own format's edits).
        removed = min(
            max(incoming.removed_quantity, line.quantity - incoming.quantity), line.quantity
        )
        more = removed - line.quantity_cancelled
        if more <= 0:
            continue  # already cancelled here (CS or an earlier delivery)
        cancellation.check_not_below_committed(
            order, line, line.quantity - removed, field="lines", committed=committed
        )
        edits.removals.append((line, more))
    if edits.added and order.state in in_fulfillment.IN_FULFILLMENT:
        raise ValidationFailed(
            f"The channel added line(s) {', '.join(n.external_line_id for n in edits.added)} "
            f"to an order already {order.get_state_display().lower()}; ship them as a new "
            "order.",
            field="lines",
            code="order_in_fulfillment",
        )
    return edits


def apply_line_edits(
    order: Order,
    edits: LineEdits,
    *,
    add_lines: AddLines,
    actor,
    cancelled_at=None,
    address_check: AddressCheck | None = None,
) -> None:
    """Apply a planned edit; `add_lines` writes new lines as the first ingestion does."""
    for line, incoming in edits.repriced:
        for name in MONEY_FIELDS:
            setattr(line, name, getattr(incoming, name))
        line.save(update_fields=list(MONEY_FIELDS))
    for line, units in edits.removals:
        cancellation.cancel_line_units(
            order=order, line=line, quantity=units, actor=actor, reason="removed on the channel"
        )
    if edits.added:
        added = add_lines(order, edits.added)
        timeline.note(
            order,
            "lines_added",
            "Added on the channel: "
            + ", ".join(
                f"line {line.line_number} ({line.quantity} × {line.title or line.channel_sku})"
                for line in added
            ),
            actor=actor,
        )
    _settle(order, actor=actor, cancelled_at=cancelled_at, address_check=address_check)


def _settle(order: Order, *, actor, cancelled_at, address_check) -> None:
    open_lines = order.lines.exclude(state__in=[LineState.CANCELLED, LineState.SHIPPED])
    if not open_lines.exists():
        if not order.lines.filter(quantity_shipped__gt=0).exists():
            cancellation.cancel_locked(
                order,
                actor=actor,
                reason="every line removed on the channel",
                cancelled_at=cancelled_at,
            )
        return
    if order.state in evaluation.ROUTABLE | {S.RECEIVED, S.ON_HOLD}:
        # Validated and routed again as on ingestion: added lines are mapped or held,
        # what is still wanted routes; reservations already right stay as they are.
        evaluation.evaluate_order(order=order, actor=actor, address_check=address_check)
