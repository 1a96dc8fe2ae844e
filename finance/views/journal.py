"""The journal: a filterable list, one entry with its lines and document, and the postings
of one document (the way back from a document to the books)."""

from django.core.paginator import Paginator
from django.db.models import DecimalField, OuterRef, Subquery, Sum
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from erp.exports import export_format
from erp.list_export import Column, export_rows
from erp.views.access import backoffice_view, forbid_unless_permitted
from erp.views.rendering import render_page_or_fragment
from finance import selectors
from finance.documents import DOCUMENT_KINDS, document_label, document_url, postings_url
from finance.forms import JournalFilterForm
from finance.models import JournalLine

VIEW_JOURNAL = "finance.view_journalentry"
PAGE_SIZE = 50
EXPORT_COLUMNS = [
    Column("Entry", "pk", display=lambda pk: f"JE-{pk:06d}"),
    Column("Date", "date"),
    Column("Period year", "period__year"),
    Column("Period month", "period__month"),
    Column("Document kind", "source_kind"),
    Column("Document id", "source_id"),
    Column("Document", "source_ref"),
    Column("Memo", "memo"),
    Column("Amount", "export_total"),
    Column("Reversal of", "reversal_of_id", display=lambda pk: f"JE-{pk:06d}" if pk else ""),
    Column("Posted by", "posted_by__username"),
    Column("Posted at", "posted_at"),
]


def _export_journal(entries, fmt: str):
    """The entries with their total (the sum of the debits) computed in the same query."""
    debits = (
        JournalLine.objects.filter(entry=OuterRef("pk"))
        .order_by()
        .values("entry")
        .annotate(total=Sum("debit"))
        .values("total")
    )
    entries = entries.annotate(
        export_total=Subquery(debits, output_field=DecimalField(max_digits=18, decimal_places=2))
    )
    return export_rows("journal", entries, EXPORT_COLUMNS, fmt)


def _decorate(entries) -> list:
    for entry in entries:
        entry.document_label = document_label(entry.source_kind)
        entry.document_url = document_url(entry.source_kind, entry.source_id)
        entry.postings_url = postings_url(entry.source_kind, entry.source_id)
        entry.total = selectors.entry_total(entry)
    return entries


@require_GET
@backoffice_view
def journal(request):
    forbid_unless_permitted(request.user, VIEW_JOURNAL)
    kinds = [(kind, spec.label) for kind, spec in DOCUMENT_KINDS.items()]
    filters = JournalFilterForm(request.GET, kinds=kinds)
    entries = selectors.journal_entries(**filters.values())
    if fmt := export_format(request):
        return _export_journal(entries, fmt)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    _decorate(page.object_list)
    return render_page_or_fragment(
        request,
        page="finance/journal.html",
        fragment="finance/partials/journal_results.html",
        context={"section": "finance", "filters": filters, "page": page},
    )


@require_GET
@backoffice_view
def entry_detail(request, entry_id: int):
    forbid_unless_permitted(request.user, VIEW_JOURNAL)
    entry = get_object_or_404(selectors.journal_entries(), pk=entry_id)
    _decorate([entry])
    reversals = _decorate(list(selectors.journal_entries().filter(reversal_of=entry)))
    return render(
        request,
        "finance/entry_detail.html",
        {"section": "finance", "entry": entry, "reversals": reversals},
    )


@require_GET
@backoffice_view
def document_postings(request, kind: str, source_id: int):
    forbid_unless_permitted(request.user, VIEW_JOURNAL)
    entries = _decorate(list(selectors.document_postings(kind, source_id)))
    return render(
        request,
        "finance/document_postings.html",
        {
            "section": "finance",
            "kind": kind,
            "source_id": source_id,
            "label": document_label(kind),
            "document_url": document_url(kind, source_id),
            "reference": next((e.source_ref for e in entries if e.source_kind == kind), ""),
            "entries": entries,
        },
    )
