"""The normalized order every channel adapter produces.

Adapters are pure functions `parse(payload: dict) -> NormalizedOrder`: no database, no
network, no clock. Money is Decimal parsed from the payload's text (never through float),
times are timezone-aware UTC, quantities are int. Anything missing or malformed raises
`AdapterError` naming the field (a JSON-path-like string such as `line_items[2].quantity`).
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


class AdapterError(ValueError):
    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message, self.field, self.code = message, field, code


class PaymentStatus:
    CAPTURED = "captured"  # money taken
    AUTHORIZED = "authorized"  # may be captured (Amazon Unshipped, Walmart before ship)
    PENDING = "pending"  # not yet paid (bank transfer, Amazon Pending)
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    VOIDED = "voided"


class ChannelStatus:
    OPEN = "open"
    CANCELLED = "cancelled"
    SHIPPED = "shipped"  # fulfilled on the channel already


class ServiceLevel:
    STANDARD = "standard"
    EXPEDITED = "expedited"
    NEXT_DAY = "next_day"
    SAME_DAY = "same_day"
    ECONOMY = "economy"


@dataclass(frozen=True)
class NormalizedAddress:
    name: str = ""
    company: str = ""
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""  # state / province code or name
    postal_code: str = ""
    country: str = ""  # ISO 3166-1 alpha-2 ("US"; Walmart's "USA" becomes "US")
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class NormalizedLine:
    external_line_id: str  # the channel's line id (Shopify line_item id, Amazon OrderItemId, …)
    channel_sku: str  # the seller SKU as the channel knows it; "" when the channel sent none
    quantity: int
    # Money is None while the channel withholds prices (Amazon Pending): unknown, not 0.
    unit_price: Decimal | None  # per unit, before discounts, in the order currency
    tax: Decimal | None = Decimal("0")  # line total tax
    discount: Decimal | None = Decimal("0")  # line total discount (positive)
    title: str = ""
    external_item_id: str = ""  # ASIN, eBay legacyItemId[+variation], Shopify variant id, …
    # Units the channel has since removed from the line (Shopify edits/refunds via
    # current_quantity, Walmart lines partly Cancelled); `quantity` keeps what was ordered.
    removed_quantity: int = 0
    # What the buyer saw, when the buyer paid in another currency than the order's
    # (Shopify presentment money); None when the buyer paid in the order currency.
    presentment_unit_price: Decimal | None = None
    presentment_tax: Decimal | None = None
    presentment_discount: Decimal | None = None


@dataclass(frozen=True)
class PresentmentTotals:
    """The order's totals in the currency the buyer paid in (what refunds and mails use);
    the order's own amounts stay in the shop's currency (what settles and posts)."""

    currency: str
    shipping_total: Decimal
    tax_total: Decimal
    discount_total: Decimal
    total: Decimal


@dataclass(frozen=True)
class NormalizedOrder:
    channel_kind: str
    external_id: str
    placed_at: datetime
    currency: str
    lines: tuple[NormalizedLine, ...]
    updated_at: datetime | None = None
    ship_by: datetime | None = None
    service_level: str = ServiceLevel.STANDARD
    payment_status: str = PaymentStatus.CAPTURED
    channel_status: str = ChannelStatus.OPEN
    risk_score: Decimal | None = None  # 0–100, higher is riskier; None when the channel gives none
    ship_to: NormalizedAddress | None = None
    customer_email: str = ""
    # Money is None while the channel withholds prices (Amazon Pending): unknown, not 0.
    shipping_total: Decimal | None = Decimal("0")
    tax_total: Decimal | None = Decimal("0")
    discount_total: Decimal | None = Decimal("0")
    gift_wrap_total: Decimal | None = Decimal("0")  # Amazon gift wrap, outside item prices
    total: Decimal | None = Decimal("0")  # what the buyer pays
    taxes_included: bool = False
    tax_data_complete: bool = True  # False when the channel withheld tax data (e.g. Amazon Pending)
    # When the channel cancelled the order, as the channel says (None: not cancelled, or
    # the channel does not say when).
    cancelled_at: datetime | None = None
    # The buyer's currency and totals when they differ from the order (shop) currency.
    presentment: "PresentmentTotals | None" = None
    order_number: str = ""  # human-facing number (Shopify "#1042"), may equal external_id
    extra: dict = field(
        default_factory=dict
    )  # channel ids needed outbound (fulfillment order ids, …)
