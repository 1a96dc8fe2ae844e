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

S = OrderState


ADDRESS_FIELDS = [
    "ship_name",
    "ship_company",
    "ship_line1",
    "ship_line2",
    "ship_city",
    "ship_region",
    "ship_postal_code",
    "ship_country",
    "ship_phone",
]


@transaction.atomic
def edit_ship_to(*, order_id: int, actor, address: dict) -> Order:
    """Correct the ship-to address before the order ships; validation runs again."""
    require_permission(actor, "orders.change_order", action="edit orders")
    unknown = sorted(set(address) - set(ADDRESS_FIELDS))
    if unknown:
        raise ValidationFailed(
            "This field is not recognised.", field=unknown[0], code="unknown_field"
        )
    order = lock_order(order_id)
    if order.state not in timeline.CANCELLABLE or order.state in (S.PICKING, S.PACKED):
        raise Conflict("The address can change only before picking starts.", field="state")
    changes = [
        f"{name[5:]}: {getattr(order, name)!r} → {value!r}"
        for name, value in address.items()
        if getattr(order, name) != value
    ]
    for name, value in address.items():
        setattr(order, name, (value or "").strip()[:255])
    order.ship_country = order.ship_country.upper()
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
        evaluate_order(order=order, actor=actor)
    return order
