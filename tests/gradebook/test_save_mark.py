import pytest
from django.db import connection

from gradebook.models import Lock, Mark, MarkEvent
from gradebook.services import Conflict, InvalidValue, Locked, save_mark


def save(class_a, teacher, student, column, text, version=None, **kw):
    return save_mark(
        actor=teacher, class_group=class_a, student=student, column=column, text=text,
        base_version=version, **kw,
    )  # fmt: skip


def test_save_stores_canonical_value_and_appends_one_event(
    class_a, teacher, student, maths_columns
):
    result = save(
        class_a, teacher, student, maths_columns["1:tx:1"], " 7,5 ", 0, client_ip="10.0.0.7"
    )
    assert (result.mark.value, result.mark.version) == ("7.5", 1)
    event = MarkEvent.objects.get()
    assert (event.old_value, event.new_value, event.actor, event.client_ip) == (
        "",
        "7.5",
        teacher,
        "10.0.0.7",
    )
    assert event.seq == 1


def test_unchanged_value_writes_nothing(class_a, teacher, student, maths_columns):
    save(class_a, teacher, student, maths_columns["1:gk:"], "8", 0)
    result = save(class_a, teacher, student, maths_columns["1:gk:"], "8.0", 1)
    assert not result.changed
    assert MarkEvent.objects.count() == 1


@pytest.mark.parametrize("text", ["7.25", "11", "-1", "abc", "1e1", "NaN"])
def test_invalid_scores_are_refused_and_nothing_is_written(
    class_a, teacher, student, maths_columns, text
):
    with pytest.raises(InvalidValue):
        save(class_a, teacher, student, maths_columns["1:ck:"], text, 0)
    assert not MarkEvent.objects.exists()
    assert not Mark.objects.exclude(value="").exists()


def test_stale_version_is_a_conflict_carrying_the_current_value(
    class_a, teacher, student, maths_columns
):
    save(class_a, teacher, student, maths_columns["1:tx:2"], "6", 0)
    with pytest.raises(Conflict) as conflict:
        save(class_a, teacher, student, maths_columns["1:tx:2"], "9", 0)
    assert (conflict.value.mark.value, conflict.value.mark.version) == ("6", 1)
    assert Mark.objects.get().value == "6"


def test_clearing_a_mark_is_a_change_like_any_other(class_a, teacher, student, maths_columns):
    save(class_a, teacher, student, maths_columns["1:tx:3"], "5", 0)
    save(class_a, teacher, student, maths_columns["1:tx:3"], "", 1)
    assert list(MarkEvent.objects.values_list("new_value", flat=True)) == ["5", ""]


def test_locked_cell_rejects_edit(class_a, teacher, principal, student, maths_columns):
    Lock.objects.create(school=class_a.year.school, year=class_a.year, term=1, kind="locked",
                        reason="Khóa sổ HK I", created_by=principal)  # fmt: skip
    with pytest.raises(Locked):
        save(class_a, teacher, student, maths_columns["1:tx:1"], "7", 0)


def test_lock_of_another_subject_does_not_apply(
    class_a, teacher, principal, student, maths_columns
):
    literature = class_a.year.school.subjects.get(code="NV")
    Lock.objects.create(school=class_a.year.school, year=class_a.year, term=1, subject=literature,
                        class_group=class_a, kind="submitted", created_by=principal)  # fmt: skip
    assert save(class_a, teacher, student, maths_columns["1:tx:1"], "7", 0).changed


def test_student_not_in_class_is_refused(class_a, class_a2, teacher, maths_columns):
    outsider = class_a2.enrollments.get().student
    with pytest.raises(InvalidValue):
        save(class_a, teacher, outsider, maths_columns["1:tx:1"], "7", 0)


def test_comment_longer_than_the_school_limit_is_refused(class_a, teacher, student, maths_columns):
    with pytest.raises(InvalidValue):
        save(class_a, teacher, student, maths_columns["1:comment:"], "x" * 301, 0)
    assert (
        save(class_a, teacher, student, maths_columns["1:comment:"], "Em  học tốt", 0).mark.value
        == "Em học tốt"
    )


def test_ledger_rows_cannot_be_updated_or_deleted(class_a, teacher, student, maths_columns):
    save(class_a, teacher, student, maths_columns["1:tx:1"], "7", 0)
    event = MarkEvent.objects.get()
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        MarkEvent.objects.update(new_value="10")
    with pytest.raises(TypeError):
        MarkEvent.objects.all().delete()


@pytest.mark.django_db(transaction=True)
def test_database_trigger_refuses_raw_update(class_a, teacher, student, maths_columns):
    from django.db import DatabaseError

    save(class_a, teacher, student, maths_columns["1:tx:1"], "7", 0)
    with pytest.raises(DatabaseError), connection.cursor() as cursor:
        cursor.execute("UPDATE gradebook_markevent SET new_value = '10'")
