"""The normalized channel return every return adapter produces.

Adapters are pure functions: a channel's own return (Shopify refunds/create webhook, an
Amazon returns report row, an eBay Post-Order return) in, a `ChannelReturn` out. No
database, no network, no clock. Money is Decimal read from the payload's text (never
through float), times are aware UTC, quantities are int. Anything missing or malformed
raises `AdapterError` naming the field as the channel spells it (`refund_line_items[0].
quantity`, `rows[3].Merchant SKU`), and every normalized value keeps the name of the field
it came from in `fields`, so a refusal further on (unknown SKU, a refund above what was
paid) names the row and column a person can find.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from orders.adapters.base import AdapterError


@dataclass(frozen=True)
class ReturnedLine:
    """Units of one order line coming back. At least one way to find the line is given:
    the channel's line id (Shopify line_item_id), the seller SKU (Amazon), or the
    channel's item id (eBay legacy itemId, matched with or without its variation)."""

    quantity: int
    reason: str = ""  # the channel's own reason code or text, kept as data
    external_line_id: str = ""
    channel_sku: str = ""
    external_item_id: str = ""
    note: str = ""
    fields: dict = field(default_factory=dict)  # "line", "quantity" → the source field


@dataclass(frozen=True)
class ChannelRefund:
    """Money the channel already gave back to the buyer for this return."""

    reference: str  # the channel's refund id (or the return's id where it has none)
    amount: Decimal  # positive: what the buyer got back
    currency: str
    refunded_at: datetime | None = None
    fields: dict = field(default_factory=dict)  # "amount", "currency" → the source field


@dataclass(frozen=True)
class ChannelReturn:
    channel_kind: str  # erp Channel.Kind: shopify, amazon, ebay
    source_format: str  # shopify_refund, amazon_mfn_returns, amazon_fba_returns, ebay_return
    return_id: str  # the channel's return id: kept as the RMA's external reference
    order_external_id: str  # the channel's order id, as ingestion keeps it (Order.external_id)
    lines: tuple[ReturnedLine, ...]
    requested_at: datetime | None = None
    label_reference: str = ""  # return tracking number
    # The channel's own returns centre took the units (Amazon FBA fulfilment centre id):
    # they do not come to our dock.
    returns_centre: str = ""
    refund: ChannelRefund | None = None
    status: str = ""  # the channel's status of the return, as data
    note: str = ""
    fields: dict = field(default_factory=dict)  # "order", "return_id" → the source field

    def __post_init__(self):
        object.__setattr__(self, "lines", tuple(self.lines))


@dataclass(frozen=True)
class ReportEntry:
    """One return read from a report: the file lines it came from (the header is line 1;
    an Amazon MFN return of two items is two lines with one Amazon RMA ID), and either the
    parsed return or why it cannot be read. A refused entry names its fields by line."""

    line_numbers: tuple[int, ...]
    parsed: ChannelReturn | None = None
    error: AdapterError | None = None


@dataclass(frozen=True)
class ParsedReport:
    source_format: str
    entries: tuple[ReportEntry, ...]

    @property
    def row_count(self) -> int:
        return sum(len(entry.line_numbers) for entry in self.entries)


__all__ = [
    "AdapterError",
    "ChannelRefund",
    "ChannelReturn",
    "ParsedReport",
    "ReportEntry",
    "ReturnedLine",
]
