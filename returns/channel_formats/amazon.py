"""Amazon (seller-fulfilled orders): the order adjustments feed, through the Feeds API.

SP-API has no refund operation for MFN orders; Amazon documents refunds as the Flat File
Order Adjustments feed (feed type `POST_FLAT_FILE_PAYMENT_ADJUSTMENT_DATA`, "makes financial
adjustment to customers' orders, for example a refund"; SP-API Order Feed Type Values), with
the columns below. Seller Central's Adjustments file help defines them:
- `order-id` (3-7-7 with its hyphens) and `order-item-id` (the OrderItemId kept as
  external_line_id), one row per refunded item;
- `adjustment-reason-code`: CustomerReturn for returned goods (DifferentItem when we sent
  the wrong item, GeneralAdjustment when it never arrived), or one of Amazon's values given
  as the reason code (NoInventory, CustomerReturn, GeneralAdjustment, CouldNotShip,
  DifferentItem);
- amounts are for the whole quantity (not per unit), **signed: positive is refunded to the
  buyer**, negative charged (a restocking fee), with exactly two places and no thousands
  separator whatever the marketplace's locale: `item-price-adj` (items, the restocking fee
  kept back), `item-tax-adj`, `shipping-price-adj`, `shipping-tax-adj` (this item's share),
  `gift-wrap-price-adj` / `gift-wrap-tax-adj` (0.00: gift wrap is not refunded here);
- `currency`; `quantity-cancelled` only for cancellations (NoInventory, CustomerCancel),
  left empty for a refund;
- the promotion columns must be left out when no promotion is adjusted, and are.
The file is tab-separated text with a header row of those names.

Flow (Feeds API 2021-06-30): `prerequisite` createFeedDocument (POST /feeds/2021-06-30/documents
{contentType}) → upload `document` to the URL it answers → this request, createFeed, with
the answered feedDocumentId in place of `{feedDocumentId}`; then read the processing report
(FEED_PROCESSING_FINISHED) for rejected rows. Adjustments for orders whose shipment is not
confirmed stay pending until it is. `marketplaceIds`: the order's MarketplaceId, kept in
`extra["marketplace_id"]`. The feed always pays the buyer: a record-only notice is refused.
"""

from returns.channel_formats.base import (
    ZERO,
    FeedRequest,
    Prerequisite,
    RefundNotice,
    channel_reason,
    checked,
    dedupe_key,
    line_money,
    not_record_only,
    refuse,
    text_amount,
)

FEED_TYPE = "POST_FLAT_FILE_PAYMENT_ADJUSTMENT_DATA"
CONTENT_TYPE = "text/tab-separated-values; charset=UTF-8"
FEEDS = "/feeds/2021-06-30"
COLUMNS = (
    "order-id",
    "order-item-id",
    "adjustment-reason-code",
    "currency",
    "item-price-adj",
    "item-tax-adj",
    "shipping-price-adj",
    "shipping-tax-adj",
    "gift-wrap-price-adj",
    "gift-wrap-tax-adj",
    "quantity-cancelled",
)
REASONS = ("NoInventory", "CustomerReturn", "GeneralAdjustment", "CouldNotShip", "DifferentItem")
REASON_BY_KIND = {
    "not_received": "GeneralAdjustment",
    "wrong_item": "DifferentItem",
    "not_as_described": "CustomerReturn",
    "missing_parts": "CustomerReturn",
    "damaged": "CustomerReturn",
    "defective": "CustomerReturn",
    "late": "CustomerReturn",
    "remorse": "CustomerReturn",
}


def build_refund_request(notice: RefundNotice) -> FeedRequest:
    notice = checked(notice, "Amazon")
    not_record_only(notice, "Amazon")
    marketplace_id = str(notice.extra.get("marketplace_id") or "").strip()
    if not marketplace_id:
        refuse(
            "Amazon needs the order's marketplace (MarketplaceId, kept at ingestion).",
            field="extra.marketplace_id",
            code="required",
        )
    return FeedRequest(
        method="POST",
        path=f"{FEEDS}/feeds",
        body={
            "feedType": FEED_TYPE,
            "marketplaceIds": [marketplace_id],
            "inputFeedDocumentId": "{feedDocumentId}",
        },
        topic="refund.amazon",
        dedupe_key=dedupe_key("amazon", notice),
        prerequisite=Prerequisite(
            method="POST",
            path=f"{FEEDS}/documents",
            body={"contentType": CONTENT_TYPE},
            purpose="Create the feed document, upload `document` to the url it answers, then "
            "send createFeed with its feedDocumentId.",
        ),
        document=adjustment_file(notice),
        document_content_type=CONTENT_TYPE,
    )


def adjustment_file(notice: RefundNotice) -> str:
    """The flat file: a header row, then one row per refunded order item."""
    rows = ["\t".join(COLUMNS)]
    for entry in line_money(notice, channel="Amazon", label="OrderItemId"):
        values = {
            "order-id": notice.order_external_id,
            "order-item-id": entry.external_id,
            "adjustment-reason-code": channel_reason(notice, REASONS, REASON_BY_KIND, entry.line),
            "currency": notice.currency,
            "item-price-adj": text_amount(entry.net_item_amount),
            "item-tax-adj": text_amount(entry.tax_amount),
            "shipping-price-adj": text_amount(entry.shipping_amount),
            "shipping-tax-adj": text_amount(entry.shipping_tax),
            "gift-wrap-price-adj": text_amount(ZERO),
            "gift-wrap-tax-adj": text_amount(ZERO),
            "quantity-cancelled": "",
        }
        for value, where in (
            (notice.order_external_id, "order_external_id"),
            (entry.external_id, f"lines[{entry.index}].external_line_id"),
        ):
            if any(separator in value for separator in "\t\r\n"):
                refuse(f"{where} cannot hold tabs or line breaks.", field=where)
        rows.append("\t".join(values[name] for name in COLUMNS))
    return "\n".join(rows) + "\n"
