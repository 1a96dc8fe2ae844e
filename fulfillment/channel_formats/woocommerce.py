"""WooCommerce: tracking through the Shipment Tracking extension, then the order completed.

`build_tracking_upload` returns the tracking request
(`POST /wp-json/wc-shipment-tracking/v3/orders/{order_id}/shipment-trackings`) with, when
this parcel completes the order, the status update (`PUT /wp-json/wc/v3/orders/{id}`,
`{"status": "completed"}`) as its `follow_up`: the completed-order e-mail includes the
tracking only if the tracking was added first, so the connector sends them in that order
(`request.sequence()`), the second only after the first succeeded. A partial shipment adds
tracking and leaves the order open.

Tracking body: with a tracking URL we send `custom_tracking_provider` (the carrier's name)
and `custom_tracking_link`, which always work; without one, `tracking_provider` must be a
provider name the store knows (`GET /wp-json/wc-shipment-tracking/v3/shipment-trackings/providers`),
for which the extension builds the link itself. `date_shipped` is a date only: the ship
day in the store's time zone (`ShipmentNotice.channel_timezone`), not in UTC.

Without the extension, `build_order_note` makes the fallback: a customer note
(`POST /wp-json/wc/v3/orders/{id}/notes`, `customer_note: true` e-mails the customer).
"""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fulfillment.channel_formats.base import (
    OutboundRequest,
    ShipmentNotice,
    carrier_display_name,
    checked,
    refuse,
    shipment_key,
    tracking_number,
)

NOTE_TEMPLATE = "Your parcel is on its way: {carrier} {tracking_number}"


def build_tracking_upload(notice: ShipmentNotice) -> OutboundRequest:
    checked(notice, "WooCommerce")
    order_id = notice.order_external_id
    follow_up = ()
    if notice.completes_order:
        follow_up = (
            OutboundRequest(
                method="PUT",
                path=f"/wp-json/wc/v3/orders/{order_id}",
                body={"status": "completed"},
                topic="tracking.woocommerce.complete",
                dedupe_key=f"tracking.woocommerce.complete:{order_id}:{shipment_key(notice)}",
            ),
        )
    return OutboundRequest(
        method="POST",
        path=f"/wp-json/wc-shipment-tracking/v3/orders/{order_id}/shipment-trackings",
        body=_tracking_body(notice),
        topic="tracking.woocommerce",
        dedupe_key=f"tracking.woocommerce:{order_id}:{shipment_key(notice)}",
        follow_up=follow_up,
    )


def build_order_note(notice: ShipmentNotice, *, template: str = NOTE_TEMPLATE) -> OutboundRequest:
    """The fallback when the store has no Shipment Tracking extension. `template` may use
    {carrier}, {tracking_number}, {tracking_url} and {order_number} (write it in the
    store's language)."""
    checked(notice, "WooCommerce")
    note = template.format(
        carrier=_provider_name(notice),
        tracking_number=tracking_number(notice),
        tracking_url=notice.tracking_url,
        order_number=notice.order_number or notice.order_external_id,
    ).strip()
    return OutboundRequest(
        method="POST",
        path=f"/wp-json/wc/v3/orders/{notice.order_external_id}/notes",
        body={"note": note, "customer_note": bool(notice.notify_customer)},
        topic="tracking.woocommerce.note",
        dedupe_key=f"tracking.woocommerce.note:{notice.order_external_id}:{shipment_key(notice)}",
    )


def _tracking_body(notice: ShipmentNotice) -> dict:
    provider = _provider_name(notice)
    if notice.tracking_url:
        body = {"custom_tracking_provider": provider, "custom_tracking_link": notice.tracking_url}
    else:
        body = {"tracking_provider": provider}
    body["tracking_number"] = tracking_number(notice)
    body["date_shipped"] = _store_date(notice)
    return body


def _provider_name(notice: ShipmentNotice) -> str:
    name = carrier_display_name(notice)
    if not name:
        refuse("WooCommerce needs the carrier's name.", field="carrier_name", code="required")
    return name


def _store_date(notice: ShipmentNotice) -> str:
    try:
        zone = ZoneInfo(notice.channel_timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        refuse(
            f"Unknown time zone {notice.channel_timezone!r}.",
            field="channel_timezone",
            code="invalid",
        )
    return notice.shipped_at.astimezone(zone).date().isoformat()
