"""Refund confirmations: a posted refund told to its sales channel in the channel's format.

`build_refund_request(kind, notice)` dispatches by channel kind (`erp.models.Channel.Kind`)
to a pure function `RefundNotice -> OutboundRequest` in `<kind>.py`; B2B-portal and manual
channels share the project's own format (`normalized.py`). A notice the channel would
refuse raises `ValidationFailed` naming the notice field. Topics are `refund.<kind>` and
dedupe keys `refund.<kind>:<order external id>:<refund reference>`, as
returns.services.refund_notice makes them.

Per channel: Shopify creates a refund naming order line items, with a transaction on the
order's payment (which `POST …/refunds/calculate.json` tells: `lookup_before_formatting`
says when, then `shopify.resolve_refund_calculation(notice, response)`); eBay issueRefund
refunds per line item (eBay cannot cancel one line); Walmart refunds order lines with
negative amounts; WooCommerce takes a positive amount with `api_refund` false for a
record-only refund; Amazon takes an order adjustments feed (a `FeedRequest` carrying the
flat file to upload first).
"""

from collections.abc import Callable

from erp.errors import ValidationFailed
from fulfillment.channel_formats.base import OutboundRequest, Prerequisite
from returns.channel_formats import amazon, ebay, normalized, shopify, walmart, woocommerce
from returns.channel_formats.base import (
    FeedRequest,
    RefundNotice,
    RefundNoticeLine,
    RefundTaxLine,
    RefundTransaction,
)

FORMATTERS: dict[str, Callable[[RefundNotice], OutboundRequest]] = {
    "shopify": shopify.build_refund_request,
    "amazon": amazon.build_refund_request,
    "ebay": ebay.build_refund_request,
    "walmart": walmart.build_refund_request,
    "woocommerce": woocommerce.build_refund_request,
    "b2b": normalized.build_refund_request,
    "manual": normalized.build_refund_request,
}


def build_refund_request(channel_kind: str, notice: RefundNotice) -> OutboundRequest:
    """The request that tells a channel of this kind about this refund."""
    formatter = FORMATTERS.get(channel_kind)
    if formatter is None:
        raise ValidationFailed(
            f"No refund format for channel kind {channel_kind!r}; known: "
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


def lookup_before_formatting(channel_kind: str, notice: RefundNotice) -> Prerequisite | None:
    """The channel read needed before this notice can be formatted, if any (Shopify's
    refund calculation, for the payment to refund and the restock location)."""
    if channel_kind == "shopify" and shopify.needs_lookup(notice):
        return shopify.refund_calculation_lookup(notice)
    return None


__all__ = [
    "FORMATTERS",
    "FeedRequest",
    "OutboundRequest",
    "Prerequisite",
    "RefundNotice",
    "RefundNoticeLine",
    "RefundTaxLine",
    "RefundTransaction",
    "build_refund_request",
    "lookup_before_formatting",
]
