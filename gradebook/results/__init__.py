"""Results computed from marks: the one narrow interface other apps (transcripts) read.

Every result is computed on demand from Mark rows through :mod:`gradebook.rules`; nothing is
stored or hand-maintained. A class costs a constant number of queries whatever its size: the
curriculum, the enrolments, the school's rule options, one query for all the marks and one for
the approved exemptions (an exempt subject is left out: docs/gradebook.md#exemptions).

- :func:`class_results`: every enrolled student of a class, for the class summary and charts.
- :func:`student_year_results`: one student's year, with the teachers' comments, for the
  transcript snapshot (transcripts read marks only through here).

``None`` always means incomplete (a required mark is empty): there is no partial average.
Each computed value has ``.explain()`` returning the rules' step-by-step
:class:`~gradebook.rules.Explanation` ("show the calculation").
"""

from __future__ import annotations

from django.db.models import Case, IntegerField, Value, When

from gradebook.results import primary, secondary
from gradebook.results.sheet import MarkSheet, subject_infos, subject_infos_by_grade
from gradebook.results.types import (
    Absences,
    AwardResult,
    ClassResults,
    Conduct,
    PrimaryStudentResults,
    PrimarySubjectResult,
    SecondaryStudentResults,
    StudentResults,
    StudentYearResults,
    SubjectInfo,
    TermSubjectResult,
    YearComments,
    YearSubjectResult,
)
from gradebook.rules import RulesOptions
from gradebook.services import settings_for
from schools.models import ClassGroup, Enrollment, SchoolYear, Student

__all__ = [
    "Absences",
    "AwardResult",
    "ClassResults",
    "Conduct",
    "NotEnrolled",
    "PrimaryStudentResults",
    "PrimarySubjectResult",
    "SecondaryStudentResults",
    "StudentResults",
    "StudentYearResults",
    "SubjectInfo",
    "TermSubjectResult",
    "YearComments",
    "YearSubjectResult",
    "class_results",
    "is_primary",
    "school_year_results",
    "student_year_results",
]


class NotEnrolled(LookupError):
    """The student has no class in that school year."""


def is_primary(class_group: ClassGroup) -> bool:
    """Grades 1-5 follow Circular 27; grades 6-12 Circular 22."""
    return class_group.grade <= 5


def _compute(
    class_group: ClassGroup,
    enrollments: list[Enrollment],
    options: RulesOptions | None,
) -> tuple[tuple[SubjectInfo, ...], MarkSheet, tuple[StudentResults, ...]]:
    subjects = subject_infos(class_group.year_id, class_group.grade)
    student_ids = [e.student_id for e in enrollments]
    sheet = MarkSheet.load(
        year=class_group.year_id, student_ids=student_ids, upper=class_group.grade >= 10
    )
    return subjects, sheet, _results(class_group, enrollments, options, subjects, sheet)


def _results(
    class_group: ClassGroup,
    enrollments: list[Enrollment],
    options: RulesOptions | None,
    subjects: tuple[SubjectInfo, ...],
    sheet: MarkSheet,
) -> tuple[StudentResults, ...]:
    if is_primary(class_group):
        return tuple(
            primary.student_results(
                sheet=sheet,
                student=e.student,
                roll_number=e.roll_number,
                subjects=subjects,
                grade=class_group.grade,
            )
            for e in enrollments
        )
    if options is None:
        options = settings_for(class_group.year.school_id).rules_options
    return tuple(
        secondary.student_results(
            sheet=sheet,
            student=e.student,
            roll_number=e.roll_number,
            subjects=subjects,
            grade=class_group.grade,
            options=options,
        )
        for e in enrollments
    )


def _studied(
    class_group: ClassGroup,
    subjects: tuple[SubjectInfo, ...],
    results: tuple[StudentResults, ...],
) -> tuple[SubjectInfo, ...]:
    """The class's subjects, without (grades 10-12) the electives none of its students chose."""
    if class_group.grade < 10:
        return subjects
    return tuple(
        s
        for s in subjects
        if any(isinstance(r, SecondaryStudentResults) and r.takes(s.code) for r in results)
    )


def class_results(
    class_group: ClassGroup, *, options: RulesOptions | None = None, include_left: bool = False
) -> ClassResults:
    """The results of every student enrolled in the class (those who left only with
    ``include_left``), in roll order, for the class's year. ``options`` defaults to the school's
    GradebookSettings. Constant number of queries whatever the class size."""
    enrollments = class_group.enrollments.select_related("student").order_by("roll_number")
    if not include_left:
        enrollments = enrollments.filter(left_on__isnull=True)
    subjects, _sheet, results = _compute(class_group, list(enrollments), options)
    return ClassResults(
        class_group=class_group,
        primary=is_primary(class_group),
        subjects=_studied(class_group, subjects, results),
        students=results,
    )


def school_year_results(
    year: SchoolYear, *, options: RulesOptions | None = None
) -> list[ClassResults]:
    """:func:`class_results` of every class of a school year (current students), ordered by
    grade and name, for the year-end lists. A constant number of queries whatever the number of
    classes and students: the classes, the curriculum, the enrolments, the school's rule
    options and one query for all the marks."""
    classes = list(
        ClassGroup.objects.filter(year=year).select_related("year").order_by("grade", "name")
    )
    enrollments: dict[int, list[Enrollment]] = {c.pk: [] for c in classes}
    for enrollment in (
        Enrollment.objects.filter(class_group__year=year, left_on__isnull=True)
        .select_related("student")
        .order_by("roll_number", "student__pk")
    ):
        enrollments[enrollment.class_group_id].append(enrollment)
    sheet = MarkSheet.load(
        year=year,
        student_ids=[e.student_id for group in enrollments.values() for e in group],
        upper=any(c.grade >= 10 for c in classes),
    )
    subjects = subject_infos_by_grade(year.pk)
    if options is None:
        options = settings_for(year.school_id).rules_options
    found = []
    for c in classes:
        results = _results(c, enrollments[c.pk], options, subjects.get(c.grade, ()), sheet)
        studied = _studied(c, subjects.get(c.grade, ()), results)
        found.append(
            ClassResults(class_group=c, primary=is_primary(c), subjects=studied, students=results)
        )
    return found


def student_year_results(
    student: Student, year: SchoolYear, *, options: RulesOptions | None = None
) -> StudentYearResults:
    """One student's results for one school year (the transcript's page for that year), with
    the teachers' comments of the year, read with the marks.

    The class is the one the student is enrolled in now, else the one they joined last that
    year. Raises NotEnrolled (a LookupError) when the student has no class that year.
    """
    current_first = Case(
        When(left_on__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    enrollment = (
        Enrollment.objects.filter(student=student, class_group__year=year)
        .select_related("class_group", "class_group__year", "student")
        .order_by(current_first, "-joined_on", "-pk")
        .first()
    )
    if enrollment is None:
        raise NotEnrolled(f"student {student.pk} has no class in year {year.pk}")
    class_group = enrollment.class_group
    subjects, sheet, (results,) = _compute(class_group, [enrollment], options)
    return StudentYearResults(
        student=student,
        year=year,
        class_group=class_group,
        primary=is_primary(class_group),
        subjects=subjects,
        results=results,
        comments=sheet.comments(student.pk),
    )
