"""The journal itself: balance, one side per line, open periods, append-only, idempotency,
enforced by post_entry and (on PostgreSQL) by the database."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, InternalError, connection, transaction
from django.db.utils import DatabaseError

from erp.errors import Conflict, ValidationFailed
from finance.models import Account, JournalEntry, JournalLine
from finance.services.chart import DEFAULT_CHART, accounts_for, ensure_chart_of_accounts
from finance.services.posting import Line, credit, debit, post_entry, reverse_entry
from tests.factories import ChannelFactory
from tests.factories.finance import closed_period, simple_entry

pytestmark = pytest.mark.django_db


def test_the_chart_has_every_role_and_one_set_of_channel_accounts_per_channel():
    amazon = ChannelFactory(code="AMZ")
    ensure_chart_of_accounts()
    assert ensure_chart_of_accounts() == 0  # idempotent
    roles = set(Account.objects.values_list("role", flat=True))
    assert {spec.role for spec in DEFAULT_CHART} <= roles
    per_channel = Account.objects.filter(channel=amazon).values_list("role", "code")
    assert set(per_channel) == {
        ("receivable", "1100-AMZ"),
        ("clearing", "1150-AMZ"),
        ("revenue", "4000-AMZ"),
    }


def test_a_new_channel_gets_its_accounts_on_first_use():
    ensure_chart_of_accounts()
    ebay = ChannelFactory(code="EBY")
    ids = accounts_for({"receivable", "cogs"}, channel_id=ebay.pk)
    assert Account.objects.get(pk=ids["receivable"]).channel == ebay


def test_a_balanced_entry_posts_with_its_lines_and_period():
    entry = simple_entry("12.50")
    assert entry.period.year == entry.date.year and entry.period.status == "open"
    lines = list(entry.lines.order_by("id").values_list("debit", "credit", "currency"))
    assert lines == [(Decimal("12.50"), 0, "USD"), (0, Decimal("12.50"), "USD")]


def test_an_unbalanced_entry_is_refused_and_nothing_is_written():
    ids = accounts_for({"bank", "opening_balance"})
    with pytest.raises(ValidationFailed) as error:
        post_entry(lines=[debit(ids["bank"], "10.00"), credit(ids["opening_balance"], "9.99")])
    assert error.value.errors[0].code == "unbalanced"
    assert "debits 10.00, credits 9.99" in str(error.value)
    assert not JournalEntry.objects.exists() and not JournalLine.objects.exists()


def test_an_entry_must_balance_in_each_currency():
    ids = accounts_for({"bank", "opening_balance"})
    with pytest.raises(ValidationFailed, match="does not balance in EUR"):
        post_entry(
            lines=[
                debit(ids["bank"], "10.00", currency="EUR"),
                credit(ids["opening_balance"], "10.00", currency="USD"),
            ]
        )


def test_a_negative_amount_posts_on_the_other_side():
    ids = accounts_for({"bank", "opening_balance"})
    entry = post_entry(lines=[debit(ids["bank"], "-5"), debit(ids["opening_balance"], "5")])
    bank = entry.lines.get(account_id=ids["bank"])
    assert (bank.debit, bank.credit) == (0, Decimal("5.00"))


def test_posting_into_a_closed_period_is_refused(finance_user):
    closed_period(2024, 3, finance_user)
    with pytest.raises(Conflict) as error:
        simple_entry(date=datetime.date(2024, 3, 15))
    assert error.value.errors[0].code == "period_closed"
    assert not JournalEntry.objects.exists()


def test_the_same_event_for_the_same_document_posts_once():
    first = simple_entry(event="test.event", source_kind="shipment", source_id=7)
    again = simple_entry("99.00", event="test.event", source_kind="shipment", source_id=7)
    assert again == first
    assert JournalEntry.objects.count() == 1


def test_a_reversal_mirrors_the_entry_and_happens_once(finance_user):
    entry = simple_entry("20.00")
    reversal = reverse_entry(entry=entry, actor=finance_user)
    assert reversal.reversal_of == entry
    assert sorted(reversal.lines.values_list("debit", "credit")) == [
        (0, Decimal("20.00")),
        (Decimal("20.00"), 0),
    ]
    assert reverse_entry(entry=entry, actor=finance_user) == reversal


@pytest.mark.postgres
def test_the_database_refuses_an_unbalanced_entry_at_commit(transactional_db):
    ids = accounts_for({"bank", "opening_balance"})
    entry = simple_entry("10.00")
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        # Written past post_entry on purpose: the database is the last line of defence.
        JournalLine.objects.create(
            entry=entry, account_id=ids["bank"], debit=Decimal("1.00"), currency="USD"
        )
    assert JournalLine.objects.count() == 2


@pytest.mark.postgres
def test_the_database_refuses_a_raw_unbalanced_insert(transactional_db):
    entry = simple_entry("10.00")
    bank = accounts_for({"bank"})["bank"]
    with (
        pytest.raises(IntegrityError, match="does not balance"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO finance_journalline (entry_id, account_id, debit, credit, currency, memo)"
            " VALUES (%s, %s, 5, 0, 'USD', '')",
            [entry.pk, bank],
        )
    assert JournalLine.objects.filter(entry=entry).count() == 2


@pytest.mark.postgres
def test_the_database_refuses_an_entry_without_lines(transactional_db):
    from finance.services.posting import period_for

    period = period_for(datetime.date.today())
    with pytest.raises(IntegrityError, match="has no lines"), transaction.atomic():
        JournalEntry.objects.create(date=datetime.date.today(), period=period)


def test_the_database_refuses_a_line_with_both_sides():
    entry = simple_entry()
    with pytest.raises(IntegrityError), transaction.atomic():
        JournalLine.objects.create(
            entry=entry, account=Account.objects.get(role="bank"), debit=1, credit=1, currency="USD"
        )


def test_posted_lines_and_entries_cannot_be_changed_or_deleted():
    entry = simple_entry()
    for change in (
        lambda: JournalLine.objects.filter(entry=entry).update(debit=Decimal("3")),
        lambda: JournalLine.objects.filter(entry=entry).delete(),
        lambda: JournalEntry.objects.filter(pk=entry.pk).update(memo="changed"),
    ):
        with pytest.raises((IntegrityError, InternalError, DatabaseError)), transaction.atomic():
            change()
    assert JournalLine.objects.filter(entry=entry).count() == 2


def test_the_database_refuses_an_entry_in_a_closed_period(finance_user):
    period = closed_period(2024, 5, finance_user)
    with pytest.raises((IntegrityError, InternalError, DatabaseError)), transaction.atomic():
        JournalEntry.objects.create(date=datetime.date(2024, 5, 2), period=period)


def test_line_needs_an_amount():
    ids = accounts_for({"bank", "opening_balance"})
    with pytest.raises(ValidationFailed):
        post_entry(lines=[Line(ids["bank"], debit=Decimal("1"))])
