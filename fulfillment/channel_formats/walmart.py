"""Walmart Marketplace Orders API: ship order lines
(`POST /v3/orders/{purchaseOrderId}/shipping`).

From Walmart's ship-order-lines schema (v3):
- per purchaseOrderId (Order.external_id) + `lineNumber` (the lineNumber kept as
  external_line_id; the same SKU can sit on several lines, each shipped by its number);
- `sellerOrderId` is required on every line: our own order reference, ≤ 30 characters;
- `statusQuantity` {unitOfMeasurement "EACH", amount as a string}, status "Shipped";
- `trackingInfo`: `shipDateTime` as epoch milliseconds (UTC), `carrierName.carrier` from
  Walmart's supported-carrier list or `carrierName.otherCarrier` with `trackingURL`
  (then mandatory), `methodCode` one of Standard, Express, OneDay, Freight, WhiteGlove,
  Value, and `trackingNumber`.
Walmart refuses shipping updates for orders not acknowledged yet, so the request carries
the acknowledge call as its prerequisite. Marking lines Shipped charges the customer.
"""

from fulfillment.channel_formats.base import (
    OutboundRequest,
    Prerequisite,
    ShipmentNotice,
    carrier_display_name,
    carrier_key,
    carrier_table,
    channel_carrier,
    checked,
    epoch_milliseconds,
    quantities_by,
    refuse,
    shipment_key,
    tracking_number,
)

SELLER_ORDER_ID_LIMIT = 30
METHOD_CODES = {
    carrier_key(code): code
    for code in ("Standard", "Express", "OneDay", "Freight", "WhiteGlove", "Value")
}
CARRIERS = carrier_table(
    (
        "UPS",
        "USPS",
        "FedEx",
        "Airborne",
        "OnTrac",
        "DHL Ecommerce - US",
        "DHL",
        "LS",
        "UDS",
        "UPSMI",
        "FDX",
        "PILOT",
        "ESTES",
        "SAIA",
        "FDS Express",
        "Seko Worldwide",
        "HIT Delivery",
        "FEDEXSP",
        "RL Carriers",
        "China Post",
        "YunExpress",
        "AIT Worldwide Logistics",
        "Sendle",
        "Landmark Global",
        "Yanwen",
        "4PX",
        "GLS",
        "OSM Worldwide",
        "FIRST MILE",
        "CEVA",
        "SF Express",
        "TForce Freight",
        "AxleHire",
        "LSO",
        "Royal Mail",
        "ABF Freight System",
        "AAA Cooper",
        "Canada Post",
        "XPO Logistics",
        "Deutsche Post",
        "Better Trucks",
        "Asendia",
        "ePost Global",
        "Estes Express",
    ),
    aliases={
        "LaserShip": "LS",
        "United Delivery Service": "UDS",
        "UPS Mail Innovations": "UPSMI",
        "FedEx SmartPost": "FEDEXSP",
        "DHL eCommerce": "DHL Ecommerce - US",
    },
)


def build_tracking_upload(notice: ShipmentNotice) -> OutboundRequest:
    checked(notice, "Walmart")
    seller_order_id = _seller_order_id(notice)
    tracking_info = {
        "shipDateTime": epoch_milliseconds(notice.shipped_at),
        "carrierName": _carrier_name(notice),
        "methodCode": _method_code(notice),
        "trackingNumber": tracking_number(notice),
    }
    if notice.tracking_url:
        tracking_info["trackingURL"] = notice.tracking_url
    order_lines = [
        {
            "lineNumber": line_number,
            "sellerOrderId": seller_order_id,
            "orderLineStatuses": {
                "orderLineStatus": [
                    {
                        "status": "Shipped",
                        "statusQuantity": {"unitOfMeasurement": "EACH", "amount": str(quantity)},
                        "trackingInfo": dict(tracking_info),
                    }
                ]
            },
        }
        for line_number, quantity in quantities_by(
            notice, "external_line_id", channel="Walmart", label="lineNumber"
        )
    ]
    purchase_order_id = notice.order_external_id
    return OutboundRequest(
        method="POST",
        path=f"/v3/orders/{purchase_order_id}/shipping",
        body={"orderShipment": {"orderLines": {"orderLine": order_lines}}},
        topic="tracking.walmart",
        dedupe_key=f"tracking.walmart:{purchase_order_id}:{shipment_key(notice)}",
        prerequisite=Prerequisite(
            method="POST",
            path=f"/v3/orders/{purchase_order_id}/acknowledge",
            purpose="Walmart refuses shipping updates for orders not yet acknowledged; skip "
            "when the order is acknowledged already.",
        ),
    )


def _seller_order_id(notice: ShipmentNotice) -> str:
    reference = str(notice.seller_order_reference or "").strip()
    if not reference:
        refuse(
            "Walmart needs our own order reference on every shipped line (sellerOrderId).",
            field="seller_order_reference",
            code="required",
        )
    if len(reference) > SELLER_ORDER_ID_LIMIT:
        refuse(
            f"Walmart's sellerOrderId takes at most {SELLER_ORDER_ID_LIMIT} characters.",
            field="seller_order_reference",
            code="too_long",
        )
    return reference


def _carrier_name(notice: ShipmentNotice) -> dict:
    carrier = channel_carrier(notice, CARRIERS)
    if carrier:
        return {"carrier": carrier}
    name = carrier_display_name(notice)
    if not name:
        refuse("Walmart needs the carrier.", field="carrier_code", code="required")
    if not notice.tracking_url:
        refuse(
            f"{name} is not on Walmart's carrier list: Walmart then needs the tracking URL.",
            field="tracking_url",
            code="required",
        )
    return {"otherCarrier": name}


def _method_code(notice: ShipmentNotice) -> str:
    for candidate in (notice.service_code, notice.service_name):
        method = METHOD_CODES.get(carrier_key(candidate))
        if method:
            return method
    refuse(
        "Walmart needs the ship method as one of Standard, Express, OneDay, Freight, "
        f"WhiteGlove, Value; the service is {notice.service_code or notice.service_name!r}.",
        field="service_code",
        code="invalid_choice",
    )
