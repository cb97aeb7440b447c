"""Teaching assignments: one row per (class, subject, teacher) of the school year.

The subject is found by code, or by name when the file has no code; it must be in the curriculum
of the class's grade. The teacher is found by username, or by email when the file has no username,
among the active teachers of this school only: a user of another school is not found.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from accounts.models import Membership, Role, User
from schools.models import ClassGroup, School, SchoolYear, Subject, TeachingAssignment
from schools.roster_import import values
from schools.roster_import.columns import Header, Record
from schools.roster_import.errors import RowError
from schools.roster_import.validate import Count, RowCleaner, classes_by_name, find_class


@dataclass
class AssignmentPlan:
    errors: list[RowError] = field(default_factory=list)
    new: list[TeachingAssignment] = field(default_factory=list)
    unchanged: int = 0

    def counts(self) -> list[Count]:
        return [Count(_("Teaching assignments"), created=len(self.new), unchanged=self.unchanged)]


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


@dataclass
class _Lookup:
    classes: dict[str, ClassGroup]
    subjects_by_code: dict[str, Subject]
    subjects_by_name: dict[str, Subject]
    curriculum: set[tuple[int, int]]  # (grade, subject id)
    teachers_by_username: dict[str, User]
    teachers_by_email: dict[str, User]
    existing: set[tuple[int, int, int]]  # (teacher id, class id, subject id)

    @classmethod
    def load(cls, *, school: School, year: SchoolYear) -> _Lookup:
        subjects = list(Subject.objects.filter(school=school))
        teacher_ids = Membership.objects.active().filter(school=school, role=Role.TEACHER)
        teachers = list(
            User.objects.filter(pk__in=teacher_ids.values("user_id")).annotate(
                email_lower=Lower("email")
            )
        )
        return cls(
            classes=classes_by_name(year),
            subjects_by_code={s.code.casefold(): s for s in subjects},
            subjects_by_name={_name_key(s.name): s for s in subjects},
            curriculum=set(year.curriculum.values_list("grade", "subject_id")),
            teachers_by_username={t.username.casefold(): t for t in teachers},
            teachers_by_email={t.email_lower: t for t in teachers if t.email_lower},
            existing=set(
                TeachingAssignment.objects.filter(class_group__year=year).values_list(
                    "teacher_id", "class_group_id", "subject_id"
                )
            ),
        )


def _pick(cleaner: RowCleaner, first: str, second: str) -> str:
    """The column to read: `first` unless its cell is blank and the file has `second`."""
    if cleaner.is_blank(first) and second in cleaner.header.positions:
        return second
    return first if first in cleaner.header.positions else second


def _find_subject(cleaner: RowCleaner, key: str, lookup: _Lookup) -> Subject | None:
    value = cleaner.get(key, lambda c: values.text(c, max_length=120), required=True)
    if value is None:
        return None
    if key == "subject_code":
        subject = lookup.subjects_by_code.get(value.casefold())
        message = _("This school has no subject with the code %(value)s.")
    else:
        subject = lookup.subjects_by_name.get(_name_key(value))
        message = _("This school has no subject named %(value)s.")
    if subject is None:
        cleaner.error(key, message % {"value": value})
    return subject


def _find_teacher(cleaner: RowCleaner, lookup: _Lookup) -> User | None:
    key = _pick(cleaner, "teacher_username", "teacher_email")
    by_username = key == "teacher_username"
    value = cleaner.get(key, values.username if by_username else values.email, required=True)
    if value is None:
        return None
    if by_username:
        teacher = lookup.teachers_by_username.get(value.casefold())
        message = _("No active teacher of this school has the username %(value)s.")
    else:
        teacher = lookup.teachers_by_email.get(value)
        message = _("No active teacher of this school has the email %(value)s.")
    if teacher is None:
        cleaner.error(key, message % {"value": value})
    return teacher


def plan_assignments(
    records: list[Record], *, header: Header, school: School, year: SchoolYear
) -> AssignmentPlan:
    plan = AssignmentPlan()
    lookup = _Lookup.load(school=school, year=year)
    seen: dict[tuple[int, int, int], int] = {}
    for record in records:
        cleaner = RowCleaner(record, header, plan.errors)
        name = cleaner.get("class_name", lambda c: values.text(c, max_length=20), required=True)
        class_group = find_class(cleaner, name, lookup.classes, year)
        subject_key = _pick(cleaner, "subject_code", "subject_name")
        subject = _find_subject(cleaner, subject_key, lookup)
        teacher = _find_teacher(cleaner, lookup)
        if class_group is None or subject is None or teacher is None or not cleaner.ok:
            continue
        if (class_group.grade, subject.pk) not in lookup.curriculum:
            cleaner.error(
                subject_key,
                _("Grade %(grade)s does not study %(subject)s in %(year)s (see the curriculum).")
                % {"grade": class_group.grade, "subject": subject.name, "year": year.name},
            )
            continue
        triple = (teacher.pk, class_group.pk, subject.pk)
        if triple in seen:
            cleaner.error(
                subject_key,
                _("The same assignment is also on row %(row)s.") % {"row": seen[triple]},
            )
            continue
        seen[triple] = cleaner.row
        if triple in lookup.existing:
            plan.unchanged += 1
        else:
            plan.new.append(
                TeachingAssignment(teacher=teacher, class_group=class_group, subject=subject)
            )
    return plan
