"""The teacher's day on the school's dashboard (issue 17): each of their books — class × subject
× term, and the homeroom book of a homeroom teacher — with its state, the cells still missing and
the lock date ahead, each linking to its grid. Six queries for any number of books. Handed to the
dashboard of schools when the app loads (gradebook/apps.py)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils import timezone

from gradebook.completeness import lock_state, missing_homeroom_cells, status_of
from gradebook.models import SCHOOL_TIMEZONE, CellScope, Exemption, Lock, LockKind, Mark
from schools.access import SchoolAccess
from schools.models import (
    ClassGroup,
    CurriculumEntry,
    Enrollment,
    Student,
    Subject,
    TeachingAssignment,
)

TERMS = (1, 2)


@dataclass(frozen=True)
class TermBook:
    """One term of a book: its state ("open", "submitted", "locked"), the required cells still
    empty and the moment a lock not yet in force will close it."""

    term: int
    state: str
    missing: int
    required: int
    deadline: datetime.date | None  # the day it locks, Vietnamese time
    url: str


@dataclass(frozen=True)
class TeacherBook:
    class_group: ClassGroup
    subject: Subject | None  # None: the class's homeroom book
    terms: tuple[TermBook, ...]

    @property
    def key(self) -> str:
        return f"{self.class_group.pk}-{self.subject.pk if self.subject else 'homeroom'}"


def teacher_books(access: SchoolAccess) -> list[TeacherBook]:
    """The user's books of the current year, subject books first, in the dashboard's order."""
    year = access.year
    if year is None:
        return []
    user_id = access.user.pk
    assignments = list(
        TeachingAssignment.objects.filter(teacher_id=user_id, class_group__year=year)
        .select_related("class_group", "subject")
        .order_by("class_group__grade", "class_group__name", "subject__order")
    )
    homerooms = list(ClassGroup.objects.filter(year=year, homeroom_teacher_id=user_id))
    classes = {a.class_group.pk: a.class_group for a in assignments} | {c.pk: c for c in homerooms}
    if not classes:
        return []
    entries = {
        (e.grade, e.subject_id): e
        for e in CurriculumEntry.objects.filter(
            year=year,
            grade__in={c.grade for c in classes.values()},
            subject_id__in={a.subject_id for a in assignments},
        )
    }
    students: dict[int, list[Student]] = defaultdict(list)
    current = Enrollment.objects.filter(class_group_id__in=classes, left_on__isnull=True)
    for enrollment in current.select_related("student").order_by("roll_number"):
        students[enrollment.class_group_id].append(enrollment.student)
    filled: dict[int, set[tuple[int, int | None, str, str]]] = defaultdict(set)
    subject_ids = [a.subject_id for a in assignments]
    marks = Mark.objects.filter(
        year=year, term__in=TERMS, student__in=current.values("student_id")
    ).exclude(value="")
    if not homerooms:
        marks = marks.filter(subject_id__in=subject_ids)
    for student_id, subject_id, kind, slot, term in marks.values_list(
        "student_id", "subject_id", "kind", "slot", "term"
    ):
        filled[term].add((student_id, subject_id, kind, slot))
    exempt = Exemption.objects.approved_cells(
        year_id=year.pk, student_ids=current.values("student_id")
    )
    now = timezone.now()
    locks = list(Lock.objects.filter(year=year, released_at__isnull=True))
    active = [lock for lock in locks if lock.starts_at <= now]
    scheduled = sorted(
        (lock for lock in locks if lock.starts_at > now and lock.kind == LockKind.LOCKED),
        key=lambda lock: lock.starts_at,
    )
    code = access.school.code

    def deadline(
        class_group: ClassGroup, subject_id: int | None, term: int
    ) -> datetime.date | None:
        cell = CellScope(
            year_id=year.pk, class_group_id=class_group.pk, subject_id=subject_id, term=term
        )
        first = next((lock.starts_at for lock in scheduled if cell.covers(lock)), None)
        return None if first is None else timezone.localtime(first, SCHOOL_TIMEZONE).date()

    books = []
    for a in assignments:
        entry = entries.get((a.class_group.grade, a.subject_id))
        if entry is None:  # assigned a subject the grade does not study
            continue
        terms = []
        for term in TERMS:
            status = status_of(
                a.class_group, entry, term, students[a.class_group.pk], filled[term], active, exempt
            )
            url = reverse(
                "gradebook:grid",
                kwargs={"code": code, "class_pk": a.class_group.pk, "subject_pk": a.subject_id,
                        "term": term},
            )  # fmt: skip
            terms.append(
                TermBook(
                    term,
                    status.state,
                    len(status.missing),
                    status.required,
                    deadline(a.class_group, a.subject_id, term),
                    url,
                )
            )
        books.append(TeacherBook(a.class_group, a.subject, tuple(terms)))
    for c in homerooms:
        terms = []
        for term in TERMS:
            missing, required = missing_homeroom_cells(c, term, students[c.pk], filled[term])
            state = lock_state(active, class_group=c, subject_id=None, term=term)[0]
            url = reverse(
                "gradebook:homeroom", kwargs={"code": code, "class_pk": c.pk, "term": term}
            )
            terms.append(TermBook(term, state, missing, required, deadline(c, None, term), url))
        books.append(TeacherBook(c, None, tuple(terms)))
    return books


def dashboard_books(access: SchoolAccess) -> dict[str, Any]:
    """The dashboard's part: `teacher_books`."""
    return {"teacher_books": teacher_books(access)}
