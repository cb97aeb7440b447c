"""Completion dashboards: which class × subject gradebooks of a term are missing marks, which
are submitted, which are still open. The school view for leadership, the class view for the
homeroom teacher (with the missing cells per student)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.http import AuthenticatedRequest
from gradebook.completeness import BookStatus, class_book_statuses, school_book_statuses
from schools.access import OVERVIEW_ROLES, get_homeroom_book, get_school
from schools.models import ClassGroup, SchoolYear, Student, Subject


def requested_term(request: HttpRequest, year: SchoolYear | None) -> int:
    """?term=1|2, else the term in progress (term II once it has started)."""
    asked = request.GET.get("term")
    if asked in ("1", "2"):
        return int(asked)
    if year is not None:
        second = next((t for t in year.terms.all() if t.number == 2), None)
        if second is not None and timezone.localdate() >= second.starts_on:
            return 2
    return 1


@dataclass(frozen=True)
class ClassRow:
    class_group: ClassGroup
    cells: list[BookStatus | None]  # one per subject column; None: not in this grade

    @property
    def filled(self) -> int:
        return sum(s.filled for s in self.cells if s)

    @property
    def required(self) -> int:
        return sum(s.required for s in self.cells if s)

    @property
    def percent(self) -> int:
        return round(100 * self.filled / self.required) if self.required else 100


def percent(status: BookStatus) -> int:
    return round(100 * status.filled / status.required) if status.required else 100


def school_completion(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """Leadership's matrix class × subject for a term: filled/required and the book's state."""
    access = get_school(request, code, roles=OVERVIEW_ROLES)
    year = access.year
    term = requested_term(request, year)
    rows: list[ClassRow] = []
    subjects: list[Subject] = []
    if year is not None:
        classes = list(ClassGroup.objects.filter(year=year).order_by("grade", "name"))
        statuses = school_book_statuses(year, classes, term)
        seen = {s.entry.subject_id: s.entry.subject for ss in statuses.values() for s in ss}
        subjects = sorted(seen.values(), key=lambda s: (s.order, s.code))
        for class_group in classes:
            by_subject = {s.entry.subject_id: s for s in statuses[class_group.pk]}
            rows.append(ClassRow(class_group, [by_subject.get(s.pk) for s in subjects]))
    states = [s.state for row in rows for s in row.cells if s]
    totals = {
        "books": len(states),
        "complete": sum(1 for row in rows for s in row.cells if s and s.complete),
        "submitted": states.count("submitted"),
        "locked": states.count("locked"),
    }
    return render(
        request,
        "gradebook/completion.html",
        {
            "access": access,
            "year": year,
            "term": term,
            "subjects": subjects,
            "rows": rows,
            "totals": totals,
        },
    )


@dataclass(frozen=True)
class SubjectBook:
    """One subject gradebook of the homeroom class, its teachers, and the missing cells grouped
    by student."""

    status: BookStatus
    teachers: list[str]
    missing_by_student: list[tuple[Student, list[str]]]

    @property
    def percent(self) -> int:
        return percent(self.status)


def _missing_by_student(status: BookStatus) -> list[tuple[Student, list[str]]]:
    grouped: dict[int, tuple[Student, list[str]]] = {}
    for student, column in status.missing:
        grouped.setdefault(student.pk, (student, []))[1].append(str(column.label))
    return list(grouped.values())


def class_completion(request: AuthenticatedRequest, code: str, class_pk: int) -> HttpResponse:
    """The homeroom teacher's view of their class: each subject's status and teachers, and the
    missing cells per student on demand."""
    access = get_school(request, code)
    class_group = get_homeroom_book(access, class_pk, write=False)
    term = requested_term(request, class_group.year)
    teachers: dict[int, list[str]] = defaultdict(list)
    for assignment in class_group.assignments.select_related("teacher").order_by("teacher__pk"):
        teachers[assignment.subject_id].append(assignment.teacher.display_name)
    books = [
        SubjectBook(status, teachers.get(status.entry.subject_id, []), _missing_by_student(status))
        for status in class_book_statuses(class_group, term)
    ]
    return render(
        request,
        "gradebook/completion_class.html",
        {
            "access": access,
            "class_group": class_group,
            "term": term,
            "books": books,
            "filled": sum(b.status.filled for b in books),
            "required": sum(b.status.required for b in books),
        },
    )
