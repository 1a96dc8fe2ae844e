from erp.models.approvals import ApprovalPolicy, ApprovalRequest
from erp.models.idempotency import IdempotencyRecord
from erp.models.master_data import Channel, ChannelListing, Location, Sku
from erp.models.outbox import Endpoint, OutboxMessage

__all__ = [
    "ApprovalPolicy",
    "ApprovalRequest",
    "Channel",
    "ChannelListing",
    "Endpoint",
    "IdempotencyRecord",
    "Location",
    "OutboxMessage",
    "Sku",
]
