"""Tracking uploads: a confirmed shipment told to its sales channel in the channel's format.

`build_tracking_upload(kind, notice)` dispatches by channel kind (`erp.models.Channel.Kind`)
to a pure function `ShipmentNotice -> OutboundRequest` in `<kind>.py`; B2B-portal and
manual channels share the project's own format (`normalized.py`). A notice the channel
would refuse raises `ValidationFailed` naming the notice field.

Shopify names fulfillment-order line items, which only a lookup at send time can give:
`lookup_before_formatting(kind, notice)` says when (then store `notice.as_dict()` in the
outbox, and at delivery run the lookup, `shopify.resolve_fulfillment_orders(notice,
response)`, and `build_tracking_upload`). Other prerequisites (Walmart's acknowledge) and
follow-ups (WooCommerce's order completion) travel on the request itself.
"""

from collections.abc import Callable

from erp.errors import ValidationFailed
from fulfillment.channel_formats import amazon, ebay, normalized, shopify, walmart, woocommerce
from fulfillment.channel_formats.base import (
    OutboundRequest,
    Prerequisite,
    ShipmentNotice,
    ShipmentNoticeLine,
)

FORMATTERS: dict[str, Callable[[ShipmentNotice], OutboundRequest]] = {
    "shopify": shopify.build_tracking_upload,
    "amazon": amazon.build_tracking_upload,
    "ebay": ebay.build_tracking_upload,
    "walmart": walmart.build_tracking_upload,
    "woocommerce": woocommerce.build_tracking_upload,
    "b2b": normalized.build_tracking_upload,
    "manual": normalized.build_tracking_upload,
}


def build_tracking_upload(channel_kind: str, notice: ShipmentNotice) -> OutboundRequest:
    """The request that tells a channel of this kind about this parcel."""
    formatter = FORMATTERS.get(channel_kind)
    if formatter is None:
        raise ValidationFailed(
            f"No tracking format for channel kind {channel_kind!r}; known: "
            f"{', '.join(sorted(FORMATTERS))}.",
            field="channel_kind",
            code="unknown_channel_kind",
        )
    if notice.channel_kind and notice.channel_kind != channel_kind:
        raise ValidationFailed(
            f"The notice is for a {notice.channel_kind} order, not {channel_kind}.",
            field="channel_kind",
            code="channel_mismatch",
        )
    return formatter(notice)


def lookup_before_formatting(channel_kind: str, notice: ShipmentNotice) -> Prerequisite | None:
    """The channel read needed before this notice can be formatted, if any."""
    if channel_kind == "shopify" and shopify.needs_lookup(notice):
        return shopify.fulfillment_orders_lookup(notice)
    return None


__all__ = [
    "FORMATTERS",
    "OutboundRequest",
    "Prerequisite",
    "ShipmentNotice",
    "ShipmentNoticeLine",
    "build_tracking_upload",
    "lookup_before_formatting",
]
