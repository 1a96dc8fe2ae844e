"""The database itself refuses UPDATE and DELETE of posted ledger entries.

TRUNCATE stays possible: it is a table-level maintenance operation (and how the test
runner empties tables between transactional tests), not a change to posted entries.
"""

from django.db import migrations

POSTGRES_FORWARD = """
CREATE OR REPLACE FUNCTION inventory_ledger_is_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'stock ledger entries are append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER inventory_ledger_no_update_delete
    BEFORE UPDATE OR DELETE ON inventory_stockledgerentry
    FOR EACH ROW EXECUTE FUNCTION inventory_ledger_is_append_only();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS inventory_ledger_no_update_delete ON inventory_stockledgerentry;
DROP FUNCTION IF EXISTS inventory_ledger_is_append_only();
"""
SQLITE_FORWARD = [
    """CREATE TRIGGER inventory_ledger_no_update BEFORE UPDATE ON inventory_stockledgerentry
       BEGIN SELECT RAISE(ABORT, 'stock ledger entries are append-only: UPDATE refused'); END;""",
    """CREATE TRIGGER inventory_ledger_no_delete BEFORE DELETE ON inventory_stockledgerentry
       BEGIN SELECT RAISE(ABORT, 'stock ledger entries are append-only: DELETE refused'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS inventory_ledger_no_update;",
    "DROP TRIGGER IF EXISTS inventory_ledger_no_delete;",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = [POSTGRES_FORWARD] if vendor == "postgresql" else SQLITE_FORWARD if vendor == "sqlite" else []
    for statement in statements:
        schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = [POSTGRES_BACKWARD] if vendor == "postgresql" else SQLITE_BACKWARD if vendor == "sqlite" else []
    for statement in statements:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_ledger_balances_reservations_documents")]

    operations = [migrations.RunPython(forward, backward)]
