"""Channel adapters: each channel's native order payload in, one NormalizedOrder out.

`ADAPTERS` maps a channel kind (`erp.models.Channel.Kind`) to a pure function
`payload -> NormalizedOrder`; `parse_order(kind, payload)` dispatches. B2B-portal and manual
orders share the project's own normalized format (`normalized.py`).

Ingestion should parse request bodies with `json.loads(body, parse_float=Decimal)` so JSON
numbers (Walmart amounts, WooCommerce line `price`) arrive as exact Decimals; the adapters
also accept plain floats and read them through their shortest text (`parsing.decimal_value`).
"""

from collections.abc import Callable
from functools import partial

from orders.adapters import amazon, ebay, normalized, shopify, walmart, woocommerce
from orders.adapters.base import AdapterError, NormalizedOrder

ADAPTERS: dict[str, Callable[[dict], NormalizedOrder]] = {
    "shopify": shopify.parse_order,
    "amazon": amazon.parse_order,
    "ebay": ebay.parse_order,
    "walmart": walmart.parse_order,
    "woocommerce": woocommerce.parse_order,
    "b2b": partial(normalized.parse_order, channel_kind="b2b"),
    "manual": partial(normalized.parse_order, channel_kind="manual"),
}


def parse_order(kind: str, payload: dict) -> NormalizedOrder:
    """The normalized order for a payload from a channel of this kind."""
    adapter = ADAPTERS.get(kind)
    if adapter is None:
        raise AdapterError(
            f"No adapter for channel kind {kind!r}; known: {', '.join(sorted(ADAPTERS))}.",
            field="kind",
            code="unknown_channel_kind",
        )
    return adapter(payload)


__all__ = ["ADAPTERS", "AdapterError", "NormalizedOrder", "parse_order"]
