"""Shipped orders whose channel ids are the ones the return samples name.

Where an order sample exists for the return (Amazon 112-4829304-5566021, the eBay order of
item 386120456789) the order is read from it by the channel's own order adapter, so line
ids, seller SKUs and prices are what ingestion keeps. The samples do not all line up, and
the returns decide: the Shopify refund is for order 5841237402233 (line 14209990007,
SOAP-LAV-100), which no order sample holds; the eBay return names order 09-11877-43310
while ebay_order.json is 27-11842-90315 (same item); the Amazon MFN row refunded 27.05 is
order 113-1029384-7712093, known only from the settlement sample; the FBA rows' orders are
in no sample. Those are built here from the figures the samples give."""

from decimal import Decimal

from orders.adapters import parse_order
from orders.models import OrderLine
from tests.channel_samples import sample
from tests.factories.returns import ShippedLine, shipped_order


def shipped_channel_order(channel, location, external_id, lines, *, shipping=Decimal("0")):
    """lines: (sku, external_line_id, channel_sku, quantity, unit_price, tax, item_id)."""
    order = shipped_order(
        channel,
        [ShippedLine(sku, qty, unit, tax=tax) for sku, _, _, qty, unit, tax, _ in lines],
        location=location,
        external_id=external_id,
        order_number=external_id,
        shipping_total=shipping,
    )
    for order_line, (_, line_id, channel_sku, *_, item_id) in zip(
        order.lines.order_by("line_number"), lines, strict=True
    ):
        OrderLine.objects.filter(pk=order_line.pk).update(
            external_line_id=line_id, channel_sku=channel_sku, external_item_id=item_id
        )
    return order


def order_from_sample(channel, location, kind, name, skus, *, external_id=None):
    """The order sample read by the channel's adapter, shipped; `skus` maps its seller
    SKUs (or item ids) to ours."""
    normalized = parse_order(kind, sample(name, "orders"))
    lines = [
        (
            skus[line.channel_sku or line.external_item_id],
            line.external_line_id,
            line.channel_sku,
            line.quantity,
            line.unit_price,
            line.tax,
            line.external_item_id,
        )
        for line in normalized.lines
    ]
    return shipped_channel_order(
        channel,
        location,
        external_id or normalized.external_id,
        lines,
        shipping=normalized.shipping_total,
    )


def shopify_refunded_order(channel, location, soap, tee):
    """Order 5841237402233: the refunded soap (8.00 + 0.56 tax) beside a tee."""
    return shipped_channel_order(
        channel,
        location,
        "5841237402233",
        [
            (soap, "14209990007", "SOAP-LAV-100", 1, Decimal("8.00"), Decimal("0.56"), ""),
            (tee, "14209990008", "TEE-BLK-M", 1, Decimal("24.99"), Decimal("1.75"), ""),
        ],
    )


def amazon_refunded_order(channel, location, tee):
    """113-1029384-7712093 (settlement sample): one tee, 24.99 + 2.06 tax = 27.05."""
    return shipped_channel_order(
        channel,
        location,
        "113-1029384-7712093",
        [(tee, "50099871234017", "AMZ-TEE-BLK-M", 1, Decimal("24.99"), Decimal("2.06"), "")],
    )


def amazon_sample_order(channel, location, tee, soap):
    return order_from_sample(
        channel,
        location,
        "amazon",
        "amazon_order.json",
        {"AMZ-TEE-BLK-M": tee, "AMZ-SOAP-LAV": soap},
    )


def ebay_returned_order(channel, location, headphones):
    return order_from_sample(
        channel,
        location,
        "ebay",
        "ebay_order.json",
        {"EB-HDPH-BT200": headphones},
        external_id="09-11877-43310",
    )
