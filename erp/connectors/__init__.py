"""Connectors deliver outbox messages to one kind of destination.

A connector is a class with `deliver(message) -> None` that raises
`DeliveryError(retryable=...)` on failure. Kinds register with `register_connector`.
"""

from erp.connectors.base import DeliveryError, connector_for, register_connector
from erp.connectors.email import EmailConnector
from erp.connectors.webhook import WebhookConnector

register_connector("webhook", WebhookConnector)
register_connector("email", EmailConnector)

__all__ = [
    "DeliveryError",
    "EmailConnector",
    "WebhookConnector",
    "connector_for",
    "register_connector",
]
