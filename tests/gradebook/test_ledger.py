import base64
import importlib
import json
import os
import stat
from contextlib import contextmanager

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from gradebook import checkpoints
from gradebook.completeness import required_columns
from gradebook.ledger import cell_digest, event_digest, ledger_maintenance, verify, verify_chain
from gradebook.locks import lock, submit_gradebook
from gradebook.models import LedgerCheckpoint, LedgerHead, Mark, MarkEvent
from gradebook.services import save_mark

SQLITE_FORWARD = importlib.import_module(
    "gradebook.migrations.0002_ledger_append_only"
).SQLITE_FORWARD
LEDGER_0004 = importlib.import_module("gradebook.migrations.0004_ledger_cells_checkpoints")


@pytest.fixture
def three_saves(class_a, teacher, student, maths_columns):
    for key, text in [("1:tx:1", "7"), ("1:tx:2", "8.5"), ("1:tx:1", "9")]:
        mark = Mark.objects.filter(kind=key.split(":")[1], slot=key.split(":")[2]).first()
        save_mark(actor=teacher, class_group=class_a, student=student, column=maths_columns[key],
                  text=text, base_version=mark.version if mark else 0)  # fmt: skip
    return class_a.year.school


def test_chain_of_untouched_ledger_verifies(three_saves):
    assert list(verify_chain(three_saves)) == []
    assert list(MarkEvent.objects.values_list("seq", flat=True)) == [1, 2, 3]


def test_each_event_links_to_the_previous_hash(three_saves):
    events = list(MarkEvent.objects.order_by("seq"))
    assert events[0].prev_hash == "0" * 64
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]


def test_value_changed_behind_the_ledger_is_reported(three_saves):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE gradebook_mark SET value = '10' WHERE kind = 'tx' AND slot = '2'")
    problems = list(verify_chain(three_saves))
    assert [p.kind for p in problems] == ["untracked_value"]
    assert "'10'" in problems[0].detail


@pytest.mark.django_db(transaction=True)
def test_tampered_event_is_the_first_broken_link(three_saves):
    """Simulate a database administrator who disabled the trigger and rewrote event #2."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE gradebook_markevent DISABLE TRIGGER USER")
            cursor.execute("UPDATE gradebook_markevent SET new_value = '10' WHERE seq = 2")
            cursor.execute("ALTER TABLE gradebook_markevent ENABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER gradebook_markevent_no_update")
            try:
                cursor.execute("UPDATE gradebook_markevent SET new_value = '10' WHERE seq = 2")
            finally:
                cursor.execute(SQLITE_FORWARD)
    problems = list(verify_chain(three_saves))
    assert (problems[0].kind, problems[0].seq) == ("bad_hash", 2)


def test_verify_ledger_command_exits_non_zero_on_tamper(three_saves, capsys):
    call_command("verify_ledger", school=three_saves.code)
    assert "ledger intact" in capsys.readouterr().out
    with connection.cursor() as cursor:
        cursor.execute("UPDATE gradebook_mark SET value = '1' WHERE kind = 'tx' AND slot = '1'")
    with pytest.raises(CommandError):
        call_command("verify_ledger", school=three_saves.code)
    assert "untracked_value" in capsys.readouterr().out


# --- Tampering on a copy of the database (issue 18, finding 3) -----------------------------------


@contextmanager
def behind_the_guards():
    """Act as someone who can write the database directly and has turned its guards off: the
    ledger's triggers and the foreign keys (until this test's transaction, which is rolled
    back, would commit)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        else:
            cursor.execute("PRAGMA defer_foreign_keys = ON")
            for table in LEDGER_0004.SQLITE_TABLES:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        try:
            with ledger_maintenance():
                yield cursor
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")
            else:
                for table in LEDGER_0004.SQLITE_TABLES:
                    for statement in LEDGER_0004.sqlite_triggers(table):
                        cursor.execute(statement)


def kinds(school, **options):
    return {problem.kind for problem in verify(school, **options).problems}


@pytest.fixture
def two_students(class_a, teacher, maths_columns):
    """Two students with a regular mark each in tx1 and one more in tx2 for the first."""
    first, second = [e.student for e in class_a.enrollments.order_by("roll_number")[:2]]
    for who, key, text in [(first, "1:tx:1", "9"), (second, "1:tx:1", "4"), (first, "1:tx:2", "8")]:
        save_mark(actor=teacher, class_group=class_a, student=who, column=maths_columns[key],
                  text=text, base_version=0)  # fmt: skip
    return first, second


def test_events_record_the_cell_they_change(three_saves):
    for event in MarkEvent.objects.select_related("mark"):
        assert event.cell == cell_digest(event.mark)
    event = MarkEvent.objects.first()
    event.cell = "0" * 64
    assert event_digest(event) != event.hash  # the cell is in the hash


def test_swapping_the_students_of_two_marks_is_found(two_students, class_a):
    first, second = two_students
    school = class_a.year.school
    assert kinds(school) == set()
    with behind_the_guards() as cursor:
        mine = Mark.objects.get(student=first, slot="1").pk
        theirs = Mark.objects.get(student=second, slot="1").pk
        cursor.execute("UPDATE gradebook_mark SET student_id = %s WHERE id = %s", [10**6, mine])
        cursor.execute(
            "UPDATE gradebook_mark SET student_id = %s WHERE id = %s", [first.pk, theirs]
        )
        cursor.execute("UPDATE gradebook_mark SET student_id = %s WHERE id = %s", [second.pk, mine])
    problems = [p for p in verify(school).problems if p.kind == "moved_mark"]
    assert len(problems) == 2
    assert {f"mark {mine} ", f"mark {theirs} "} == {
        next(f"mark {pk} " for pk in (mine, theirs) if f"mark {pk} " in p.detail) for p in problems
    }


def test_moving_a_score_to_another_column_is_found(two_students, class_a):
    first, _second = two_students
    with behind_the_guards() as cursor:
        cursor.execute(
            "UPDATE gradebook_mark SET slot = '3' WHERE student_id = %s AND slot = '2'", [first.pk]
        )
    assert kinds(class_a.year.school) == {"moved_mark"}


def test_deleting_a_mark_row_is_found(two_students, class_a):
    first, _second = two_students
    gone = Mark.objects.get(student=first, slot="2")
    with behind_the_guards() as cursor:
        cursor.execute("DELETE FROM gradebook_mark WHERE id = %s", [gone.pk])
    assert "missing_mark" in kinds(class_a.year.school)
    Mark.objects.bulk_create([gone])  # the test database's foreign keys are checked at the end


def test_a_mark_without_its_events_is_found(two_students, class_a):
    """A mark inserted behind the ledger, with a version its (absent) events do not account
    for, and a mark whose first event was cut out."""
    first, _second = two_students
    mark = Mark.objects.get(student=first, slot="1")
    with behind_the_guards() as cursor:
        cursor.execute(
            "INSERT INTO gradebook_mark (school_id, year_id, term, student_id, subject_id, kind, "
            "slot, value, version) VALUES (%s, %s, 1, %s, %s, 'tx', '4', '', 1)",
            [mark.school_id, mark.year_id, first.pk, mark.subject_id],
        )
    assert kinds(class_a.year.school) == {"untracked_value"}


@pytest.mark.parametrize("statement", [
    "DELETE FROM gradebook_markevent WHERE seq = 3",
    "UPDATE gradebook_markevent SET reason = 'x' WHERE seq = 3",
])  # fmt: skip
def test_the_database_refuses_to_change_or_delete_events(three_saves, statement):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert MarkEvent.objects.count() == 3


def test_the_database_refuses_to_change_or_delete_checkpoints(three_saves):
    checkpoints.make_checkpoint(three_saves, reason="manual")
    for statement in [
        "DELETE FROM gradebook_ledgercheckpoint",
        "UPDATE gradebook_ledgercheckpoint SET seq = 1",
    ]:
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert LedgerCheckpoint.objects.get().seq == 3


def test_the_ledger_tables_keep_their_triggers(db):
    """A migration that rebuilds a ledger table on SQLite drops its triggers: this fails
    until it makes them again (gradebook/migrations/0004)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            tables = LEDGER_0004.SQLITE_TABLES
            expected = {f"{t}_no_{op}" for t in tables for op in ("update", "delete")}
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
            expected = {
                "gradebook_markevent_no_update_delete",
                "gradebook_ledgercheckpoint_no_update_delete",
            }
        names = {row[0] for row in cursor.fetchall()}
    assert expected <= names


def _cut_newest_event(school):
    """Delete the newest event, move the head back and put its mark back as it was."""
    newest = MarkEvent.objects.filter(school=school).order_by("-seq").first()
    before = MarkEvent.objects.get(school=school, seq=newest.seq - 1)
    with behind_the_guards() as cursor:
        cursor.execute("DELETE FROM gradebook_markevent WHERE id = %s", [newest.pk])
        cursor.execute(
            "UPDATE gradebook_ledgerhead SET seq = %s, hash = %s WHERE school_id = %s",
            [before.seq, before.hash, school.pk],
        )
        cursor.execute(
            "UPDATE gradebook_mark SET value = %s, version = %s WHERE id = %s",
            [newest.old_value, newest.version - 1, newest.mark_id],
        )


def test_cutting_the_newest_event_is_found_by_the_checkpoint(three_saves):
    checkpoints.make_checkpoint(three_saves, reason="manual")
    _cut_newest_event(three_saves)
    assert kinds(three_saves) == {"truncated"}


def test_cutting_the_newest_event_without_a_checkpoint_is_not_anchored(three_saves):
    """What the checkpoints are for: the chain alone cannot tell."""
    _cut_newest_event(three_saves)
    report = verify(three_saves)
    assert report.ok and report.anchored_up_to is None


def _rewrite_from(school, seq: int, new_value: str) -> None:
    """Rewrite event `seq`'s value and recompute every later hash, the head and the marks, so
    the chain is consistent in itself."""
    events = list(MarkEvent.objects.filter(school=school, seq__gte=seq).order_by("seq"))
    previous = MarkEvent.objects.get(school=school, seq=seq - 1).hash if seq > 1 else "0" * 64
    with behind_the_guards() as cursor:
        for event in events:
            if event.seq == seq:
                event.new_value = new_value
            event.prev_hash = previous
            event.hash = previous = event_digest(event)
            cursor.execute(
                "UPDATE gradebook_markevent SET new_value = %s, prev_hash = %s, hash = %s "
                "WHERE id = %s",
                [event.new_value, event.prev_hash, event.hash, event.pk],
            )
            cursor.execute(
                "UPDATE gradebook_mark SET value = %s WHERE id = %s AND version = %s",
                [event.new_value, event.mark_id, event.version],
            )
        cursor.execute(
            "UPDATE gradebook_ledgerhead SET hash = %s WHERE school_id = %s", [previous, school.pk]
        )


def test_a_rewritten_chain_behind_a_checkpoint_is_found(three_saves):
    checkpoints.make_checkpoint(three_saves, reason="manual")
    _rewrite_from(three_saves, 2, "10")
    assert kinds(three_saves) == {"rewritten"}


def test_a_rewrite_after_the_last_checkpoint_is_not_anchored(three_saves):
    """Events after the newest checkpoint are vouched for by the chain only: the report says
    up to where the checkpoints anchor it."""
    _rewrite_from(three_saves, 2, "10")
    report = verify(three_saves)
    assert report.ok and report.events == 3 and report.anchored_up_to is None


# --- Checkpoints ---------------------------------------------------------------------------------


def test_submitting_and_locking_a_book_make_checkpoints(class_a, teacher, principal):
    entry = class_a.year.curriculum.get(grade=class_a.grade, subject__code="TOAN")
    students = [e.student for e in class_a.enrollments.all()]
    for who in students:
        for column in required_columns(entry, 1):
            save_mark(actor=teacher, class_group=class_a, student=who, column=column, text="8",
                      base_version=None)  # fmt: skip
    school = class_a.year.school
    submit_gradebook(actor=teacher, class_group=class_a, entry=entry, term=1)
    head = LedgerHead.objects.get(school=school)
    made = LedgerCheckpoint.objects.get(school=school)
    assert (made.number, made.seq, made.hash, made.reason) == (1, head.seq, head.hash, "lock")
    lock(actor=principal, school=school, year=class_a.year, term=1, reason="Hết học kì")
    assert LedgerCheckpoint.objects.count() == 1  # the head did not move: the same one
    column = required_columns(entry, 2)[0]
    save_mark(actor=teacher, class_group=class_a, student=students[0], column=column, text="7",
              base_version=None)  # fmt: skip
    lock(actor=principal, school=school, year=class_a.year, term=2, reason="Hết năm")
    newest = LedgerCheckpoint.objects.order_by("-number").first()
    assert newest.number == 2 and newest.seq == made.seq + 1
    assert newest.previous == checkpoints.Statement.of(made, school).digest()
    assert verify(school).ok


def test_daily_command_checkpoints_schools_whose_chain_moved(three_saves, capsys):
    call_command("checkpoint_ledger")
    call_command("checkpoint_ledger")
    assert LedgerCheckpoint.objects.filter(school=three_saves).count() == 1
    out = capsys.readouterr().out
    assert f"{three_saves.code}: checkpoint 1 at event #3" in out


def test_a_checkpoint_signed_with_another_key_is_refused(three_saves):
    made = checkpoints.make_checkpoint(three_saves, reason="manual")
    statement = checkpoints.Statement.of(made, three_saves)
    forged = base64.b64encode(Ed25519PrivateKey.generate().sign(statement.canonical())).decode()
    with behind_the_guards() as cursor:
        cursor.execute("UPDATE gradebook_ledgercheckpoint SET signature = %s", [forged])
    assert kinds(three_saves) == {"checkpoint_signature"}


def test_a_removed_checkpoint_leaves_a_gap(three_saves, class_a, teacher, student, maths_columns):
    checkpoints.make_checkpoint(three_saves, reason="manual")
    for text in ("5", "6"):
        mark = Mark.objects.get(student=student, slot="1", kind="tx")
        save_mark(actor=teacher, class_group=class_a, student=student,
                  column=maths_columns["1:tx:1"], text=text, base_version=mark.version)  # fmt: skip
        checkpoints.make_checkpoint(three_saves, reason="manual")
    with behind_the_guards() as cursor:
        cursor.execute("DELETE FROM gradebook_ledgercheckpoint WHERE number = 2")
    assert kinds(three_saves) == {"checkpoint_gap"}


def test_a_checkpoint_kept_outside_finds_removed_newest_checkpoints(three_saves, tmp_path, capsys):
    """The newest checkpoints removed and the chain cut back: the database alone is
    consistent; the copy of the checkpoint kept outside (e.g. in a package) is not."""
    made = checkpoints.make_checkpoint(three_saves, reason="package")
    copy = tmp_path / "checkpoint.json"
    copy.write_bytes(checkpoints.document(made, three_saves))
    with behind_the_guards() as cursor:
        cursor.execute("DELETE FROM gradebook_ledgercheckpoint")
    _cut_newest_event(three_saves)
    assert kinds(three_saves) == set()
    external = [checkpoints.read_document(copy.read_bytes())]
    assert kinds(three_saves, external=external) == {"checkpoint_missing", "truncated"}
    with pytest.raises(CommandError):
        call_command("verify_ledger", school=three_saves.code, checkpoint=[str(copy)])
    out = capsys.readouterr().out
    assert "[truncated] event #3" in out and "[checkpoint_missing]" in out


def test_verify_ledger_says_since_when_the_chain_is_anchored(
    three_saves, capsys, class_a, teacher, student, maths_columns
):
    call_command("verify_ledger", school=three_saves.code)
    assert "not anchored" in capsys.readouterr().out
    made = checkpoints.make_checkpoint(three_saves, reason="manual")
    mark = Mark.objects.get(student=student, slot="1", kind="tx")
    save_mark(actor=teacher, class_group=class_a, student=student,
              column=maths_columns["1:tx:1"], text="4", base_version=mark.version)  # fmt: skip
    call_command("verify_ledger", school=three_saves.code)
    out = capsys.readouterr().out
    assert "ledger intact, 4 event(s)" in out
    assert f"since {made.at:%Y-%m-%d %H:%M} UTC; up to event #3 by checkpoint 1" in out
    assert "events #4–#4 not yet anchored" in out


def test_a_checkpoint_document_is_checked_against_the_trusted_keys(three_saves):
    made = checkpoints.make_checkpoint(three_saves, reason="package")
    payload = json.loads(checkpoints.document(made, three_saves))
    payload["statement"]["seq"] = 2  # claims less of the chain
    statement, signature = checkpoints.read_document(json.dumps(payload).encode())
    assert checkpoints.signature_problem(statement, signature) == "its signature does not verify"
    with pytest.raises(ValueError):
        checkpoints.read_document(b'{"statement": {"type": "other"}}')


def test_the_checkpoint_key_is_created_readable_by_its_owner_only(settings, tmp_path, three_saves):
    settings.LEDGER_CHECKPOINT_KEY_FILE = tmp_path / "keys" / "checkpoint.pem"
    checkpoints.make_checkpoint(three_saves, reason="manual")
    assert stat.S_IMODE(os.stat(settings.LEDGER_CHECKPOINT_KEY_FILE).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "keys").st_mode) == 0o700


def test_events_written_before_cells_were_recorded_still_verify(three_saves):
    """The chain of a database from before: events without a cell, hashed without it."""
    with behind_the_guards() as cursor:
        previous = "0" * 64
        for event in MarkEvent.objects.order_by("seq"):
            event.cell, event.prev_hash = "", previous
            event.hash = previous = event_digest(event)
            cursor.execute(
                "UPDATE gradebook_markevent SET cell = '', prev_hash = %s, hash = %s WHERE id = %s",
                [event.prev_hash, event.hash, event.pk],
            )
        cursor.execute("UPDATE gradebook_ledgerhead SET hash = %s", [previous])
    report = verify(three_saves)
    assert report.ok and report.legacy_events == 3


def test_a_package_verifier_checks_a_checkpoint_document_with_the_key_it_names(three_saves):
    """What a verifier outside the school can check: the document is this school's and its
    signature holds under the key it names."""
    made = checkpoints.make_checkpoint(three_saves, reason="package")
    data = checkpoints.document(made, three_saves)
    assert checkpoints.document_problem(data, school_code=three_saves.code) is None
    assert checkpoints.document_problem(data, school_code="OTHER") == "school"
    payload = json.loads(data)
    payload["statement"]["seq"] = 1
    assert (
        checkpoints.document_problem(json.dumps(payload).encode(), school_code=three_saves.code)
        == "signature"
    )
    assert checkpoints.document_problem(b"{}", school_code=three_saves.code) == "malformed"
