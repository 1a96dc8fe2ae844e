"""Orders customer service keys in: a phone order, a B2B order, or a no-charge
replacement for a damaged delivery.

They are not a second way to make an order: the service writes the project's own
normalized payload and hands it to ingestion (`ingest_order`), so validation, holds,
routing and reservations are the channel orders' own. What is particular to a keyed-in
order is checked here first, field by field, so a bad line is named and nothing is
written: its lines must be SKUs the (manual or B2B) channel lists, whole quantities,
non-negative prices; a replacement names its RMA and charges nothing.
"""

import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import Q
from django.utils import timezone

from erp.errors import FieldError, ValidationFailed
from erp.models import Channel, ChannelListing
from erp.roles import require_permission
from orders.adapters.base import PaymentStatus
from orders.models import OrderOrigin
from orders.services import channel_config
from orders.services.ingestion import IngestResult, ingest_order

KINDS = (OrderOrigin.PHONE, OrderOrigin.B2B, OrderOrigin.REPLACEMENT)
CHANNEL_KINDS = (Channel.Kind.MANUAL, Channel.Kind.B2B)
PAYMENT_STATUSES = (PaymentStatus.CAPTURED, PaymentStatus.AUTHORIZED, PaymentStatus.PENDING)
MAX_LINES = 50
MAX_QUANTITY = 10_000
MAX_PRICE = Decimal("1000000")
PREFIX = {OrderOrigin.PHONE: "PH", OrderOrigin.B2B: "B2B", OrderOrigin.REPLACEMENT: "RPL"}


@dataclass(frozen=True)
class ManualLine:
    sku: str
    quantity: object
    unit_price: object = None


def new_reference(kind: str) -> str:
    """A fresh order reference; the form carries it, so submitting twice is refused as a
    duplicate rather than making two orders."""
    stamp = timezone.now().strftime("%y%m%d")
    return f"{PREFIX.get(kind, 'M')}-{stamp}-{secrets.token_hex(3).upper()}"


def manual_channels():
    return Channel.objects.filter(active=True, kind__in=CHANNEL_KINDS).order_by("code")


def create_manual_order(
    *,
    channel_code: str,
    kind: str,
    lines: list[ManualLine],
    ship_to: dict,
    actor,
    reference: str = "",
    customer_email: str = "",
    payment_status: str = "",
    replaces_rma: str = "",
    note: str = "",
) -> IngestResult:
    """Create one keyed-in order through ingestion; refused as a whole, naming each bad
    field (`lines[1].quantity`), with nothing written."""
    require_permission(actor, "orders.add_order", action="create orders")
    errors: list[FieldError] = []
    channel = _channel(channel_code, errors)
    if kind not in KINDS:
        errors.append(FieldError("kind", "invalid_choice", "Choose phone, B2B or replacement."))
    replaces_rma = (replaces_rma or "").strip()
    if kind == OrderOrigin.REPLACEMENT and not replaces_rma:
        errors.append(
            FieldError("replaces_rma", "required", "A replacement names the RMA it replaces.")
        )
    if kind != OrderOrigin.REPLACEMENT and replaces_rma:
        errors.append(FieldError("replaces_rma", "invalid", "Only a replacement names an RMA."))
    payment = _payment(kind, payment_status, errors)
    normalized_lines = _lines(channel, kind, lines, errors)
    reference = (reference or "").strip() or new_reference(kind)
    if len(reference) > 64:
        errors.append(FieldError("reference", "max_length", "At most 64 characters."))
    if errors:
        raise ValidationFailed.from_errors(errors)
    payload = {
        "external_id": reference,
        "order_number": reference,
        "placed_at": timezone.now().isoformat(),
        "currency": channel.currency,
        "payment_status": payment,
        "customer_email": (customer_email or "").strip(),
        "ship_to": {name: (value or "").strip() for name, value in ship_to.items()},
        "lines": normalized_lines,
        "extra": {"kind": kind, "note": (note or "").strip()[:500]},
    }
    return ingest_order(
        channel=channel,
        payload=payload,
        actor=actor,
        only_new=True,
        origin={"origin": kind, "entered_by": actor, "replaces_rma": replaces_rma[:64]},
    )


def _channel(code: str, errors: list[FieldError]) -> Channel | None:
    channel = channel_config.active_channel(code or "")
    if channel is None or channel.kind not in CHANNEL_KINDS:
        errors.append(
            FieldError(
                "channel",
                "invalid_choice",
                "Choose an active manual or B2B channel (channel orders come from the channel).",
            )
        )
        return None
    return channel


def _payment(kind: str, status: str, errors: list[FieldError]) -> str:
    if kind == OrderOrigin.REPLACEMENT:
        return PaymentStatus.CAPTURED  # nothing to collect: the customer paid already
    status = status or (
        PaymentStatus.AUTHORIZED if kind == OrderOrigin.B2B else PaymentStatus.CAPTURED
    )
    if status not in PAYMENT_STATUSES:
        errors.append(
            FieldError("payment_status", "invalid_choice", "Captured, authorized or pending.")
        )
    return status


def _lines(channel, kind: str, lines: list[ManualLine], errors: list[FieldError]) -> list[dict]:
    if not lines:
        errors.append(FieldError("lines", "required", "Add at least one line."))
        return []
    if len(lines) > MAX_LINES:
        errors.append(FieldError("lines", "too_many", f"At most {MAX_LINES} lines."))
        return []
    listed = _listed(channel, [(line.sku or "").strip() for line in lines])
    result = []
    for index, line in enumerate(lines):
        where = f"lines[{index}]"
        sku = (line.sku or "").strip()
        channel_sku = listed.get(sku)
        if not sku:
            errors.append(FieldError(f"{where}.sku", "required", "Enter a SKU."))
        elif channel is not None and channel_sku is None:
            errors.append(
                FieldError(
                    f"{where}.sku", "not_listed", f"{sku} is not an active SKU on {channel.code}."
                )
            )
        quantity = _quantity(line.quantity, f"{where}.quantity", errors)
        price = (
            Decimal("0")
            if kind == OrderOrigin.REPLACEMENT
            else _price(line.unit_price, f"{where}.unit_price", errors)
        )
        result.append({"sku": channel_sku or sku, "quantity": quantity, "unit_price": str(price)})
    return result


def _listed(channel, values: list[str]) -> dict[str, str]:
    """Typed value → the channel's SKU for it: the channel's own SKU, or our SKU code."""
    if channel is None:
        return {}
    wanted = [value for value in values if value]
    listings = ChannelListing.objects.filter(
        Q(channel_sku__in=wanted) | Q(sku__code__in=wanted),
        channel=channel,
        active=True,
        sku__active=True,
    ).values_list("channel_sku", "sku__code")
    found = {}
    for channel_sku, sku_code in listings:
        found.setdefault(sku_code, channel_sku)
        found[channel_sku] = channel_sku
    return found


def _quantity(value, field: str, errors: list[FieldError]) -> int:
    try:
        quantity = int(str(value).strip())
    except (TypeError, ValueError):
        quantity = None
    if quantity is None or not 1 <= quantity <= MAX_QUANTITY:
        errors.append(
            FieldError(field, "invalid", f"A whole number of units from 1 to {MAX_QUANTITY}.")
        )
        return 1
    return quantity


def _price(value, field: str, errors: list[FieldError]) -> Decimal:
    try:
        price = Decimal(str(value).strip())
    except (InvalidOperation, TypeError, ValueError):
        price = None
    if price is None or not price.is_finite() or price < 0 or price >= MAX_PRICE:
        errors.append(FieldError(field, "invalid", "A price of 0 or more, e.g. 24.99."))
        return Decimal("0")
    if price != price.quantize(Decimal("0.01")):
        errors.append(FieldError(field, "invalid", "At most two decimals."))
    return price
