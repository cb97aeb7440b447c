"""The ledger refuses UPDATE (and, on PostgreSQL, DELETE) in the database itself, so that no
code path — not even raw SQL from the application's role — rewrites history unnoticed.

SQLite gets the UPDATE trigger only: its test-database flush empties tables with DELETE, and
the hash chain (manage.py verify_ledger) still detects any deleted event.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION gradebook_markevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'gradebook_markevent is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER gradebook_markevent_no_update_delete
    BEFORE UPDATE OR DELETE ON gradebook_markevent
    FOR EACH ROW EXECUTE FUNCTION gradebook_markevent_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS gradebook_markevent_no_update_delete ON gradebook_markevent;
DROP FUNCTION IF EXISTS gradebook_markevent_append_only();
"""
SQLITE_FORWARD = """
CREATE TRIGGER gradebook_markevent_no_update BEFORE UPDATE ON gradebook_markevent
BEGIN SELECT RAISE(ABORT, 'gradebook_markevent is append-only (UPDATE refused)'); END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS gradebook_markevent_no_update;"


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)  # no %-interpolation of the body
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_FORWARD)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("gradebook", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
