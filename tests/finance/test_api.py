"""Finance API: accounts, journal entries with lines and filters, periods with close/lock
through the service, margin and trial balance; exact query counts on the lists."""

import datetime
from decimal import Decimal

import pytest

from finance.models import Period
from tests.conftest import token_client
from tests.factories import ChannelFactory
from tests.factories.finance import simple_entry

pytestmark = pytest.mark.django_db
BASE = "/api/v1/finance/"


@pytest.fixture
def finance_api(finance_user):
    return token_client(finance_user)


def test_accounts_are_listed_with_their_channel(finance_api):
    ChannelFactory(code="AMZ")
    simple_entry()  # posting creates the chart
    from finance.services.chart import ensure_chart_of_accounts

    ensure_chart_of_accounts()
    body = finance_api.get(f"{BASE}accounts/", {"channel": "AMZ"}).json()
    assert sorted(row["code"] for row in body["results"]) == ["1100-AMZ", "1150-AMZ", "4000-AMZ"]


def test_journal_entries_come_with_lines_and_filter_by_document_and_account(finance_api, sale):
    body = finance_api.get(f"{BASE}journal-entries/", {"source_kind": "shipment"}).json()
    (entry,) = body["results"]
    assert entry["event"] == "fulfillment.shipment_confirmed"
    assert entry["document_url"].startswith("/fulfillment/shipments/")
    debits = sum(Decimal(line["debit"]) for line in entry["lines"])
    credits = sum(Decimal(line["credit"]) for line in entry["lines"])
    assert debits == credits == Decimal("57.00")  # 40 receivable + 4 fee + 8 COGS + 5 label
    by_account = finance_api.get(f"{BASE}journal-entries/", {"account": "5000"}).json()
    assert [row["id"] for row in by_account["results"]] == [entry["id"]]
    by_order = finance_api.get(f"{BASE}journal-entries/", {"order_id": sale.pk}).json()
    assert [row["id"] for row in by_order["results"]] == [entry["id"]]


def test_the_journal_list_takes_the_same_queries_for_one_entry_and_for_many(
    finance_api, django_assert_num_queries
):
    simple_entry()
    finance_api.get(f"{BASE}journal-entries/")  # warm the token and permission caches
    with django_assert_num_queries(2):  # entries, their lines (with accounts and dimensions)
        assert len(finance_api.get(f"{BASE}journal-entries/").json()["results"]) == 1
    for _ in range(5):
        simple_entry()
    with django_assert_num_queries(2):
        assert len(finance_api.get(f"{BASE}journal-entries/").json()["results"]) == 6


def test_the_account_list_takes_one_query(finance_api, django_assert_num_queries):
    simple_entry()
    finance_api.get(f"{BASE}accounts/")
    with django_assert_num_queries(1):
        finance_api.get(f"{BASE}accounts/")


def test_finance_closes_and_locks_a_month_and_the_service_refuses_the_rest(finance_api):
    closed = finance_api.post(f"{BASE}periods/close/", {"year": 2025, "month": 1}, format="json")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert closed.json()["closed_by"] == "finance-user"
    again = finance_api.post(f"{BASE}periods/close/", {"year": 2025, "month": 1}, format="json")
    assert again.status_code == 409
    locked = finance_api.post(f"{BASE}periods/lock/", {"year": 2025, "month": 1}, format="json")
    assert locked.json()["status"] == "locked"
    reopen = finance_api.post(f"{BASE}periods/reopen/", {"year": 2025, "month": 1}, format="json")
    assert reopen.status_code == 409
    today = datetime.date.today()
    current = finance_api.post(
        f"{BASE}periods/close/", {"year": today.year, "month": today.month}, format="json"
    )
    assert current.status_code == 409 and current.json()["errors"][0]["code"] == "not_ended"
    bad = finance_api.post(f"{BASE}periods/close/", {"year": 2025, "month": 13}, format="json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "month"


def test_warehouse_staff_may_not_close_a_period_or_read_the_books(warehouse_user):
    api = token_client(warehouse_user)
    refused = api.post(f"{BASE}periods/close/", {"year": 2025, "month": 1}, format="json")
    assert refused.status_code == 403
    assert not Period.objects.filter(year=2025, month=1, status="closed").exists()
    assert api.get(f"{BASE}journal-entries/").status_code == 403


def test_margin_by_channel_and_by_sku(finance_api, sale):
    body = finance_api.get(f"{BASE}margin/", {"by": "channel"}).json()
    (row,) = body["rows"]
    # 40.00 revenue − 8.00 COGS − 4.00 fee − 5.00 label = 23.00
    assert (row["label"], row["revenue"], row["cogs"], row["fees"], row["shipping"]) == (
        "AMZ",
        "40.00",
        "8.00",
        "4.00",
        "5.00",
    )
    assert row["margin"] == "23.00" and body["total"]["margin"] == "23.00"
    by_sku = finance_api.get(f"{BASE}margin/", {"by": "sku"}).json()["rows"]
    assert {(r["label"], r["margin"]) for r in by_sku} == {("MUG", "28.00"), ("", "-5.00")}
    assert finance_api.get(f"{BASE}margin/", {"by": "colour"}).status_code == 400
    assert finance_api.get(f"{BASE}margin/", {"date_from": "yesterday"}).status_code == 400


def test_the_trial_balance_balances(finance_api, sale):
    body = finance_api.get(f"{BASE}trial-balance/").json()
    assert body["balanced"] is True
    (usd,) = body["totals"]
    assert usd["debits"] == usd["credits"]
