"""What a confirmed shipment tells a sales channel, and the request that carries it.

`ShipmentNotice` is the channel-neutral fact ("these order lines left in this parcel, with
this tracking number"), built by the shipment-confirmation service from its models. Each
channel module turns it into an `OutboundRequest` in the channel's own format. Everything
here is pure: no database, no network, no clock.

Every formatter refuses a notice the channel would refuse, with `ValidationFailed` naming
the notice field (`tracking_number`, `lines[1].external_line_id`, `extra.marketplace_id`):
an upload that cannot succeed must fail at confirmation, not after N delivery retries.
"""

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta

from erp.errors import ValidationFailed

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, kw_only=True)
class ShipmentNoticeLine:
    line_number: int  # OrderLine.line_number (our position on the order)
    external_line_id: str  # OrderLine.external_line_id: Shopify line_item id, Amazon
    # OrderItemId, eBay lineItemId, Walmart lineNumber, WooCommerce line item id
    quantity: int  # units of this line in this parcel
    external_item_id: str = ""  # ASIN, eBay legacyItemId[:variation], Shopify variant id, …
    channel_sku: str = ""  # the seller SKU as the channel knows it
    # Shopify only: the fulfillment order (line item) this quantity is fulfilled against,
    # from GET …/orders/{id}/fulfillment_orders.json (see shopify.assign_fulfillment_order_lines).
    fulfillment_order_id: int | None = None
    fulfillment_order_line_item_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class ShipmentNotice:
    """One parcel (one tracking number) of one order, as the channels must learn it."""

    channel_kind: str  # erp Channel.Kind: shopify, amazon, ebay, walmart, woocommerce, b2b, manual
    order_external_id: str  # Order.external_id: the channel's order id (Walmart purchaseOrderId)
    shipment_id: int  # Shipment.pk: stable, numeric (Amazon packageReferenceId must be numeric)
    carrier_code: str  # our Carrier.code ("UPS", "USPS", "DHL-PAKET")
    tracking_number: str
    shipped_at: datetime  # timezone-aware
    lines: tuple[ShipmentNoticeLine, ...]
    order_number: str = ""  # Order.order_number, human-facing ("#1042")
    # Our own order reference, ≤ 30 characters; Walmart requires it (sellerOrderId) and
    # prints it on return labels.
    seller_order_reference: str = ""
    extra: dict = field(default_factory=dict)  # Order.extra: channel ids kept at ingestion
    shipment_reference: str = ""  # Shipment.number ("SH0000123")
    carrier_name: str = ""  # Carrier.name ("UPS", "DHL Paket")
    service_code: str = ""  # CarrierService.code; for Walmart its methodCode ("Value")
    service_name: str = ""  # CarrierService.name ("UPS Ground")
    tracking_url: str = ""
    ship_from_location_code: str = ""  # our Location.code
    notify_customer: bool = True  # ChannelFulfillmentPolicy.notify_customer
    completes_order: bool = True  # nothing of the order is left to ship after this parcel
    channel_timezone: str = "UTC"  # IANA zone for date-only fields (WooCommerce date_shipped)

    def __post_init__(self):
        object.__setattr__(self, "lines", tuple(self.lines))
        object.__setattr__(self, "extra", dict(self.extra or {}))

    def as_dict(self) -> dict:
        """JSON-safe form, for an outbox row that formats later (Shopify's lookup)."""
        data = asdict(self)
        data["shipped_at"] = self.shipped_at.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "ShipmentNotice":
        values = dict(data)
        values["shipped_at"] = datetime.fromisoformat(values["shipped_at"])
        values["lines"] = tuple(ShipmentNoticeLine(**line) for line in values["lines"])
        return cls(**values)


@dataclass(frozen=True, kw_only=True)
class Prerequisite:
    """A call the connector makes first: a lookup, or a state the channel insists on."""

    method: str
    path: str
    purpose: str
    body: dict | None = None


@dataclass(frozen=True, kw_only=True)
class OutboundRequest:
    """One HTTP request to a channel. `path` is relative to the channel's API base (its
    tracking endpoint); Shopify paths keep `{version}` for the connector's pinned Admin API
    version. Send `prerequisite` first when set, then this, then each of `follow_up` in
    order, each only after the previous one succeeded (`sequence()` lists them)."""

    method: str
    path: str
    body: dict
    topic: str  # "tracking.shopify", "tracking.woocommerce.complete", …
    dedupe_key: str  # unique per shipment and step: the outbox dedupe key
    prerequisite: Prerequisite | None = None
    follow_up: tuple["OutboundRequest", ...] = ()

    def sequence(self) -> tuple["OutboundRequest", ...]:
        return (self, *(step for request in self.follow_up for step in request.sequence()))

    def as_dict(self) -> dict:
        return asdict(self)


def refuse(message: str, *, field: str, code: str = "invalid"):
    raise ValidationFailed(message, field=field, code=code)


def shipment_key(notice: ShipmentNotice) -> str:
    return notice.shipment_reference or str(notice.shipment_id)


def checked(notice: ShipmentNotice, channel: str) -> ShipmentNotice:
    """What every channel needs: an order id, a tracking number and its carrier, an aware
    ship time, and lines with whole, positive quantities."""
    if not str(notice.order_external_id or "").strip():
        refuse(f"{channel} needs the order's id.", field="order_external_id", code="required")
    if not tracking_number(notice):
        refuse(f"{channel} needs a tracking number.", field="tracking_number", code="required")
    if not carrier_display_name(notice):
        refuse(f"{channel} needs the carrier.", field="carrier_code", code="required")
    if not isinstance(notice.shipped_at, datetime):
        refuse("The ship time is required.", field="shipped_at", code="required")
    if notice.shipped_at.utcoffset() is None:
        refuse(
            "The ship time needs a time zone: a naive time would be read as the channel's.",
            field="shipped_at",
            code="naive_datetime",
        )
    if not notice.lines:
        refuse("A shipment notice needs at least one line.", field="lines", code="required")
    for index, line in enumerate(notice.lines):
        quantity = line.quantity
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            refuse(
                f"Line {index + 1}: the shipped quantity must be a whole number of at least 1, "
                f"not {quantity!r}.",
                field=f"lines[{index}].quantity",
                code="invalid_quantity",
            )
    return notice


def tracking_number(notice: ShipmentNotice) -> str:
    return str(notice.tracking_number or "").strip()


def quantities_by(
    notice: ShipmentNotice, attribute: str, *, channel: str, label: str
) -> list[tuple[str, int]]:
    """(channel line id, quantity) in first-seen order, lines naming one id merged (a line
    picked from two lots arrives as two notice lines). `label` names the channel's id."""
    merged: dict[str, int] = {}
    for index, line in enumerate(notice.lines):
        value = str(getattr(line, attribute) or "").strip()
        if not value:
            refuse(
                f"Line {index + 1}: {channel} needs the line's {label} ({attribute}).",
                field=f"lines[{index}].{attribute}",
                code="required",
            )
        merged[value] = merged.get(value, 0) + line.quantity
    return list(merged.items())


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def epoch_milliseconds(moment: datetime) -> int:
    # Integer arithmetic on timedeltas: no float rounding of the milliseconds.
    return (moment - EPOCH) // timedelta(milliseconds=1)


def carrier_key(value: str) -> str:
    """Carrier spellings compared by letters and digits only: FedEx, FEDEX, "Fed-Ex"."""
    return re.sub(r"[^A-Z0-9]", "", str(value or "").upper())


def carrier_table(names: Iterable[str], aliases: dict[str, str] | None = None) -> dict[str, str]:
    """key → the channel's exact spelling, from its list and our aliases (alias → name)."""
    table = {carrier_key(name): name for name in names}
    table.update({carrier_key(alias): name for alias, name in (aliases or {}).items()})
    return table


def channel_carrier(notice: ShipmentNotice, table: dict[str, str]) -> str:
    """The channel's spelling of our carrier, by code then by name; "" when not listed."""
    for candidate in (notice.carrier_code, notice.carrier_name):
        name = table.get(carrier_key(candidate))
        if candidate and name:
            return name
    return ""


def carrier_display_name(notice: ShipmentNotice) -> str:
    return str(notice.carrier_name or notice.carrier_code or "").strip()


def with_lines(notice: ShipmentNotice, lines: Iterable[ShipmentNoticeLine]) -> ShipmentNotice:
    return replace(notice, lines=tuple(lines))
