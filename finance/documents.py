"""Which business document a posting came from, and where its page is: the journal links
each entry to its document, and the document postings page links back."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class DocumentKind:
    label: str
    url_name: str = ""  # reversed with the document's id; blank: no page in this ERP


DOCUMENT_KINDS = {
    "shipment": DocumentKind("Shipment", "fulfillment:shipment"),
    "refund": DocumentKind("Refund", "returns:refund-detail"),
    "adjustment": DocumentKind("Adjustment", "inventoryadjustment-detail"),
    "stock_receipt": DocumentKind("Stock receipt"),
    "goods_receipt": DocumentKind("Goods receipt", "purchasing:receipt-detail"),
    "landed_cost": DocumentKind("Landed cost"),
    "rtv": DocumentKind("Return to vendor", "purchasing:rtv-detail"),
    "journal_entry": DocumentKind("Journal entry", "finance:entry"),
    "settlement": DocumentKind("Settlement", "settlements:detail"),
    "settlement_variance": DocumentKind("Settlement variance"),
}


def document_label(kind: str) -> str:
    known = DOCUMENT_KINDS.get(kind)
    return known.label if known else kind.replace("_", " ").capitalize()


def document_url(kind: str, source_id: int | None) -> str:
    """The document's own page, or "" when it has none (or its app is not installed)."""
    known = DOCUMENT_KINDS.get(kind)
    if not known or not known.url_name or source_id is None:
        return ""
    try:
        return reverse(known.url_name, args=[source_id])
    except NoReverseMatch:
        return ""


def postings_url(kind: str, source_id: int | None) -> str:
    if not kind or source_id is None:
        return ""
    return reverse("finance:document", args=[kind, source_id])
