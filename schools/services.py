"""Writes to the school structure. Each function is one transaction."""

from __future__ import annotations

import datetime

from django.db import transaction

from schools.curriculum import default_subject_orders, default_subjects_for_grade
from schools.models import (
    ClassGroup,
    CurriculumEntry,
    Enrollment,
    School,
    SchoolYear,
    Subject,
    Term,
)
from schools.names import vietnamese_name_key


@transaction.atomic
def create_school_year(
    *,
    school: School,
    start_year: int,
    term1: tuple[datetime.date, datetime.date],
    term2: tuple[datetime.date, datetime.date],
    make_current: bool = True,
) -> SchoolYear:
    """A new year with its two terms. Its curriculum is copied from the school's latest earlier
    year, or from the programme's defaults (docs/curriculum.md) for a first year."""
    previous = school.years.filter(start_year__lt=start_year).order_by("-start_year").first()
    if make_current:
        school.years.filter(is_current=True).update(is_current=False)
    year = SchoolYear.objects.create(school=school, start_year=start_year, is_current=make_current)
    Term.objects.create(year=year, number=1, starts_on=term1[0], ends_on=term1[1])
    Term.objects.create(year=year, number=2, starts_on=term2[0], ends_on=term2[1])
    if previous is not None and previous.curriculum.exists():
        CurriculumEntry.objects.bulk_create(
            CurriculumEntry(
                year=year,
                grade=e.grade,
                subject_id=e.subject_id,
                periods_per_year=e.periods_per_year,
                assessment=e.assessment,
                regular_marks_override=e.regular_marks_override,
                periodic_test=e.periodic_test,
                midterm_test=e.midterm_test,
            )
            for e in previous.curriculum.all()
        )
    else:
        load_default_curriculum(year=year)
    return year


@transaction.atomic
def load_default_curriculum(*, year: SchoolYear) -> int:
    """Add the programme's default subjects for every grade the school teaches; entries that
    already exist are left as the school edited them. Returns the number added."""
    school = year.school
    subjects = {s.code: s for s in school.subjects.all()}
    existing = set(year.curriculum.values_list("grade", "subject__code"))
    orders = default_subject_orders(school.grades)
    new_entries = []
    for grade in school.grades:
        for default, periods in default_subjects_for_grade(grade):
            subject = subjects.get(default.code)
            if subject is None:
                subject = Subject.objects.create(
                    school=school,
                    code=default.code,
                    name=default.name,
                    name_en=default.name_en,
                    order=orders[default.code],
                )
                subjects[default.code] = subject
            if (grade, default.code) in existing:
                continue
            new_entries.append(
                CurriculumEntry(
                    year=year,
                    grade=grade,
                    subject=subject,
                    periods_per_year=periods,
                    assessment=default.assessment,
                    periodic_test=default.periodic_test,
                    midterm_test=grade in default.midterm_test_grades,
                )
            )
    CurriculumEntry.objects.bulk_create(new_entries)
    return len(new_entries)


@transaction.atomic
def renumber_class(*, class_group: ClassGroup) -> None:
    """Roll numbers follow the Vietnamese class-list order: given name, then the rest."""
    enrollments = list(class_group.enrollments.select_related("student"))
    enrollments.sort(key=lambda e: vietnamese_name_key(e.student.full_name))
    for number, enrollment in enumerate(enrollments, start=1):
        enrollment.roll_number = number
    Enrollment.objects.bulk_update(enrollments, ["roll_number"])
