from orders.models.orders import (
    Allocation,
    HoldReason,
    LineState,
    Order,
    OrderEvent,
    OrderHold,
    OrderLine,
    OrderOrigin,
    OrderState,
    RoutingDecision,
)
from orders.models.policy import (
    ChannelOrderPolicy,
    DropshipSource,
    IngestionError,
    ShippingRate,
    ShippingZone,
    SubstitutionRule,
)

__all__ = [
    "Allocation",
    "ChannelOrderPolicy",
    "DropshipSource",
    "HoldReason",
    "IngestionError",
    "LineState",
    "Order",
    "OrderEvent",
    "OrderHold",
    "OrderLine",
    "OrderOrigin",
    "OrderState",
    "RoutingDecision",
    "ShippingRate",
    "ShippingZone",
    "SubstitutionRule",
]
