"""Customer service's holds: put an order on hold, release a held order."""

from django.db import transaction

from erp import fastsql
from erp.errors import Conflict, ValidationFailed
from erp.roles import require_permission
from orders.models import (
    HoldReason,
    Order,
    OrderLine,
    OrderState,
)
from orders.services import timeline
from orders.services.evaluation import evaluate_order, open_holds, place_holds, resolve_holds
from orders.services.locking import lock_order
from orders.services.sku_mapping import map_channel_skus
from orders.services.validation import AddressCheck, check_address

S = OrderState
OVERRIDABLE = {HoldReason.RISK_ABOVE_THRESHOLD, HoldReason.PAYMENT_NOT_CAPTURED, HoldReason.MANUAL}


def release_order(*, order_id: int, actor, note: str = "") -> Order:
    """CS releases a held order: overridable holds (risk, payment, manual) end with the
    note; the order is validated again and routes if nothing else holds it. A partially
    allocated order is released to ship what is in stock. The (possibly slow) address
    validator runs first, outside the transaction."""
    require_permission(actor, "orders.release_order", action="release orders")
    current = Order.objects.filter(pk=order_id).first()
    check = check_address(current) if current is not None and current.prices_known else None
    return _release(order_id=order_id, actor=actor, note=note, check=check)


@transaction.atomic(durable=True)
def _release(*, order_id: int, actor, note: str, check: AddressCheck | None) -> Order:
    order = lock_order(order_id)
    if order.state not in (S.ON_HOLD, S.PARTIALLY_ALLOCATED, S.BACKORDERED, S.ALLOCATED, S.READY):
        raise Conflict(
            f"A {order.get_state_display().lower()} order cannot be released.", field="state"
        )
    holds = open_holds(order)
    if any(h.reason == HoldReason.AWAITING_CHANNEL for h in holds):
        raise Conflict(
            f"{order.channel.name} has not priced this order yet; it cannot be released "
            "before the channel confirms it.",
            field="state",
            code="awaiting_channel",
        )
    if (
        any(
            h.reason in (HoldReason.RISK_ABOVE_THRESHOLD, HoldReason.PAYMENT_NOT_CAPTURED)
            for h in holds
        )
        and not note.strip()
    ):
        raise ValidationFailed(
            "Say why this risk or payment hold is overridden.", field="note", code="required"
        )
    resolve_holds(
        order, OVERRIDABLE, actor=actor, resolution=note or "released by customer service"
    )
    _remap_lines(order)
    order.risk_score = (
        None
        if any(h.reason == HoldReason.RISK_ABOVE_THRESHOLD for h in holds)
        else order.risk_score
    )
    if any(h.reason == HoldReason.PAYMENT_NOT_CAPTURED for h in holds):
        order.payment_status = (
            "captured" if order.payment_status != "captured" else order.payment_status
        )
    timeline.note(
        order, "release", f"Released by {actor.get_username()}: {note}".strip(": "), actor=actor
    )
    evaluate_order(order=order, actor=actor, address_check=check)
    if order.state == S.PARTIALLY_ALLOCATED and not open_holds(order):
        timeline.set_state(
            order, S.RELEASED, actor=actor, message="released to ship what is in stock"
        )
    return order


def _remap_lines(order: Order) -> None:
    """Map lines left unmapped again (a listing was added since), by the ingestion rule."""
    unmapped = list(order.lines.filter(sku__isnull=True))
    if not unmapped:
        return
    mapping = map_channel_skus(
        order.channel, [(line.channel_sku, line.external_item_id) for line in unmapped]
    )
    found = {}
    for line in unmapped:
        sku = mapping.sku_for(line.channel_sku, line.external_item_id)
        if sku is not None:
            found[line.pk] = sku.pk
    fastsql.set_by_pk(OrderLine, "sku", found)


@transaction.atomic(durable=True)
def hold_order(*, order_id: int, actor, note: str) -> Order:
    """Put an order on a manual hold (CS suspects something); its reservations stay."""
    require_permission(actor, "orders.change_order", action="hold orders")
    if not note.strip():
        raise ValidationFailed("Say why the order is held.", field="note", code="required")
    order = lock_order(order_id)
    if order.state not in timeline.CANCELLABLE:
        raise Conflict("Only orders not yet shipped can be held.", field="state")
    place_holds(order, [(HoldReason.MANUAL, note)], actor=actor)
    return order
