"""Amazon SP-API Orders v0 `confirmShipment`
(`POST /orders/v0/orders/{orderId}/shipmentConfirmation`), one call per package.

From the ConfirmShipmentRequest / PackageDetail schemas:
- `marketplaceId` is required: the order's MarketplaceId, kept at ingestion in
  `extra["marketplace_id"]`.
- `packageReferenceId` identifies the package within the order and must be a positive
  number: our Shipment.pk, as text.
- `carrierCode` is required in every marketplace, from Amazon's carrier list; an unlisted
  carrier is `Other` with `carrierName` (1–50 characters). `shippingMethod` is optional
  free text (our service name, "UPS Ground").
- `shipDate` is ISO 8601; we send UTC with `Z`.
- `orderItems` name each `orderItemId` (the OrderItemId kept as external_line_id, not the
  ASIN) with a whole quantity.
`confirmShipment` is not among the Orders v0 operations Amazon deprecated for v2026-01-01.
"""

from fulfillment.channel_formats.base import (
    OutboundRequest,
    ShipmentNotice,
    carrier_display_name,
    carrier_table,
    channel_carrier,
    checked,
    quantities_by,
    refuse,
    shipment_key,
    tracking_number,
    utc,
)

OTHER = "Other"
CARRIER_NAME_LIMIT = 50
CARRIER_CODES = carrier_table(
    (
        "4PX",
        "Aramex",
        "Blue Package",
        "Canada Post",
        "China Post",
        "City Link",
        "DHL",
        "DHL eCommerce",
        "DHL Global Mail",
        "DPD",
        "Deutsche Post",
        "Fastway",
        "FedEx",
        "FedEx SmartPost",
        "GLS",
        "Hermes Logistik Gruppe",
        "Lasership",
        "Newgistics",
        "OnTrac",
        "OSM",
        "Parcelforce",
        "Royal Mail",
        "SF Express",
        "Singapore Post",
        "Streamlite",
        "TNT",
        "UPS",
        "UPS Mail Innovations",
        "UPSMI",
        "USPS",
        "Yanwen",
    )
)


def build_tracking_upload(notice: ShipmentNotice) -> OutboundRequest:
    checked(notice, "Amazon")
    marketplace_id = str(notice.extra.get("marketplace_id") or "").strip()
    if not marketplace_id:
        refuse(
            "Amazon needs the order's marketplace (MarketplaceId, kept at ingestion).",
            field="extra.marketplace_id",
            code="required",
        )
    order_items = [
        {"orderItemId": order_item_id, "quantity": quantity}
        for order_item_id, quantity in quantities_by(
            notice, "external_line_id", channel="Amazon", label="OrderItemId"
        )
    ]
    package = {"packageReferenceId": _package_reference(notice), **_carrier(notice)}
    if notice.service_name:
        package["shippingMethod"] = notice.service_name
    package.update(
        trackingNumber=tracking_number(notice),
        shipDate=utc(notice.shipped_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
        orderItems=order_items,
    )
    return OutboundRequest(
        method="POST",
        path=f"/orders/v0/orders/{notice.order_external_id}/shipmentConfirmation",
        body={"packageDetail": package, "marketplaceId": marketplace_id},
        topic="tracking.amazon",
        dedupe_key=f"tracking.amazon:{notice.order_external_id}:{shipment_key(notice)}",
    )


def _package_reference(notice: ShipmentNotice) -> str:
    shipment_id = notice.shipment_id
    if isinstance(shipment_id, bool) or not isinstance(shipment_id, int) or shipment_id <= 0:
        refuse(
            "Amazon's packageReferenceId must be a positive number: the shipment's id.",
            field="shipment_id",
            code="invalid",
        )
    return str(shipment_id)


def _carrier(notice: ShipmentNotice) -> dict:
    code = channel_carrier(notice, CARRIER_CODES)
    if code:
        return {"carrierCode": code}
    name = carrier_display_name(notice)
    if not name:
        refuse("Amazon needs the carrier.", field="carrier_code", code="required")
    if len(name) > CARRIER_NAME_LIMIT:
        refuse(
            f"Amazon takes a carrier name of at most {CARRIER_NAME_LIMIT} characters.",
            field="carrier_name",
            code="too_long",
        )
    return {"carrierCode": OTHER, "carrierName": name}
