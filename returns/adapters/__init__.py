"""Marketplace-initiated returns: each channel's own return in, one `ChannelReturn` out.

`parse_return(kind, payload)` reads a JSON return (Shopify `refunds/create` webhook, eBay
Post-Order return) by channel kind; `parse_report(kind, content)` reads a returns report
(Amazon's seller-fulfilled or FBA customer returns flat file). Pure functions, one module
per channel, like orders/adapters/; returns.services.channel_returns ties what they read
to orders, RMAs and refunds.
"""

from collections.abc import Callable

from returns.adapters import amazon, ebay, shopify
from returns.adapters.base import (
    AdapterError,
    ChannelRefund,
    ChannelReturn,
    ParsedReport,
    ReportEntry,
    ReturnedLine,
)

RETURN_PARSERS: dict[str, Callable[[dict], ChannelReturn]] = {
    "shopify": shopify.parse_return,
    "ebay": ebay.parse_return,
}
# The webhook topic whose body each JSON parser reads, where the channel names one.
WEBHOOK_TOPICS = {"shopify": shopify.TOPIC}
REPORT_PARSERS: dict[str, Callable[[bytes | str], ParsedReport]] = {
    "amazon": amazon.parse_report,
}


def takes_reports(kind: str) -> bool:
    return kind in REPORT_PARSERS


def parse_return(kind: str, payload) -> ChannelReturn:
    parser = RETURN_PARSERS.get(kind)
    if parser is None:
        raise AdapterError(_unknown(kind), field="channel", code="unsupported_channel")
    return parser(payload)


def parse_report(kind: str, content: bytes | str) -> ParsedReport:
    parser = REPORT_PARSERS.get(kind)
    if parser is None:
        raise AdapterError(_unknown(kind), field="channel", code="unsupported_channel")
    return parser(content)


def _unknown(kind: str) -> str:
    return (
        f"No return format for {kind} channels; returns are taken from "
        f"{', '.join(sorted(RETURN_PARSERS))} (JSON) and {', '.join(sorted(REPORT_PARSERS))} "
        "(returns reports)."
    )


__all__ = [
    "AdapterError",
    "ChannelRefund",
    "ChannelReturn",
    "ParsedReport",
    "ReportEntry",
    "ReturnedLine",
    "WEBHOOK_TOPICS",
    "parse_report",
    "parse_return",
    "takes_reports",
]
