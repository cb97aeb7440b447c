"""The hand-written statements of the hot paths (accounts/hot.py, schools/hot.py,
gradebook/hot.py, transcripts/hot.py) say what their ORM twins say: the same instances with the
same related objects, the same covering lock, the same rows written. Every pair runs here, on
the test database: SQLite in `make test`, PostgreSQL in CI's second run."""

import dataclasses
import datetime
import importlib
import inspect
import itertools

import pytest
from django.db import models, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

import accounts.hot
import gradebook.hot
import schools.hot
import transcripts.hot
from accounts.models import Membership, User
from config import sql
from gradebook.columns import homeroom_columns, subject_columns
from gradebook.ledger import GENESIS, event_digest, verify_chain
from gradebook.models import (
    CellScope,
    EventSource,
    Kind,
    LedgerHead,
    Lock,
    LockKind,
    Mark,
    MarkEvent,
)
from gradebook.services import cell_lock, save_mark
from schools.models import ClassGroup, CurriculumEntry, Enrollment, Subject
from transcripts.models import State, Transcript

HOT_MODULES = (accounts.hot, schools.hot, gradebook.hot, transcripts.hot)


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


def book_columns(class_a):
    """Both terms' columns of class A's maths book and of its homeroom book."""
    entry = class_a.year.curriculum.get(grade=class_a.grade, subject__code="TOAN")
    subject = [*subject_columns(entry, 1), *subject_columns(entry, 2)]
    return [
        *subject,
        *homeroom_columns(primary=False, term=1),
        *homeroom_columns(primary=False, term=2),
    ]


def test_cell_lock_is_the_orms_covering_lock_for_every_shape(class_a, class_a2, principal):
    columns = book_columns(class_a)
    assert cell_lock(class_group=class_a, column=columns[0]) is None
    lock_variants(class_a, class_a2, principal)
    found = set()
    for class_group, column in itertools.product((class_a, class_a2), columns):
        expected = gradebook.hot.cell_lock_orm(scope(class_group, column))
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


# --- Every statement against its ORM twin ------------------------------------------------------


def seen(value, *, new=False):
    """What a result says, to compare: an instance's model, field values and the related
    objects it carries (`new`: without its primary key, which PostgreSQL's sequences do not
    give back on a rollback); a dataclass's fields. Every date-time must be aware."""
    if isinstance(value, models.Model):
        values = {name: seen(v) for name, v in fields(value).items()}
        if new:
            values.pop(value._meta.pk.attname)
        related = {name: seen(v) for name, v in sorted(value._state.fields_cache.items())}
        return type(value).__name__, values, related
    if dataclasses.is_dataclass(value):
        return {f.name: seen(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [seen(item, new=new) for item in value]
    if isinstance(value, datetime.datetime):
        assert timezone.is_aware(value)
    return value


def scope(class_group, column):
    return CellScope(year_id=class_group.year_id, class_group_id=class_group.pk,
                     subject_id=column.subject_id, term=column.term)  # fmt: skip


def case_session_user(session_user, teacher, principal):
    User.objects.filter(pk=principal.pk).update(is_active=False)
    users = [session_user(user_id=pk) for pk in (teacher.pk, principal.pk, principal.pk + 1000)]
    assert users[0] is not None and users[2] is None
    return seen(users)


def case_memberships(memberships, teacher, outsider, principal):
    Membership.objects.filter(user=principal).update(is_active=False)
    found = [memberships(user_id=user.pk) for user in (teacher, outsider, principal)]
    assert [len(pairs) for pairs in found] == [1, 4, 0]
    return [seen(sorted(pairs, key=lambda pair: (pair[0].pk, pair[1]))) for pairs in found]


def case_subject_book(subject_book, class_a, class_a2, class_b, teacher, homeroom, principal):
    school_a, school_b = class_a.year.school, class_b.year.school
    untaught = Subject.objects.create(school=school_a, code="XX", name="Not in the curriculum")
    subjects = [*school_a.subjects.filter(code__in=("TOAN", "NV")), untaught]
    # 10**30: an id from a request beyond the database's (the ORM finds no row)
    students = [None, *(c.enrollments.first().student_id for c in (class_a, class_a2)), 10**30]
    calls = itertools.product(
        (school_a, school_b), (class_a.pk, class_a2.pk, class_b.pk, 10**6, 10**30), subjects,
        (teacher, homeroom, principal), students,
    )  # fmt: skip
    books = []
    for school, class_id, subject, user, student_id in calls:
        books.append(subject_book(school=school, class_id=class_id, subject_id=subject.pk,
                                  user_id=user.pk, student_id=student_id))  # fmt: skip
    found = [book for book in books if book is not None]
    assert {(book.teaches, book.enrollment is None) for book in found} == {
        (True, True), (True, False), (False, True), (False, False)
    }  # fmt: skip
    return seen(books)


@pytest.fixture
def locks(class_a, class_a2, principal):
    lock_variants(class_a, class_a2, principal)


@pytest.fixture
def marked(class_a, teacher, homeroom):
    """The first student of class A, with two maths cells of term I and a homeroom cell."""
    student = class_a.enrollments.order_by("roll_number").first().student
    columns = book_columns(class_a)
    maths = [c for c in columns if c.subject_id is not None and c.term == 1]
    homeroom_cell = next(c for c in columns if c.subject_id is None and c.term == 1)
    for column, actor, text in ((maths[0], teacher, "7"), (maths[1], teacher, "8"),
                                (homeroom_cell, homeroom, "T")):  # fmt: skip
        save_mark(actor=actor, class_group=class_a, student=student, column=column, text=text,
                  base_version=None)  # fmt: skip
    return student


def release_every_lock():
    Lock.objects.update(released_at=timezone.now())


def case_cell_lock(cell_lock, class_a, class_a2, class_b, locks):
    columns = book_columns(class_a)
    classes = (class_a, class_a2, class_b)
    cells = [scope(c, column) for c, column in itertools.product(classes, columns)]
    found = [cell_lock(cell=cell) for cell in cells]
    assert None in found and len(set(found)) > 4
    release_every_lock()
    assert {cell_lock(cell=cell) for cell in cells} == {None}
    return seen(found)


def case_lock_with_id(lock_with_id, locks):
    ids = [*Lock.objects.values_list("pk", flat=True), 10**6]
    return seen([lock_with_id(lock_id=pk) for pk in ids])


def case_locked_row(locked_row, class_a, marked, locks):
    other = class_a.enrollments.exclude(student=marked).first().student
    columns = book_columns(class_a)
    found = []
    for released in (False, True):
        if released:
            release_every_lock()
        for column, student in itertools.product(columns, (marked, other)):
            row = locked_row(cell=scope(class_a, column), student_id=student.pk)
            cells = {c.key: seen(row.cell(c)) for c in columns if c.term == column.term}
            found.append((row.lock_id, seen(row.lock()), row.values(), cells))
    assert {bool(values) for _, _, values, _ in found} == {True, False}
    assert {lock is None for _, lock, _, _ in found} == {True, False}
    return found


def case_locked_mark(locked_mark, class_a, marked):
    school_id, year_id = class_a.year.school_id, class_a.year_id
    maths = class_a.year.school.subjects.get(code="TOAN").pk
    found = []
    for subject_id, kind, slot, missing in (
        (maths, "tx", "1", False),  # exists
        (maths, "tx", "1", True),  # exists, though the caller thought not: it is locked
        (maths, "tx", "4", True),  # new
        (maths, "gk", "", False),  # new, looked for first
        (None, Kind.CONDUCT, "", False),  # the homeroom book's, exists
        (None, Kind.ABSENT_EXCUSED, "", True),  # the homeroom book's, new
    ):
        key = dict(subject_id=subject_id, kind=kind, slot=slot, missing=missing)
        mark = locked_mark(school_id=school_id, student_id=marked.pk, year_id=year_id, term=1,
                           **key)  # fmt: skip
        found.append(seen(mark, new=True))
    written = list(Mark.objects.filter(student=marked).order_by("subject_id", "kind", "slot"))
    assert len(written) == 3 + 3  # the three new cells, once each
    return found, seen(written, new=True)


def case_update_mark_value(update_mark_value, marked, homeroom):
    mark = Mark.objects.filter(student=marked, kind="tx").order_by("pk").first()
    mark.value, mark.version, mark.updated_by = "9.5", mark.version + 1, homeroom
    mark.updated_at = datetime.datetime(2026, 3, 2, 1, 2, 3, 456789, tzinfo=datetime.UTC)
    mark.slot = "not written"  # only the value, version, time and author are
    update_mark_value(mark=mark)
    return seen(Mark.objects.get(pk=mark.pk))


def case_locked_ledger_head(locked_ledger_head, class_a, class_b, marked):
    schools = (class_a.year.school_id, class_b.year.school_id)  # B's head is not there yet
    heads = [locked_ledger_head(school_id=pk, genesis=GENESIS) for pk in schools]
    return seen(heads), seen(list(LedgerHead.objects.order_by("school_id")))


def case_append_ledger_event(append_ledger_event, class_a, teacher, marked):
    school = class_a.year.school
    head = LedgerHead.objects.select_for_update().get(school=school)
    mark = Mark.objects.filter(student=marked, kind="tx").order_by("pk").first()
    Mark.objects.filter(pk=mark.pk).update(value="10", version=mark.version + 1)
    event = MarkEvent(
        school=school, seq=head.seq + 1, mark=mark, old_value=mark.value, new_value="10",
        version=mark.version + 1, actor=teacher, reason="", source=EventSource.GRID,
        at=datetime.datetime(2026, 3, 2, 1, 2, 3, 456789, tzinfo=datetime.UTC),
        client_ip="10.0.0.7", prev_hash=head.hash,
    )  # fmt: skip
    event.hash = event_digest(event)
    append_ledger_event(event=event, head=head)
    assert list(verify_chain(school)) == []  # the chain still verifies
    events = MarkEvent.objects.filter(school=school).order_by("seq")
    return seen(list(events), new=True), seen(LedgerHead.objects.get(school=school))


def case_ledger_cursor(ledger_cursor, class_a, class_b, marked):
    cursors = [ledger_cursor(school_id=c.year.school_id) for c in (class_a, class_b)]
    assert cursors == [3, 0]
    return cursors


def case_class_enrollment(class_enrollment, class_a, class_a2):
    students = [*(c.enrollments.first().student_id for c in (class_a, class_a2)), 10**6, 10**30]
    found = [class_enrollment(class_group_id=class_a.pk, student_id=pk) for pk in students]
    found.append(class_enrollment(class_group_id=-(10**30), student_id=students[0]))
    assert found[0] is not None and found[1:] == [None, None, None, None]
    return seen(found)


def case_transcript_state_beyond_draft(transcript_state_beyond_draft, class_a, class_a2):
    enrollments = [*class_a.enrollments.order_by("roll_number"), *class_a2.enrollments.all()]
    states = (State.DRAFT, State.READY, State.FINAL)
    for enrollment, state in zip(enrollments, states, strict=False):
        Transcript.objects.create(
            school=class_a.year.school, year=class_a.year, student=enrollment.student,
            class_group=enrollment.class_group, state=state,
        )  # fmt: skip
    found = [
        transcript_state_beyond_draft(student_id=e.student_id, year_id=class_a.year_id)
        for e in enrollments
    ]
    assert found == [None, State.READY, State.FINAL, None]
    return found


CASES = {
    "accounts.hot.session_user": case_session_user,
    "schools.hot.memberships": case_memberships,
    "schools.hot.subject_book": case_subject_book,
    "gradebook.hot.cell_lock": case_cell_lock,
    "gradebook.hot.lock_with_id": case_lock_with_id,
    "gradebook.hot.locked_row": case_locked_row,
    "gradebook.hot.locked_mark": case_locked_mark,
    "gradebook.hot.update_mark_value": case_update_mark_value,
    "gradebook.hot.locked_ledger_head": case_locked_ledger_head,
    "gradebook.hot.append_ledger_event": case_append_ledger_event,
    "gradebook.hot.ledger_cursor": case_ledger_cursor,
    "gradebook.hot.class_enrollment": case_class_enrollment,
    "transcripts.hot.transcript_state_beyond_draft": case_transcript_state_beyond_draft,
}


def hot_functions(module):
    """The module's statements: its public functions but the ORM twins."""
    return {
        f"{module.__name__}.{name}": function
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__
        and not name.startswith("_")
        and not name.endswith("_orm")
    }


def test_every_statement_has_an_orm_twin_and_a_case_here():
    found = {}
    for module in HOT_MODULES:
        found |= hot_functions(module)
    for name, function in found.items():
        twin = getattr(inspect.getmodule(function), function.__name__ + "_orm")
        assert inspect.signature(twin) == inspect.signature(function), name
    assert sorted(found) == sorted(CASES)


def twins(name):
    module, function = name.rsplit(".", 1)
    module = importlib.import_module(module)
    return getattr(module, function), getattr(module, function + "_orm")


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_statement_gives_what_its_orm_twin_gives(name, request):
    """The same case runs with the statement, then with its twin, each in a transaction
    rolled back at the end: results and what was written are compared."""
    case = CASES[name]
    parameters = list(inspect.signature(case).parameters)[1:]
    fixtures = {p: request.getfixturevalue(p) for p in parameters}
    outcomes = []
    for function in twins(name):
        with transaction.atomic():
            outcomes.append(case(function, **fixtures))
            transaction.set_rollback(True)
    assert outcomes[0] == outcomes[1]
