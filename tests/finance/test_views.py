"""Finance back office: journal, entry, document postings, chart, trial balance, periods,
valuation and margin pages (with the chart and the CSV), for finance only."""

import datetime
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from finance.models import JournalEntry, Period
from fulfillment.models import Shipment
from tests.factories.finance import simple_entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, finance_user):
    client.force_login(finance_user)
    return client


def test_the_journal_lists_postings_and_links_each_to_its_document(signed_in, sale):
    page = signed_in.get(reverse("finance:journal")).content.decode()
    shipment = Shipment.objects.get(order=sale)
    assert shipment.number in page
    assert reverse("finance:document", args=["shipment", shipment.pk]) in page
    entry = JournalEntry.objects.get(source_kind="shipment")
    detail = signed_in.get(reverse("finance:entry", args=[entry.pk])).content.decode()
    assert reverse("fulfillment:shipment", args=[shipment.pk]) in detail
    assert "5000" in detail and "Cost of goods sold" in detail
    postings = signed_in.get(reverse("finance:document", args=["shipment", shipment.pk]))
    assert entry.number in postings.content.decode()


def test_the_journal_filters_by_document_kind(signed_in, sale):
    simple_entry(memo="an opening balance")
    page = signed_in.get(reverse("finance:journal"), {"source_kind": "refund"}).content.decode()
    assert "No postings match" in page
    page = signed_in.get(reverse("finance:journal"), {"q": "opening"}).content.decode()
    assert "an opening balance" in page
    assert Shipment.objects.get(order=sale).number not in page


def test_the_journal_page_takes_the_same_queries_for_one_entry_and_for_many(
    signed_in, django_assert_num_queries
):
    simple_entry()
    signed_in.get(reverse("finance:journal"))
    with django_assert_num_queries(7) as one:
        signed_in.get(reverse("finance:journal"))
    for _ in range(5):
        simple_entry()
    with django_assert_num_queries(len(one.captured_queries)):
        signed_in.get(reverse("finance:journal"))


def test_chart_trial_balance_and_valuation_pages_show_the_books(signed_in, sale):
    accounts = signed_in.get(reverse("finance:accounts")).content.decode()
    assert "4000-AMZ" in accounts and "Marketplace receivable" in accounts
    trial = signed_in.get(reverse("finance:trial-balance")).content.decode()
    assert "balanced" in trial and "does not balance" not in trial
    valuation = signed_in.get(reverse("finance:valuation")).content.decode()
    assert "books agree" in valuation
    assert "12.00" in valuation  # 3 mugs left at 4.00


def test_finance_closes_last_month_from_the_periods_page(signed_in):
    last = datetime.date.today().replace(day=1) - datetime.timedelta(days=1)
    Period.objects.create(year=last.year, month=last.month)
    response = signed_in.post(
        reverse("finance:period-close"), {"year": last.year, "month": last.month}
    )
    assert response.status_code == 302
    assert Period.objects.get(year=last.year, month=last.month).status == "closed"
    page = signed_in.get(reverse("finance:periods")).content.decode()
    assert "Lock" in page and "Reopen" in page


def test_the_margin_page_draws_a_chart_and_exports_csv(signed_in, sale):
    page = signed_in.get(reverse("finance:margin"), {"by": "channel"}).content.decode()
    assert '<svg id="margin-chart"' in page and "<rect" in page
    assert "23.00" in page
    response = signed_in.get(reverse("finance:margin-csv"), {"by": "sku"})
    assert response.streaming
    rows = b"".join(response.streaming_content).decode().splitlines()
    assert rows[0].startswith("group,id,name")
    assert any(row.startswith("sku,") and ",MUG," in row and row.endswith(",28.00") for row in rows)
    book = signed_in.get(reverse("finance:margin-csv"), {"by": "sku", "export": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(book.streaming_content))).active
    cells = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert cells[0][:3] == ["group", "id", "name"]
    assert any(row[0] == "sku" and row[2] == "MUG" and row[-1] == 28 for row in cells[1:])


def test_warehouse_staff_cannot_open_the_books(client, warehouse_user):
    client.force_login(warehouse_user)
    for name in ("finance:journal", "finance:margin", "finance:trial-balance"):
        assert client.get(reverse(name)).status_code == 403
