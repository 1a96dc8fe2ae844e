"""eBay Sell Fulfillment API `createShippingFulfillment`
(`POST /sell/fulfillment/v1/order/{orderId}/shipping_fulfillment`), one call per package.

From eBay's ShippingFulfillmentDetails type:
- `lineItems` [{lineItemId, quantity}]: the lineItemId kept as external_line_id.
- `shippedDate` in UTC, `YYYY-MM-DDThh:mm:ss.sssZ` (milliseconds, `Z`), as eBay writes it.
- `shippingCarrierCode` and `trackingNumber` go together (both or neither); we always
  send both. The carrier code is eBay's ShippingCarrierCodeType spelling (GeteBayDetails
  lists them); a carrier we have no spelling for is sent by our code and eBay judges it.
- Tracking numbers must be letters and digits only: spaces and hyphens (as printed on
  labels) are removed, anything else is refused.
eBay answers with the new fulfillment's id in the `Location` header; it is the tracking
number, so a retry after a lost answer can be recognised with getShippingFulfillments.
"""

import re

from fulfillment.channel_formats.base import (
    OutboundRequest,
    ShipmentNotice,
    carrier_table,
    channel_carrier,
    checked,
    quantities_by,
    refuse,
    shipment_key,
    tracking_number,
    utc,
)

SEPARATORS = re.compile(r"[\s\-]+")
ALPHANUMERIC = re.compile(r"[A-Za-z0-9]+")
CARRIER_CODES = carrier_table(
    (
        "USPS",
        "UPS",
        "FedEx",
        "DHL",
        "DHLGlobalMail",
        "OnTrac",
        "LaserShip",
        "CanadaPost",
        "Purolator",
        "RoyalMail",
        "Parcelforce",
        "DeutschePost",
        "Hermes",
        "DPD",
        "GLS",
        "AustraliaPost",
        "TNT",
    )
)


def ebay_tracking_number(notice: ShipmentNotice) -> str:
    """The tracking number as eBay takes it: separators dropped, letters and digits only."""
    number = SEPARATORS.sub("", tracking_number(notice))
    if not ALPHANUMERIC.fullmatch(number):
        refuse(
            f"eBay takes tracking numbers of letters and digits only, not "
            f"{notice.tracking_number!r}.",
            field="tracking_number",
            code="invalid_tracking_number",
        )
    return number


def build_tracking_upload(notice: ShipmentNotice) -> OutboundRequest:
    checked(notice, "eBay")
    number = ebay_tracking_number(notice)
    line_items = [
        {"lineItemId": line_item_id, "quantity": quantity}
        for line_item_id, quantity in quantities_by(
            notice, "external_line_id", channel="eBay", label="lineItemId"
        )
    ]
    shipped = utc(notice.shipped_at)
    body = {
        "lineItems": line_items,
        "shippedDate": f"{shipped:%Y-%m-%dT%H:%M:%S}.{shipped.microsecond // 1000:03d}Z",
        "shippingCarrierCode": _carrier_code(notice),
        "trackingNumber": number,
    }
    return OutboundRequest(
        method="POST",
        path=f"/sell/fulfillment/v1/order/{notice.order_external_id}/shipping_fulfillment",
        body=body,
        topic="tracking.ebay",
        dedupe_key=f"tracking.ebay:{notice.order_external_id}:{shipment_key(notice)}",
    )


def _carrier_code(notice: ShipmentNotice) -> str:
    code = channel_carrier(notice, CARRIER_CODES) or str(notice.carrier_code or "").strip()
    if not code:
        refuse(
            "eBay needs the carrier with the tracking number (both or neither).",
            field="carrier_code",
            code="required",
        )
    return code
