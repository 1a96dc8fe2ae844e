from erp.models.api_tokens import ApiAccess, ApiArea, ApiToken
from erp.models.approvals import ApprovalPolicy, ApprovalRequest
from erp.models.idempotency import IdempotencyRecord
from erp.models.master_data import Channel, ChannelListing, Location, Sku
from erp.models.outbox import Endpoint, OutboxMessage
from erp.models.queue_work import QueueClaim, QueueSla

__all__ = [
    "ApiAccess",
    "ApiArea",
    "ApiToken",
    "ApprovalPolicy",
    "ApprovalRequest",
    "Channel",
    "ChannelListing",
    "Endpoint",
    "IdempotencyRecord",
    "Location",
    "OutboxMessage",
    "QueueClaim",
    "QueueSla",
    "Sku",
]
