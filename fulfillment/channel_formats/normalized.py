"""The project's own tracking format, for B2B-portal and manual channels (kinds b2b, manual).

It mirrors the normalized order format those channels send us (orders/adapters/normalized.py):
lines are named by the `line_id` and `sku` the order came with. Posted to the channel's
tracking endpoint at `/orders/{external_id}/shipments`:

    {
      "order_external_id": "PO-2026-0042",
      "order_number": "B2B-0042",
      "shipment_reference": "SH0000123",
      "carrier": {"code": "UPS", "name": "UPS"},
      "service": {"code": "UPS-GROUND", "name": "UPS Ground"},
      "tracking_number": "1Z999AA10123456784",
      "tracking_url": "https://…",
      "shipped_at": "2026-11-21T16:45:00Z",      UTC
      "ship_from": "EAST",                      our location code
      "completes_order": true,                  nothing is left to ship
      "lines": [{"line_id": "1", "sku": "TEE-BLK-M", "quantity": 2}]
    }
"""

from fulfillment.channel_formats.base import (
    OutboundRequest,
    ShipmentNotice,
    checked,
    refuse,
    shipment_key,
    tracking_number,
    utc,
)


def build_tracking_upload(notice: ShipmentNotice) -> OutboundRequest:
    checked(notice, "The tracking feed")
    kind = notice.channel_kind or "b2b"
    body = {
        "order_external_id": notice.order_external_id,
        "order_number": notice.order_number,
        "shipment_reference": shipment_key(notice),
        "carrier": {"code": notice.carrier_code, "name": notice.carrier_name},
        "service": {"code": notice.service_code, "name": notice.service_name},
        "tracking_number": tracking_number(notice),
        "tracking_url": notice.tracking_url,
        "shipped_at": utc(notice.shipped_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ship_from": notice.ship_from_location_code,
        "completes_order": bool(notice.completes_order),
        "lines": _lines(notice),
    }
    return OutboundRequest(
        method="POST",
        path=f"/orders/{notice.order_external_id}/shipments",
        body=body,
        topic=f"tracking.{kind}",
        dedupe_key=f"tracking.{kind}:{notice.order_external_id}:{shipment_key(notice)}",
    )


def _lines(notice: ShipmentNotice) -> list[dict]:
    lines: dict[str, dict] = {}
    for index, line in enumerate(notice.lines):
        line_id = str(line.external_line_id or "").strip()
        if not line_id:
            refuse(
                f"Line {index + 1}: the line id the order came with is required.",
                field=f"lines[{index}].external_line_id",
                code="required",
            )
        entry = lines.setdefault(
            line_id, {"line_id": line_id, "sku": line.channel_sku, "quantity": 0}
        )
        entry["quantity"] += line.quantity
    return list(lines.values())
