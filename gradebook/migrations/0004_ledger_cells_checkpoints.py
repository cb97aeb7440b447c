"""Events record the cell they change (`cell`, in their hash from now on); signed checkpoints of
each school's chain; the ledger's tables refuse UPDATE and DELETE in the database.

PostgreSQL: events already refused UPDATE and DELETE (0002); checkpoints get the same trigger.
SQLite: adding `cell` rebuilds the events table, which drops its triggers, so they are made
again here, now with DELETE refused too. SQLite's DELETE trigger lets a delete through only
while the application has opened `gradebook.ledger.ledger_maintenance()` on that connection
(the test database's flush: TransactionTestCase empties tables with DELETE on SQLite, where
PostgreSQL uses TRUNCATE, which fires no row trigger); any other client, the sqlite3 shell
included, has no such function and is refused.

A later migration that rebuilds one of these tables on SQLite must run `make_sqlite_triggers`
again (tests/gradebook/test_ledger.py checks the triggers are in place).
"""

import django.db.models.deletion
from django.db import migrations, models

PG_FORWARD = """
CREATE OR REPLACE FUNCTION gradebook_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER gradebook_ledgercheckpoint_no_update_delete
    BEFORE UPDATE OR DELETE ON gradebook_ledgercheckpoint
    FOR EACH ROW EXECUTE FUNCTION gradebook_ledger_append_only();
"""
PG_BACKWARD = """
DROP TRIGGER IF EXISTS gradebook_ledgercheckpoint_no_update_delete ON gradebook_ledgercheckpoint;
DROP FUNCTION IF EXISTS gradebook_ledger_append_only();
"""
#: The tables SQLite's triggers guard.
SQLITE_TABLES = ("gradebook_markevent", "gradebook_ledgercheckpoint")
#: The application-defined function that opens the guard (see gradebook/ledger.py).
SQLITE_GUARD = "sodiem_ledger_maintenance"


def sqlite_triggers(table: str) -> list[str]:
    return [
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
BEGIN SELECT RAISE(ABORT, '{table} is append-only (UPDATE refused)'); END;""",
        f"""CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}
WHEN {SQLITE_GUARD}() = 0
BEGIN SELECT RAISE(ABORT, '{table} is append-only (DELETE refused)'); END;""",
    ]


def make_sqlite_triggers(schema_editor) -> None:
    for table in SQLITE_TABLES:
        for statement in sqlite_triggers(table):
            schema_editor.execute(statement)


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)  # no %-interpolation of the body
    elif vendor == "sqlite":
        make_sqlite_triggers(schema_editor)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD)
    elif vendor == "sqlite":
        for table in SQLITE_TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        schema_editor.execute("DROP TRIGGER IF EXISTS gradebook_ledgercheckpoint_no_update")
        # the events table keeps its UPDATE trigger, as after 0002


class Migration(migrations.Migration):
    dependencies = [
        ("gradebook", "0003_settings_choice_labels"),
        ("schools", "0002_transcript_layout_fields"),
    ]

    operations = [
        migrations.AddField(
            model_name="markevent",
            name="cell",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.CreateModel(
            name="LedgerCheckpoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveIntegerField()),
                ("seq", models.PositiveBigIntegerField()),
                ("hash", models.CharField(max_length=64)),
                ("at", models.DateTimeField()),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("lock", "A gradebook was submitted or locked"),
                            ("daily", "Daily checkpoint"),
                            ("package", "A transcript package was exported"),
                            ("manual", "Made by an operator"),
                        ],
                        max_length=10,
                    ),
                ),
                ("previous", models.CharField(max_length=64)),
                ("key_id", models.CharField(max_length=16)),
                ("signature", models.CharField(max_length=100)),
                (
                    "school",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="schools.school",
                    ),
                ),
            ],
            options={
                "verbose_name": "ledger checkpoint",
                "verbose_name_plural": "ledger checkpoints",
                "ordering": ["school", "number"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("school", "number"), name="checkpoint_number_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(forward, backward),
    ]
