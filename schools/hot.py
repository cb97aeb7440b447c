"""The hand-written statements of access: every authenticated request reads the user's
memberships, every grid page and cell save its subject book.

Compiling a queryset costs more CPU than running its SQL (bench/RESULTS.md, 2026-12-05: the
subject book's query took 1.8 ms to compile, 0.2 ms to run), so these are written once, as
text, with the toolkit of config/sql.py, and give the ORM's own instances. Beside each function
`<name>` stands `<name>_orm`, the same through the ORM: it says what the SQL means, and
tests/gradebook/test_hot_sql.py holds every pair equal on SQLite and PostgreSQL. A new fast
path comes here only with a measurement that shows the need (docs/development.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import Membership
from config import sql
from schools.models import (
    ClassGroup,
    CurriculumEntry,
    Enrollment,
    School,
    SchoolYear,
    Student,
    Subject,
    TeachingAssignment,
)

# --- The user's memberships --------------------------------------------------------------------

_MEMBERSHIPS = sql.statement(
    """
    SELECT {s.columns}, m."role"
    FROM {m.table} m JOIN {s.table} s ON s."id" = m."school_id"
    WHERE m."user_id" = %s AND m."is_active" = %s
    """,
    m=Membership,
    s=School,
)


def memberships(user_id: int) -> list[tuple[School, str]]:
    """The user's active memberships: (school, role), one a membership, in no set order."""
    return [
        (sql.build(School, row[:-1]), row[-1])
        for row in sql.fetch_all(_MEMBERSHIPS, [user_id, True])
    ]


def memberships_orm(user_id: int) -> list[tuple[School, str]]:
    found = Membership.objects.filter(user_id=user_id, is_active=True).select_related("school")
    return [(membership.school, membership.role) for membership in found]


# --- A subject's gradebook ---------------------------------------------------------------------


@dataclass(frozen=True)
class SubjectBook:
    """A class × subject gradebook as the access getters read it."""

    class_group: ClassGroup  # with its year, and the year with its school
    entry: CurriculumEntry  # the subject in the class's curriculum, with the subject
    teaches: bool  # the user is assigned to teach this subject to this class
    enrollment: Enrollment | None = None  # with the student, when one was asked for and is in


# The same statement with and without a student's enrolment, composed from these parts.
_BOOK_COLUMNS = """
    SELECT {c.columns}, {y.columns}, {e.columns}, {s.columns},
        EXISTS (
            SELECT 1 FROM {t.table} t
            WHERE t."class_group_id" = c."id" AND t."subject_id" = %s AND t."teacher_id" = %s
        )
"""
_ENROLLMENT_COLUMNS = ", {n.columns}, {p.columns}"
_BOOK_TABLES = """
    FROM {c.table} c
    JOIN {y.table} y ON y."id" = c."year_id"
    LEFT JOIN {e.table} e
        ON e."year_id" = c."year_id" AND e."grade" = c."grade" AND e."subject_id" = %s
    LEFT JOIN {s.table} s ON s."id" = e."subject_id"
"""
_ENROLLMENT_TABLES = """
    LEFT JOIN {n.table} n ON n."class_group_id" = c."id" AND n."student_id" = %s
    LEFT JOIN {p.table} p ON p."id" = n."student_id"
"""
_BOOK_WHERE = """
    WHERE c."id" = %s AND y."school_id" = %s
"""
_BOOK_MODELS = dict(c=ClassGroup, y=SchoolYear, e=CurriculumEntry, s=Subject, t=TeachingAssignment)
_BOOK = sql.statement(_BOOK_COLUMNS + _BOOK_TABLES + _BOOK_WHERE, **_BOOK_MODELS)
_BOOK_AND_ENROLLMENT = sql.statement(
    _BOOK_COLUMNS + _ENROLLMENT_COLUMNS + _BOOK_TABLES + _ENROLLMENT_TABLES + _BOOK_WHERE,
    **_BOOK_MODELS,
    n=Enrollment,
    p=Student,
)
_SELECTED = (ClassGroup, SchoolYear, CurriculumEntry, Subject)  # in this order, then "teaches"
_TEACHES_AT = sum(sql.width(model) for model in _SELECTED)  # then the enrolment and student


def subject_book(
    *, school: School, class_id: int, subject_id: int, user_id: int, student_id: int | None = None
) -> SubjectBook | None:
    """The school's class with this subject's curriculum entry, whether the user teaches it
    and (given `student_id`) the student's enrolment in the class: one statement. None when
    the school has no such class or the subject is not in the class's curriculum."""
    if not sql.ids_fit(class_id, subject_id, user_id, student_id):
        return None  # an id from the address or a request beyond the database's: no such row
    params = [subject_id, user_id, subject_id, class_id, school.pk]
    statement = _BOOK
    if student_id is not None:
        statement = _BOOK_AND_ENROLLMENT
        params.insert(3, student_id)
    row = sql.fetch_one(statement, params)
    if row is None:
        return None
    class_group, year, entry, subject = sql.build_all(row[:_TEACHES_AT], *_SELECTED)
    if entry is None:
        return None
    assert isinstance(class_group, ClassGroup) and isinstance(year, SchoolYear)  # inner joins
    assert isinstance(entry, CurriculumEntry) and isinstance(subject, Subject)  # the entry's
    enrollment = None
    if student_id is not None:
        found, student = sql.build_all(row[_TEACHES_AT + 1 :], Enrollment, Student)
        if found is not None:
            assert isinstance(found, Enrollment) and isinstance(student, Student)  # its student
            found.student = student
            enrollment = found
    year.school = school
    class_group.year = year
    entry.subject = subject
    return SubjectBook(class_group, entry, bool(row[_TEACHES_AT]), enrollment)


def subject_book_orm(
    *, school: School, class_id: int, subject_id: int, user_id: int, student_id: int | None = None
) -> SubjectBook | None:
    if not sql.ids_fit(class_id, subject_id, user_id, student_id):
        return None  # a foreign key's lookup is not guarded by the ORM as a primary key's is
    classes = ClassGroup.objects.select_related("year").filter(year__school=school)
    class_group = classes.filter(pk=class_id).first()
    if class_group is None:
        return None
    entry = (
        CurriculumEntry.objects.select_related("subject")
        .filter(year_id=class_group.year_id, grade=class_group.grade, subject_id=subject_id)
        .first()
    )
    if entry is None:
        return None
    class_group.year.school = school
    teaches = TeachingAssignment.objects.filter(
        class_group=class_group, subject_id=subject_id, teacher_id=user_id
    ).exists()
    enrollment = None
    if student_id is not None:
        enrollments = Enrollment.objects.select_related("student")
        enrollment = enrollments.filter(class_group=class_group, student_id=student_id).first()
    return SubjectBook(class_group, entry, teaches, enrollment)
