"""The hand-written statements of the hot paths (config/sql.py) say what the ORM says: the same
instances, the same covering lock, the same rows written. Run on SQLite and PostgreSQL by CI."""

import datetime
import itertools

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from config import sql
from gradebook.columns import homeroom_columns, subject_columns
from gradebook.ledger import verify_chain
from gradebook.models import LedgerHead, Lock, LockKind, Mark, MarkEvent
from gradebook.services import cell_lock, save_mark
from schools.models import ClassGroup, CurriculumEntry, Enrollment


def fields(instance):
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def loaded(model, pk):
    row = sql.fetch_one(
        sql.statement('SELECT {x.columns} FROM {x.table} x WHERE x."id" = %s', x=model), [pk]
    )
    return sql.build(model, row)


@pytest.mark.parametrize("model", [ClassGroup, CurriculumEntry, Enrollment])
def test_built_instances_equal_the_orms(class_a, model):
    for original in model.objects.all():
        assert fields(loaded(model, original.pk)) == fields(original)


def test_built_date_times_are_aware_and_equal(class_a, principal):
    lock = Lock.objects.create(
        school=class_a.year.school, year=class_a.year, kind=LockKind.LOCKED, reason="r",
        created_by=principal, released_at=timezone.now(),
    )  # fmt: skip
    built = loaded(Lock, lock.pk)
    assert timezone.is_aware(built.starts_at) and timezone.is_aware(built.released_at)
    assert fields(built) == fields(Lock.objects.get(pk=lock.pk))


def lock_variants(class_a, class_a2, principal):
    """Locks of every shape: with and without class, subject and term; released; future."""
    maths = class_a.year.school.subjects.get(code="TOAN")
    literature = class_a.year.school.subjects.get(code="NV")
    now = timezone.now()
    shapes = itertools.product(
        (None, class_a, class_a2), (None, maths, literature), (None, 0, 1, 2)
    )
    for index, (class_group, subject, term) in enumerate(shapes):
        Lock.objects.create(
            school=class_a.year.school, year=class_a.year, class_group=class_group,
            subject=subject, term=term, kind=LockKind.LOCKED, reason=f"lock {index}",
            created_by=principal, starts_at=now - datetime.timedelta(minutes=index),
            released_at=now if index % 5 == 0 else None,
        )  # fmt: skip
    Lock.objects.create(
        school=class_a.year.school, year=class_a.year, kind=LockKind.LOCKED, reason="future",
        created_by=principal, starts_at=now + datetime.timedelta(days=1),
    )  # fmt: skip


def orm_cell_lock(class_group, column):
    covering = Lock.objects.covering(
        year_id=class_group.year_id, term=column.term, class_group_id=class_group.pk,
        subject_id=column.subject_id,
    )  # fmt: skip
    return covering.order_by("starts_at").first()


def test_cell_lock_is_the_orms_covering_lock_for_every_shape(class_a, class_a2, principal):
    entry = class_a.year.curriculum.get(grade=class_a.grade, subject__code="TOAN")
    columns = [*subject_columns(entry, 1), *subject_columns(entry, 2)]
    columns += [*homeroom_columns(primary=False, term=1), *homeroom_columns(primary=False, term=2)]
    assert cell_lock(class_group=class_a, column=columns[0]) is None
    lock_variants(class_a, class_a2, principal)
    found = set()
    for class_group, column in itertools.product((class_a, class_a2), columns):
        expected = orm_cell_lock(class_group, column)
        assert cell_lock(class_group=class_group, column=column) == expected
        found.add(expected.reason)
    assert len(found) > 4  # the cases above reach different locks
    Lock.objects.update(released_at=timezone.now())
    assert cell_lock(class_group=class_a, column=columns[0]) is None


def test_a_save_writes_what_the_orm_reads_back(class_a, teacher, student, maths_columns):
    column = maths_columns["1:tx:1"]
    save = dict(actor=teacher, class_group=class_a, student=student, column=column,
                base_version=None, client_ip="::ffff:10.0.0.7")  # fmt: skip
    first = save_mark(text="7,5", **save)
    second = save_mark(text="8", **save)
    mark = Mark.objects.get(pk=second.mark.pk)
    assert (mark.value, mark.version, mark.updated_by) == ("8", 2, teacher)
    assert mark.updated_at == second.event.at
    events = list(MarkEvent.objects.filter(mark=mark).order_by("seq"))
    assert [e.pk for e in events] == [first.event.pk, second.event.pk]
    assert model_to_dict(events[1]) == model_to_dict(second.event)
    assert events[1].client_ip == "10.0.0.7"
    head = LedgerHead.objects.get(school=class_a.year.school)
    assert (head.seq, head.hash) == (events[1].seq, events[1].hash)
    assert list(verify_chain(class_a.year.school)) == []


def test_select_for_update_finds_null_columns_and_nothing_else(class_a, homeroom, student):
    column = homeroom_columns(primary=False, term=1)[0]
    save_mark(actor=homeroom, class_group=class_a, student=student, column=column, text="T",
              base_version=None)  # fmt: skip
    key = dict(student=student, year_id=class_a.year_id, term=1, kind=column.kind,
               slot=column.slot)  # fmt: skip
    assert sql.select_for_update(Mark, subject=None, **key).value == "T"
    assert sql.select_for_update(Mark, subject=class_a.year.school.subjects.first(), **key) is None
