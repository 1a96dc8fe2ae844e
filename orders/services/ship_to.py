"""Customer service edits an order's ship-to address before picking starts."""

from django.db import transaction

from erp.errors import Conflict, ValidationFailed
from erp.roles import require_permission
from orders.models import (
    Order,
    OrderState,
)
from orders.services import timeline
from orders.services.evaluation import evaluate_order
from orders.services.locking import lock_order
from orders.services.validation import ADDRESS_FIELDS, AddressCheck, check_address

S = OrderState


def edit_ship_to(*, order_id: int, actor, address: dict) -> Order:
    """Correct the ship-to address before the order ships; validation runs again. A held
    order's new address is checked by the (possibly slow) address validator first, outside
    the transaction."""
    require_permission(actor, "orders.change_order", action="edit orders")
    unknown = sorted(set(address) - set(ADDRESS_FIELDS))
    if unknown:
        raise ValidationFailed(
            "This field is not recognised.", field=unknown[0], code="unknown_field"
        )
    check = None
    current = Order.objects.filter(pk=order_id).first()
    if current is not None and current.state == S.ON_HOLD:
        _apply(current, address)
        check = check_address(current)
    return _edit_ship_to(order_id=order_id, actor=actor, address=address, check=check)


def _apply(order: Order, address: dict) -> None:
    for name, value in address.items():
        setattr(order, name, (value or "").strip()[:255])
    order.ship_country = order.ship_country.upper()


@transaction.atomic(durable=True)
def _edit_ship_to(*, order_id: int, actor, address: dict, check: AddressCheck | None) -> Order:
    order = lock_order(order_id)
    if order.state not in timeline.CANCELLABLE or order.state in (S.PICKING, S.PACKED):
        raise Conflict("The address can change only before picking starts.", field="state")
    changes = [
        f"{name[5:]}: {getattr(order, name)!r} → {value!r}"
        for name, value in address.items()
        if getattr(order, name) != value
    ]
    _apply(order, address)
    if len(order.ship_country) != 2 or not order.ship_country.isalpha():
        raise ValidationFailed(
            "Use the two-letter country code (ISO 3166-1), e.g. US.",
            field="ship_country",
            code="invalid",
        )
    order._history_user = actor
    order._change_reason = "ship-to edited"
    order.save(update_fields=list(address))
    del order._change_reason  # later saves in this call are not address edits
    timeline.note(order, "address", "Ship-to edited: " + "; ".join(changes), actor=actor)
    if order.state == S.ON_HOLD:
        evaluate_order(order=order, actor=actor, address_check=check)
    return order
