"""The customer-service queues the orders app registers."""

from django.db.models import Exists, OuterRef, Prefetch

from erp import roles
from erp.queues import ExceptionQueue, RowAction, register_queue
from orders.models import HoldReason, IngestionError, Order, OrderHold, OrderState
from orders.services import cancellation, holds

OPEN_HOLDS = Prefetch(
    "holds", queryset=OrderHold.objects.filter(resolved_at__isnull=True), to_attr="open_holds"
)


def _on_hold(reason: str | None = None):
    holds = OrderHold.objects.filter(order=OuterRef("pk"), resolved_at__isnull=True)
    if reason:
        holds = holds.filter(reason=reason)
    return (
        Order.objects.filter(Exists(holds)).select_related("channel").prefetch_related(OPEN_HOLDS)
    )


def orders_on_hold():
    return _on_hold().exclude(state=OrderState.CANCELLED)


def split_approvals():
    return _on_hold(HoldReason.SPLIT_NEEDS_APPROVAL)


def backordered_orders():
    return Order.objects.filter(
        state__in=[OrderState.BACKORDERED, OrderState.PARTIALLY_ALLOCATED]
    ).select_related("channel")


def orders_past_sla():
    """Escalated orders, the nearest ship-by first (most at risk of missing it)."""
    return (
        Order.objects.filter(escalated_at__isnull=False)
        .exclude(state__in=[OrderState.SHIPPED, OrderState.CLOSED, OrderState.CANCELLED])
        .select_related("channel")
        .order_by("ship_by", "placed_at")
    )


def open_ingestion_errors():
    return IngestionError.objects.filter(resolved_at__isnull=True)


def _release(*, object_id: int, actor, note: str):
    return holds.release_order(order_id=object_id, actor=actor, note=note)


def _cancel(*, object_id: int, actor, note: str):
    return cancellation.cancel_order(order_id=object_id, actor=actor, reason=note)


# The same services as the order page's buttons, offered on selected rows.
RELEASE = RowAction(
    key="release", label="Release holds", run=_release, permission="orders.release_order"
)
CANCEL = RowAction(
    key="cancel",
    label="Cancel orders",
    run=_cancel,
    permission="orders.cancel_order",
    needs_note=True,
)
_ROW_ACTIONS = {
    "orders-on-hold": (RELEASE, CANCEL),
    "orders-backordered": (CANCEL,),
    "orders-past-sla": (CANCEL,),
    "orders-split-approvals": (CANCEL,),
}

_COLUMNS = ("Order", "Channel", "State", "Placed", "Ship by", "")
# Queues of held orders show each open hold (reason, age, detail) instead of the state.
_HOLD_COLUMNS = ("Order", "Channel", "Open holds", "Placed", "Ship by", "")
_HOLD_QUEUES = {"orders-on-hold", "orders-split-approvals"}
for key, name, selector, age, description in [
    (
        "orders-on-hold",
        "Orders on hold",
        orders_on_hold,
        "state_changed_at",
        "Held for address, payment, risk, tax, unmapped SKU or by hand: release, fix or cancel.",
    ),
    (
        "orders-backordered",
        "Backordered orders",
        backordered_orders,
        "placed_at",
        "Lines waiting for stock; they route by themselves when stock arrives.",
    ),
    (
        "orders-past-sla",
        "Orders past SLA",
        orders_past_sla,
        "escalated_at",
        "Not released or not shipped within the channel's SLA, nearest ship-by first.",
    ),
    (
        "orders-split-approvals",
        "Splits awaiting approval",
        split_approvals,
        "state_changed_at",
        "Orders whose only plan is a costly split; a manager decides in the approvals inbox.",
    ),
]:
    register_queue(
        ExceptionQueue(
            key=key,
            name=name,
            owner_role=roles.CUSTOMER_SERVICE if key != "orders-split-approvals" else roles.MANAGER,
            sla_hours=4,
            selector=selector,
            age_field=age,
            row_template=(
                "orders/partials/queue_rows/held_order.html"
                if key in _HOLD_QUEUES
                else "orders/partials/queue_rows/order.html"
            ),
            columns=_HOLD_COLUMNS if key in _HOLD_QUEUES else _COLUMNS,
            search_fields=("external_id", "order_number", "ship_name", "channel__code"),
            description=description,
            row_actions=_ROW_ACTIONS[key],
            export_fields=(
                "pk",
                "order_number",
                "external_id",
                "channel__code",
                "state",
                "placed_at",
                "ship_by",
                "ship_name",
                age,
            ),
        )
    )

register_queue(
    ExceptionQueue(
        key="ingestion-errors",
        name="Ingestion errors",
        owner_role=roles.CUSTOMER_SERVICE,
        sla_hours=4,
        selector=open_ingestion_errors,
        age_field="received_at",
        row_template="orders/partials/queue_rows/ingestion_error.html",
        columns=("Received", "Channel", "Field", "Error", "Size", ""),
        search_fields=("channel_code", "code", "message"),
        description="Order payloads that were refused, with the raw body to inspect.",
    )
)
