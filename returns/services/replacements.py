"""A no-charge replacement for a damaged delivery, created from its RMA.

The order is made by orders' manual-order service (same validation, holds and routing
as any order); the RMA's number is stored on the order, so orders never imports
returns. One replacement per RMA: its reference is derived from the RMA's number and a
second attempt is refused as a duplicate, nothing written."""

from erp.errors import NotFound, ValidationFailed
from erp.roles import require_permission
from orders.models import Order
from orders.services.ingestion import IngestResult
from orders.services.manual_orders import ManualLine, create_manual_order
from returns.models import Rma, RmaState

_SHIP_TO = (
    "name",
    "company",
    "line1",
    "line2",
    "city",
    "region",
    "postal_code",
    "country",
    "phone",
)


def replacement_reference(rma: Rma) -> str:
    return f"RPL-{rma.number}"


def replacements_of(rma: Rma):
    return Order.objects.filter(replaces_rma=rma.number).order_by("pk")


def create_replacement(*, rma_id: int, channel_code: str, actor) -> IngestResult:
    """Ship the RMA's units again, at no charge, to the original order's address."""
    require_permission(actor, "returns.change_rma", action="create replacements")
    rma = Rma.objects.select_related("order").filter(pk=rma_id).first()
    if rma is None:
        raise NotFound("No such RMA.")
    if rma.state == RmaState.CANCELLED:
        raise ValidationFailed(
            f"{rma.number} is cancelled: nothing to replace.", field="rma", code="cancelled"
        )
    order = rma.order
    lines = [
        ManualLine(sku=line.sku.code, quantity=line.quantity)
        for line in rma.lines.select_related("sku").order_by("pk")
    ]
    return create_manual_order(
        channel_code=channel_code,
        kind="replacement",
        lines=lines,
        ship_to={name: getattr(order, f"ship_{name}") for name in _SHIP_TO},
        customer_email=order.customer_email,
        replaces_rma=rma.number,
        reference=replacement_reference(rma),
        note=f"Replacement for {rma.number} (order {order.order_number or order.external_id})",
        actor=actor,
    )
