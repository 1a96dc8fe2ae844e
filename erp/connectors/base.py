from typing import Protocol


class DeliveryError(Exception):
    """Delivery failed. `retryable=False` sends the message straight to the dead letters."""

    def __init__(self, message: str, *, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


class Connector(Protocol):
    def deliver(self, message) -> None: ...


_connectors: dict[str, type] = {}


def register_connector(kind: str, connector_class: type) -> None:
    _connectors[kind] = connector_class


def connector_for(endpoint) -> Connector:
    try:
        return _connectors[endpoint.kind](endpoint)
    except KeyError:
        raise DeliveryError(
            f"No connector for endpoint kind {endpoint.kind!r}.", retryable=False
        ) from None
