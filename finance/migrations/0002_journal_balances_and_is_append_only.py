"""The database itself keeps the journal honest:

- every entry balances (debits = credits per currency), checked at commit by a DEFERRABLE
  INITIALLY DEFERRED constraint trigger, so the lines of one entry may arrive in any order
  within the transaction but an unbalanced entry can never commit;
- an entry has lines (an empty header cannot commit either);
- entries go only into an open period (read FOR SHARE, so closing a period waits for the
  postings in flight and they do not wait for each other);
- entries and lines are append-only: UPDATE and DELETE are refused, corrections are
  reversing entries. TRUNCATE stays possible (table maintenance, the test runner).

SQLite (the `make run` default) gets the append-only and open-period triggers; the balance
is checked in Python there (finance.services.posting), since SQLite has no deferred triggers.
"""

from django.db import migrations

POSTGRES_FORWARD = """
CREATE OR REPLACE FUNCTION finance_journal_is_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'journal % are append-only: % refused; post a reversing entry', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER finance_journalline_no_update_delete
    BEFORE UPDATE OR DELETE ON finance_journalline
    FOR EACH ROW EXECUTE FUNCTION finance_journal_is_append_only();
CREATE TRIGGER finance_journalentry_no_update_delete
    BEFORE UPDATE OR DELETE ON finance_journalentry
    FOR EACH ROW EXECUTE FUNCTION finance_journal_is_append_only();

CREATE OR REPLACE FUNCTION finance_entry_balances() RETURNS trigger AS $$
DECLARE
    unbalanced record;
BEGIN
    SELECT currency, SUM(debit) AS debits, SUM(credit) AS credits INTO unbalanced
      FROM finance_journalline WHERE entry_id = NEW.entry_id
     GROUP BY currency HAVING SUM(debit) <> SUM(credit) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % does not balance in %: debits %, credits %',
            NEW.entry_id, unbalanced.currency, unbalanced.debits, unbalanced.credits
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER finance_journalline_entry_balances
    AFTER INSERT ON finance_journalline
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION finance_entry_balances();

CREATE OR REPLACE FUNCTION finance_entry_has_lines() RETURNS trigger AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM finance_journalline WHERE entry_id = NEW.id) THEN
        RAISE EXCEPTION 'journal entry % has no lines', NEW.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER finance_journalentry_has_lines
    AFTER INSERT ON finance_journalentry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION finance_entry_has_lines();

CREATE OR REPLACE FUNCTION finance_entry_period_is_open() RETURNS trigger AS $$
DECLARE
    period_status text;
BEGIN
    SELECT status INTO period_status FROM finance_period WHERE id = NEW.period_id FOR SHARE;
    IF period_status IS DISTINCT FROM 'open' THEN
        RAISE EXCEPTION 'period % is %: no postings', NEW.period_id, period_status
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER finance_journalentry_period_open
    BEFORE INSERT ON finance_journalentry
    FOR EACH ROW EXECUTE FUNCTION finance_entry_period_is_open();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS finance_journalentry_period_open ON finance_journalentry;
DROP TRIGGER IF EXISTS finance_journalentry_has_lines ON finance_journalentry;
DROP TRIGGER IF EXISTS finance_journalline_entry_balances ON finance_journalline;
DROP TRIGGER IF EXISTS finance_journalentry_no_update_delete ON finance_journalentry;
DROP TRIGGER IF EXISTS finance_journalline_no_update_delete ON finance_journalline;
DROP FUNCTION IF EXISTS finance_entry_period_is_open();
DROP FUNCTION IF EXISTS finance_entry_has_lines();
DROP FUNCTION IF EXISTS finance_entry_balances();
DROP FUNCTION IF EXISTS finance_journal_is_append_only();
"""
SQLITE_FORWARD = [
    f"""CREATE TRIGGER finance_{table}_no_{op.lower()} BEFORE {op} ON finance_{table}
       BEGIN SELECT RAISE(ABORT, 'journal {table}s are append-only: {op} refused'); END;"""
    for table in ("journalline", "journalentry")
    for op in ("UPDATE", "DELETE")
] + [
    """CREATE TRIGGER finance_journalentry_period_open BEFORE INSERT ON finance_journalentry
       WHEN (SELECT status FROM finance_period WHERE id = NEW.period_id) IS NOT 'open'
       BEGIN SELECT RAISE(ABORT, 'the period is not open: no postings'); END;"""
]
SQLITE_BACKWARD = [
    f"DROP TRIGGER IF EXISTS finance_{table}_no_{op};"
    for table in ("journalline", "journalentry")
    for op in ("update", "delete")
] + ["DROP TRIGGER IF EXISTS finance_journalentry_period_open;"]


def _statements(vendor: str, postgres, sqlite) -> list:
    return [postgres] if vendor == "postgresql" else sqlite if vendor == "sqlite" else []


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in _statements(vendor, POSTGRES_FORWARD, SQLITE_FORWARD):
        schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in _statements(vendor, POSTGRES_BACKWARD, SQLITE_BACKWARD):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("finance", "0001_chart_journal_periods")]

    operations = [migrations.RunPython(forward, backward)]
