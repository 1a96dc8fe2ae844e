"""Tying a channel's return to our records: the order lines it names, our reason for the
channel's, a refund of ours the channel echoes, and the channel's own names for the
fields a refusal points at."""

import re
from dataclasses import dataclass

from erp.errors import FieldError, ValidationFailed
from orders.models import OrderLine
from returns.adapters import ChannelReturn
from returns.channel_formats.base import reason_kind
from returns.models import Refund, RefundLine, RefundState, ReturnReason
from returns.services import rmas

# What each kind of channel reason (channel_formats.base.reason_kind) becomes among the
# reason codes a new installation starts with; a code the channel sends that is also one
# of ours is taken as is.
REASON_BY_KIND = {
    "damaged": "damaged_in_transit",
    "defective": "defective",
    "wrong_item": "wrong_item_sent",
    "not_as_described": "not_as_described",
    "missing_parts": "not_as_described",
    "not_received": "not_as_described",
    "late": "arrived_late",
    "remorse": "changed_mind",
}
SIZE_WORDS = re.compile(r"(^|_)(too_small|too_large|too_big|size|fit)($|_)")


def rma_lines(order, parsed: ChannelReturn) -> list[tuple[dict, object]]:
    """create_rma's lines (order line id, units, our reason code, the channel's reason in
    the note), each with the channel line it came from; lines naming the same order line
    are added up (an RMA names each order line once)."""
    order_lines = list(OrderLine.objects.filter(order=order).order_by("line_number", "pk"))
    returned = rmas.returned_units([line.pk for line in order_lines])
    reasons = set(ReturnReason.objects.filter(active=True).values_list("code", flat=True))
    merged: dict[int, tuple[dict, object]] = {}
    for returned_line in parsed.lines:
        order_line = _order_line(order, order_lines, returned, returned_line)
        if order_line.pk in merged:
            merged[order_line.pk][0]["quantity"] += returned_line.quantity
            continue
        reason = returned_line.reason
        note = " · ".join(
            p for p in (f"Channel reason: {reason}" if reason else "", returned_line.note) if p
        )
        merged[order_line.pk] = (
            {
                "order_line_id": order_line.pk,
                "quantity": returned_line.quantity,
                "reason": _reason_code(reason, reasons, returned_line),
                "note": note[:500],
            },
            returned_line,
        )
    return list(merged.values())


def _order_line(order, order_lines, returned: dict, line) -> OrderLine:
    if line.external_line_id:
        candidates = [o for o in order_lines if o.external_line_id == line.external_line_id]
        named = f"line {line.external_line_id}"
    elif line.channel_sku:
        candidates = [o for o in order_lines if o.channel_sku == line.channel_sku]
        named = f"SKU {line.channel_sku}"
    else:
        item = line.external_item_id
        candidates = [
            o
            for o in order_lines
            if o.external_item_id == item or o.external_item_id.startswith(f"{item}:")
        ]
        named = f"item {item}"
    if not candidates:
        raise ValidationFailed(
            f"Order {order.external_id} has no {named}.",
            field=line.fields.get("line", "line"),
            code="not_on_order",
        )
    # The same SKU on several lines: the first that can still take these units back.
    for candidate in candidates:
        returnable = candidate.quantity_shipped - (returned.get(candidate.pk) or 0)
        if returnable >= line.quantity:
            return candidate
    return candidates[0]


@dataclass(frozen=True)
class _ChannelReason:
    reason_code: str
    reason_is_damage: bool = False
    reason_is_our_fault: bool = False


def _reason_code(text: str, reasons: set[str], line) -> str:
    """Our reason for the channel's: the same code when we have it, else by its kind."""
    code = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if code in reasons:
        return code
    if SIZE_WORDS.search(code) and "wrong_size" in reasons:
        return "wrong_size"
    ours = REASON_BY_KIND[reason_kind(_ChannelReason(code))]
    if ours in reasons:
        return ours
    if "changed_mind" in reasons:
        return "changed_mind"
    raise ValidationFailed(
        f"No active return reason fits the channel's reason {text!r}; add {ours!r}.",
        field=line.fields.get("line", "reason"),
        code="no_reason",
    )


def echoed_refund(order, lines, amount, *, in_buyer_money: bool = False) -> Refund | None:
    """Our posted refund of this order that the channel now reports as its own: no channel
    id yet, the same amount (`in_buyer_money`: the amount we told the channel in the
    buyer's presentment currency), the same order lines and units. Locked (after the order)."""
    wanted = {line["order_line_id"]: line["quantity"] for line, _ in lines}
    same_amount = {"presentment_amount" if in_buyer_money else "amount": amount}
    candidates = list(
        Refund.objects.select_for_update(of=("self",))
        .select_related("rma")
        .filter(order=order, state=RefundState.POSTED, external_reference="", **same_amount)
        .order_by("pk")
    )
    if not candidates:
        return None
    units: dict[int, dict[int, int]] = {}
    for refund_id, order_line_id, quantity in RefundLine.objects.filter(
        refund__in=[c.pk for c in candidates]
    ).values_list("refund_id", "rma_line__order_line_id", "quantity"):
        per_line = units.setdefault(refund_id, {})
        per_line[order_line_id] = per_line.get(order_line_id, 0) + quantity
    return next((c for c in candidates if units.get(c.pk) == wanted), None)


_LINE_FIELD = re.compile(r"^lines\[(\d+)\]\.(\w+)$")


def in_channel_terms(error: FieldError, parsed: ChannelReturn) -> FieldError:
    """A service's field (`lines[0].quantity`, `external_refund.amount`) as the channel's
    own field (`rows[3].Return quantity`, `transactions[0].amount`)."""
    name = error.field or ""
    match = _LINE_FIELD.match(name)
    renamed = None
    if match and int(match.group(1)) < len(parsed.lines):
        fields = parsed.lines[int(match.group(1))].fields
        renamed = fields.get("quantity" if match.group(2) == "quantity" else "line")
    elif name in {"external_refund.amount", "amount"} and parsed.refund is not None:
        renamed = parsed.refund.fields.get("amount")
    elif name in {"external_reference", "external_refund.reference", "reference"}:
        renamed = parsed.fields.get("return_id")
    return FieldError(renamed or error.field, error.code, error.message)
