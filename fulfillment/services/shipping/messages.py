"""What a shipment tells the outside: the channel's tracking upload (in its format), the
customer's e-mail, and the domain event finance posts from."""

from collections import defaultdict
from dataclasses import asdict

from django.conf import settings

from fulfillment.channel_formats import (
    ShipmentNotice,
    ShipmentNoticeLine,
    build_tracking_upload,
    lookup_before_formatting,
)
from fulfillment.channel_formats.base import checked
from fulfillment.models import (
    Shipment,
)
from orders.models import Order

SHIPMENT_CONFIRMED = "fulfillment.shipment_confirmed"
NOTIFICATION_TOPIC = "customer.shipment_notification"
# Our service levels as Walmart ship methods (the reverse of the Walmart order adapter's).
WALMART_METHODS = {
    "economy": "Value",
    "expedited": "Express",
    "next_day": "OneDay",
    "priority": "OneDay",
    "same_day": "OneDay",
}


def notice_for(
    order, shipment, portions, now, completes, policy, notify_ourselves
) -> ShipmentNotice:
    units = defaultdict(int)
    for portion in portions:
        units[portion.line.pk] += portion.quantity
    by_pk = {portion.line.pk: portion.line for portion in portions}
    service = shipment.service
    return ShipmentNotice(
        channel_kind=order.channel.kind,
        order_external_id=order.external_id,
        shipment_id=shipment.pk,
        carrier_code=shipment.carrier.code,
        tracking_number=shipment.tracking_number,
        shipped_at=now,
        lines=[
            ShipmentNoticeLine(
                line_number=by_pk[pk].line_number,
                external_line_id=by_pk[pk].external_line_id,
                quantity=quantity,
                external_item_id=by_pk[pk].external_item_id,
                channel_sku=by_pk[pk].channel_sku,
            )
            for pk, quantity in sorted(units.items(), key=lambda row: by_pk[row[0]].line_number)
        ],
        order_number=order.order_number,
        seller_order_reference=f"ORD-{order.pk}",
        extra=order.extra,
        shipment_reference=shipment.number,
        carrier_name=shipment.carrier.name,
        service_code=_service_code(order, service),
        service_name=service.name if service else "",
        tracking_url=shipment.carrier.tracking_url(shipment.tracking_number),
        ship_from_location_code=shipment.location.code,
        # When we e-mail the customer ourselves, the channel must not e-mail them too.
        notify_customer=bool(policy and policy.notify_customer and not notify_ourselves),
        completes_order=completes,
        channel_timezone=settings.TIME_ZONE,
    )


def _service_code(order: Order, service) -> str:
    # Walmart is told the ship method the buyer chose (its methodCode), not our carrier
    # service; the order keeps it as its service level.
    if order.channel.kind == "walmart":
        return WALMART_METHODS.get(order.service_level, "Standard")
    return service.code if service else ""


def tracking_message(order, notice: ShipmentNotice, shipment) -> dict:
    """The outbox message in the channel's format, built before anything is written: an
    upload the channel would refuse fails the confirmation, not N deliveries later.
    Shopify names its own line items, which only a lookup at delivery can give: the
    message then carries the notice and the lookup to run first."""
    kind = order.channel.kind
    lookup = lookup_before_formatting(kind, notice)
    if lookup is None:
        request = build_tracking_upload(kind, notice)
        return {
            "topic": request.topic,
            "payload": {"format": kind, "request": request.as_dict()},
            "dedupe_key": request.dedupe_key,
        }
    checked(notice, kind)
    return {
        "topic": f"tracking.{kind}",
        "payload": {"format": kind, "lookup": asdict(lookup), "notice": notice.as_dict()},
        "dedupe_key": f"tracking.{kind}:{order.external_id}:{shipment.number}",
    }


def notification(order: Order, notice: ShipmentNotice, lines) -> dict:
    titles = {line.external_line_id: line.title for line in lines}
    return {
        "to": order.customer_email,
        "name": order.ship_name,
        "channel": order.channel.code,
        "order": order.order_number or order.external_id,
        "shipment": notice.shipment_reference,
        "carrier": notice.carrier_name,
        "service": notice.service_name,
        "tracking_number": notice.tracking_number,
        "tracking_url": notice.tracking_url,
        "shipped_at": notice.shipped_at.isoformat(),
        "completes_order": notice.completes_order,
        "ship_to": order.ship_to_lines,
        "lines": [
            {
                "title": titles.get(line.external_line_id, ""),
                "sku": line.channel_sku,
                "quantity": line.quantity,
            }
            for line in notice.lines
        ],
    }


def event_payload(order: Order, shipment: Shipment, portions: list) -> dict:
    return {
        "shipment_id": shipment.pk,
        "shipment": shipment.number,
        "source": shipment.source,
        "order_id": order.pk,
        "channel_id": order.channel_id,
        "location_id": shipment.location_id,
        "carrier": shipment.carrier.code,
        "cost": str(shipment.cost) if shipment.cost is not None else None,
        "currency": order.currency,
        "lines": [
            {
                "line_id": p.line.pk,
                "sku_id": p.allocation.sku_id,
                "quantity": p.quantity,
                "lot_id": p.lot_id,
                "unit_price": str(p.line.unit_price),
                "dropship": p.allocation.dropship,
            }
            for p in portions
        ],
    }
