"""Shopify: create a fulfillment with tracking (`POST /admin/api/{version}/fulfillments.json`).

A fulfillment names *fulfillment-order* line items, not the order's line items: the ids we
keep per line (`line_items[].id` → external_line_id) must first be mapped through
`GET /admin/api/{version}/orders/{order_id}/fulfillment_orders.json`
(`fulfillment_orders_lookup`, then `assign_fulfillment_order_lines` or
`resolve_fulfillment_orders`). Rules from Shopify's docs that the mapping keeps:
- only fulfillment orders whose status is open or in_progress and whose
  `supported_actions` include create_fulfillment can be fulfilled (not scheduled, on hold,
  closed, cancelled);
- `fulfillable_quantity` is what is left on a fulfillment-order line item; shipping more is
  refused here rather than by Shopify after the parcel has left;
- one fulfillment covers fulfillment orders of one order at one location, each fulfillment
  order once; an entry with no line items would fulfil the whole fulfillment order, so none
  is ever sent empty.
`tracking_info.company` is sent in Shopify's spelling (capitalization matters) so Shopify
builds the tracking link and follows the parcel; other carriers go by their name plus `url`.
The REST Admin API is legacy since 1 Oct 2024; GraphQL `fulfillmentCreate` takes the same
structure (`lineItemsByFulfillmentOrder`, `trackingInfo`, `notifyCustomer`) with gid ids.
"""

from collections.abc import Sequence

from erp.errors import ValidationFailed
from fulfillment.channel_formats.base import (
    OutboundRequest,
    Prerequisite,
    ShipmentNotice,
    ShipmentNoticeLine,
    carrier_display_name,
    carrier_table,
    channel_carrier,
    checked,
    refuse,
    shipment_key,
    tracking_number,
    with_lines,
)

FULFILLABLE_STATUSES = {"open", "in_progress"}
TRACKING_COMPANIES = carrier_table(
    (
        "4PX",
        "Amazon",
        "APC",
        "Asendia USA",
        "Australia Post",
        "Canada Post",
        "Canpar",
        "China Post",
        "Chronopost",
        "Colissimo",
        "Correos",
        "Deutsche Post",
        "DHL eCommerce",
        "DHL Express",
        "DPD",
        "DPD UK",
        "Evri",
        "FedEx",
        "GLS",
        "LaserShip",
        "OnTrac",
        "PostNL",
        "PostNord",
        "Purolator",
        "Royal Mail",
        "Sendle",
        "UPS",
        "USPS",
        "Yanwen",
        "YunExpress",
    )
)


def fulfillment_orders_lookup(notice: ShipmentNotice) -> Prerequisite:
    return Prerequisite(
        method="GET",
        path=f"/admin/api/{{version}}/orders/{notice.order_external_id}/fulfillment_orders.json",
        purpose="Fulfillments name fulfillment-order line items: read them, then "
        "resolve_fulfillment_orders(notice, response) before formatting.",
    )


def needs_lookup(notice: ShipmentNotice) -> bool:
    return any(
        line.fulfillment_order_id is None or line.fulfillment_order_line_item_id is None
        for line in notice.lines
    )


def build_tracking_upload(notice: ShipmentNotice) -> OutboundRequest:
    checked(notice, "Shopify")
    tracking_info = {"company": _company(notice), "number": tracking_number(notice)}
    if notice.tracking_url:
        tracking_info["url"] = notice.tracking_url
    body = {
        "fulfillment": {
            "line_items_by_fulfillment_order": _by_fulfillment_order(notice),
            "tracking_info": tracking_info,
            "notify_customer": bool(notice.notify_customer),
        }
    }
    return OutboundRequest(
        method="POST",
        path="/admin/api/{version}/fulfillments.json",
        body=body,
        topic="tracking.shopify",
        dedupe_key=f"tracking.shopify:{notice.order_external_id}:{shipment_key(notice)}",
    )


def resolve_fulfillment_orders(
    notice: ShipmentNotice, fulfillment_orders, *, location_id=None
) -> ShipmentNotice:
    """The notice with every line assigned to fulfillment-order line items."""
    checked(notice, "Shopify")
    return with_lines(
        notice,
        assign_fulfillment_order_lines(fulfillment_orders, notice.lines, location_id=location_id),
    )


def assign_fulfillment_order_lines(
    fulfillment_orders, lines: Sequence[ShipmentNoticeLine], *, location_id=None
) -> tuple[ShipmentNoticeLine, ...]:
    """Map our lines (by the order line item id kept as external_line_id) onto the
    fulfillment-order line items of a `fulfillment_orders.json` response.

    A line whose units sit on several fulfillment orders (a moved or split order) comes back
    as several lines, one per fulfillment-order line item. `location_id` (Shopify's) limits
    the choice to fulfillment orders assigned there; without it, the first location that can
    take every line is used, since one fulfillment covers one location. Refuses a line
    Shopify does not list as fulfillable and a quantity above what is left to fulfil.
    """
    if location_id is not None:
        return _assign_all(_fulfillable_items(fulfillment_orders, location_id), lines)
    items = _fulfillable_items(fulfillment_orders, None)
    locations = list(dict.fromkeys(item["location_id"] for item in items))
    if len(locations) <= 1:
        return _assign_all(items, lines)
    for location in locations:
        try:
            return _assign_all(_fulfillable_items(fulfillment_orders, location), lines)
        except ValidationFailed:
            continue
    _assign_all(items, lines)  # names the line that cannot be fulfilled anywhere
    refuse(
        "No single Shopify location has every line open; one fulfillment covers one "
        "location. Pass the location the parcel left from.",
        field="location_id",
        code="fulfillment_orders_span_locations",
    )


def _assign_all(items: list[dict], lines: Sequence[ShipmentNoticeLine]) -> tuple:
    assigned: list[ShipmentNoticeLine] = []
    for index, line in enumerate(lines):
        assigned.extend(_assign(line, index, items))
    return tuple(assigned)


def _assign(
    line: ShipmentNoticeLine, index: int, remaining: list[dict]
) -> list[ShipmentNoticeLine]:
    order_line_id = str(line.external_line_id or "").strip()
    if not order_line_id:
        refuse(
            f"Line {index + 1}: Shopify needs the order line item id (external_line_id).",
            field=f"lines[{index}].external_line_id",
            code="required",
        )
    quantity = line.quantity
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        refuse(
            f"Line {index + 1}: the shipped quantity must be a whole number of at least 1.",
            field=f"lines[{index}].quantity",
            code="invalid_quantity",
        )
    candidates = [item for item in remaining if item["line_item_id"] == order_line_id]
    if not candidates:
        refuse(
            f"Line {index + 1}: order line item {order_line_id} is on no fulfillment order that "
            "can be fulfilled (closed, on hold, scheduled or elsewhere).",
            field=f"lines[{index}].external_line_id",
            code="not_fulfillable",
        )
    left = sum(item["fulfillable"] for item in candidates)
    if left < quantity:
        refuse(
            f"Line {index + 1}: {quantity} shipped but Shopify has only {left} left to fulfil "
            f"for order line item {order_line_id}.",
            field=f"lines[{index}].quantity",
            code="exceeds_fulfillable",
        )
    parts, to_place = [], quantity
    for item in candidates:
        take = min(to_place, item["fulfillable"])
        if take <= 0:
            continue
        item["fulfillable"] -= take
        to_place -= take
        parts.append(
            ShipmentNoticeLine(
                line_number=line.line_number,
                external_line_id=line.external_line_id,
                quantity=take,
                external_item_id=line.external_item_id,
                channel_sku=line.channel_sku,
                fulfillment_order_id=item["fulfillment_order_id"],
                fulfillment_order_line_item_id=item["id"],
            )
        )
    return parts


def _fulfillable_items(fulfillment_orders, location_id) -> list[dict]:
    """Every fulfillable fulfillment-order line item: ids, location and what is left."""
    if isinstance(fulfillment_orders, dict):
        fulfillment_orders = fulfillment_orders.get("fulfillment_orders")
    if not isinstance(fulfillment_orders, list):
        refuse(
            "Expected the fulfillment_orders.json response.",
            field="fulfillment_orders",
            code="invalid",
        )
    items = []
    for i, order in enumerate(fulfillment_orders):
        where = f"fulfillment_orders[{i}]"
        if not isinstance(order, dict) or not _can_fulfil(order, location_id):
            continue
        for j, item in enumerate(order.get("line_items") or []):
            items.append(
                {
                    "id": _id(item.get("id"), f"{where}.line_items[{j}].id"),
                    "fulfillment_order_id": _id(order.get("id"), f"{where}.id"),
                    "line_item_id": str(item.get("line_item_id")),
                    "location_id": str(order.get("assigned_location_id")),
                    "fulfillable": _count(
                        item.get("fulfillable_quantity"),
                        f"{where}.line_items[{j}].fulfillable_quantity",
                    ),
                }
            )
    return items


def _can_fulfil(order: dict, location_id) -> bool:
    if str(order.get("status") or "").lower() not in FULFILLABLE_STATUSES:
        return False
    actions = order.get("supported_actions")
    if actions is not None and "create_fulfillment" not in actions:
        return False
    return location_id is None or str(order.get("assigned_location_id")) == str(location_id)


def _by_fulfillment_order(notice: ShipmentNotice) -> list[dict]:
    """Fulfillment orders in first-seen order, each once, its line items merged."""
    grouped: dict[int, dict[int, int]] = {}
    for index, line in enumerate(notice.lines):
        order_id = _line_id(line.fulfillment_order_id, index, "fulfillment_order_id")
        item_id = _line_id(
            line.fulfillment_order_line_item_id, index, "fulfillment_order_line_item_id"
        )
        items = grouped.setdefault(order_id, {})
        items[item_id] = items.get(item_id, 0) + line.quantity
    return [
        {
            "fulfillment_order_id": order_id,
            "fulfillment_order_line_items": [
                {"id": item_id, "quantity": quantity} for item_id, quantity in items.items()
            ],
        }
        for order_id, items in grouped.items()
    ]


def _line_id(value, index: int, name: str) -> int:
    if value is None or value == "":
        refuse(
            f"Line {index + 1}: Shopify fulfils fulfillment-order line items; look them up first "
            "(fulfillment_orders_lookup, then resolve_fulfillment_orders).",
            field=f"lines[{index}].{name}",
            code="fulfillment_order_lookup_required",
        )
    return _id(value, f"lines[{index}].{name}")


def _id(value, where: str) -> int:
    if isinstance(value, bool):
        refuse(f"{where} must be a Shopify id.", field=where)
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    refuse(f"{where} must be a Shopify id, not {value!r}.", field=where)


def _count(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        refuse(f"{where} must be a whole number, not {value!r}.", field=where)
    return value


def _company(notice: ShipmentNotice) -> str:
    company = channel_carrier(notice, TRACKING_COMPANIES) or carrier_display_name(notice)
    if not company:
        refuse("Shopify needs the carrier.", field="carrier_code", code="required")
    return company
