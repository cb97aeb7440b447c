import importlib

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from gradebook.ledger import verify_chain
from gradebook.models import Mark, MarkEvent
from gradebook.services import save_mark

SQLITE_FORWARD = importlib.import_module(
    "gradebook.migrations.0002_ledger_append_only"
).SQLITE_FORWARD


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
