"""Test helpers: marks written straight into the table (results read Mark rows only)."""

from __future__ import annotations

from gradebook.columns import COMPETENCIES, QUALITIES, subject_columns
from gradebook.models import YEAR_TERM, Kind, Mark
from schools.models import ClassGroup, Student

SCORED = ("NV", "TOAN", "NN1", "GDCD", "LSDL", "KHTN", "CN", "TIN")
COMMENTED = ("GDTC", "NT", "HDTN", "GDDP")

REASSESSMENT_CASE = dict(
    zip(SCORED, ["6", "4.6", "3.2", "7.5", "6.8", "5.4", "7", "8"], strict=True)
)


def cell(student: Student, term: int, kind: str, value: str, subject=None, slot: str = "") -> Mark:
    return Mark(school_id=student.school_id, year=student.school.current_year(), term=term,
                student=student, subject=subject, kind=kind, slot=slot, value=value)  # fmt: skip


def subject_marks(class_group: ClassGroup, student: Student, code: str, term: int, value: str):
    """Every assessment column of a subject in a term set to `value` (term result = value)."""
    entry = class_group.year.curriculum.get(grade=class_group.grade, subject__code=code)
    return [
        cell(student, term, c.kind, value, entry.subject, c.slot)
        for c in subject_columns(entry, term)
        if c.kind != Kind.COMMENT
    ]


def year_of(class_group, student, scores: dict[str, str], comments="D", terms=(1, 2)) -> None:
    """Both terms of every subject: scored ones at `scores[code]`, comment ones at `comments`."""
    rows = []
    for term in terms:
        for code, value in scores.items():
            rows += subject_marks(class_group, student, code, term, value)
        for code in COMMENTED:
            rows += subject_marks(class_group, student, code, term, comments)
    Mark.objects.bulk_create(rows)


def homeroom_marks(student, *, conduct=("T", "T"), absences=(0, 0), conduct_re=None) -> None:
    rows = [cell(student, t, Kind.CONDUCT, level) for t, level in enumerate(conduct, 1)]
    rows += [cell(student, t, Kind.ABSENT_UNEXCUSED, str(n)) for t, n in enumerate(absences, 1)]
    if conduct_re:
        rows.append(cell(student, YEAR_TERM, Kind.CONDUCT_REASSESSED, conduct_re))
    Mark.objects.bulk_create(rows)


def all_scored(value: str) -> dict[str, str]:
    return dict.fromkeys(SCORED, value)


def primary_year(class_group, student, *, levels=None, tests=None, quality="T") -> None:
    """End-of-year levels (default HTT), tests and every quality/competency."""
    rows = []
    for entry in class_group.year.curriculum.filter(grade=class_group.grade):
        code = entry.subject.code
        rows.append(
            cell(student, 2, Kind.LEVEL, (levels or {}).get(code, "HTT"), entry.subject, "end")
        )
        if entry.periodic_test:
            rows.append(cell(student, 2, Kind.TEST, (tests or {}).get(code, "10"), entry.subject,
                             "end"))  # fmt: skip
    rows += [cell(student, 2, Kind.QUALITY, quality, slot=code) for code, _ in QUALITIES]
    rows += [cell(student, 2, Kind.COMPETENCY, quality, slot=code) for code, _ in COMPETENCIES]
    Mark.objects.bulk_create(rows)
