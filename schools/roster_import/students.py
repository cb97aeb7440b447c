"""Students: one row per student with the class they are in this school year.

A row is matched to a stored student by personal ID; failing that, by student code when the name
and date of birth agree (the row then corrects a mistyped personal ID). A matched student gets
the row's non-blank values (a blank cell never erases data) and is enrolled in the class unless
already there. Moving a student between classes is not done by import.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import partial

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from schools.models import ClassGroup, Enrollment, School, SchoolYear, Student
from schools.programme import is_upper_secondary
from schools.roster_import import values
from schools.roster_import.columns import Header, Record
from schools.roster_import.errors import RowError
from schools.roster_import.validate import Count, RowCleaner, classes_by_name, find_class
from schools.subject_choices import choice_problems, offered_codes, split_import_cell
from schools.validators import validate_personal_id_matches

TEXT_FIELDS = {
    "full_name": 150,
    "place_of_birth": 200,
    "ethnicity": 50,
    "nationality": 50,
    "residence": 300,
    "father_name": 150,
    "mother_name": 150,
    "guardian_name": 150,
}


# Students ---------------------------------------------------------------------------------------


@dataclass
class StudentAction:
    row: int
    student: Student  # unsaved when new; changed fields already set when matched
    is_new: bool
    changed: list[str]
    class_group: ClassGroup
    enroll: bool
    #: Grades 10-12: (electives, subjects whose clusters are taken) from the "subject choices"
    #: cell, replacing the student's choices of the year; None: the cell is blank.
    choices: tuple[set[str], set[str]] | None = None


@dataclass
class StudentPlan:
    errors: list[RowError] = field(default_factory=list)
    actions: list[StudentAction] = field(default_factory=list)

    def counts(self) -> list[Count]:
        students = Count(_("Students"))
        enrollments = Count(_("Class enrollments"))
        for a in self.actions:
            if a.is_new:
                students.created += 1
            elif a.changed:
                students.updated += 1
            else:
                students.unchanged += 1
            if a.enroll:
                enrollments.created += 1
            else:
                enrollments.unchanged += 1
        return [students, enrollments]


def _clean_student(cleaner: RowCleaner) -> dict[str, object]:
    """Model field → value for every non-blank cell (plus `class_name`)."""
    get = cleaner.get
    fields: dict[str, object | None] = {
        key: get(key, partial(values.text, max_length=n), required=key == "full_name")
        for key, n in TEXT_FIELDS.items()
    }
    fields["sex"] = sex = get("sex", values.sex, required=True)
    fields["date_of_birth"] = born = get("date_of_birth", values.date_of_birth, required=True)
    fields["personal_id"] = personal_id = get("personal_id", values.personal_id, required=True)
    fields["student_code"] = get("student_code", values.student_code, required=True)
    fields["guardian_phone"] = get("guardian_phone", values.phone)
    fields["class_name"] = get("class_name", partial(values.text, max_length=20), required=True)
    fields["registration_number"] = get("registration_number", values.registration_number)
    fields["admission_date"] = admitted = get("admission_date", values.admission_date)
    fields["subject_choices"] = get("subject_choices", partial(values.text, max_length=200))
    if admitted and born and admitted <= born:
        cleaner.error("admission_date", _("The date of admission must be after the date of birth."))
    if personal_id and sex and born:
        try:
            validate_personal_id_matches(personal_id, sex=sex, date_of_birth=born)
        except ValidationError as exc:
            cleaner.error("personal_id", exc.messages[0])
    return {k: v for k, v in fields.items() if v is not None}


@dataclass
class _StudentLookup:
    classes: dict[str, ClassGroup]
    by_personal_id: dict[str, Student]
    by_code: dict[str, Student]
    enrollments: dict[int, list[Enrollment]]  # student id → enrollments of the year
    by_registration: dict[str, Student] = field(default_factory=dict)

    @classmethod
    def load(
        cls,
        *,
        school: School,
        year: SchoolYear,
        personal_ids: set[str],
        codes: set[str],
        registrations: Collection[str] = frozenset(),
    ) -> _StudentLookup:
        by_personal_id = {
            s.personal_id: s
            for s in Student.objects.filter(school=school, personal_id__in=personal_ids)
        }
        by_code = {
            s.student_code: s for s in Student.objects.filter(school=school, student_code__in=codes)
        }
        for student in list(by_code.values()):  # one instance per student, whichever way found
            by_code[student.student_code] = by_personal_id.get(student.personal_id, student)
        ids = {s.pk for s in (*by_personal_id.values(), *by_code.values())}
        enrollments: dict[int, list[Enrollment]] = {}
        for e in Enrollment.objects.filter(
            class_group__year=year, student_id__in=ids
        ).select_related("class_group"):
            enrollments.setdefault(e.student_id, []).append(e)
        by_registration = {
            s.registration_number: s
            for s in Student.objects.filter(school=school, registration_number__in=registrations)
        }
        return cls(classes_by_name(year), by_personal_id, by_code, enrollments, by_registration)


def _same_person(student: Student, fields: dict[str, object]) -> bool:
    return (
        " ".join(student.full_name.split()).casefold() == str(fields["full_name"]).casefold()
        and student.date_of_birth == fields["date_of_birth"]
    )


def _match_student(
    cleaner: RowCleaner, fields: dict[str, object], lookup: _StudentLookup
) -> Student | None:
    """The stored student this row is about: by personal ID; else by student code when the
    name and date of birth agree (the row then corrects the personal ID); else a new student."""
    by_id = lookup.by_personal_id.get(str(fields["personal_id"]))
    by_code = lookup.by_code.get(str(fields["student_code"]))
    if by_id and by_code and by_id.pk != by_code.pk:
        cleaner.error(
            "student_code",
            _("This student code belongs to %(other)s, but the personal ID belongs to %(name)s.")
            % {"other": by_code.full_name, "name": by_id.full_name},
        )
        return None
    if by_id or by_code is None:
        return by_id
    if not _same_person(by_code, fields):
        cleaner.error(
            "student_code",
            _(
                "This student code belongs to %(name)s, born %(date)s, who has another personal "
                "ID. Check the student code and the personal ID."
            )
            % {"name": by_code.full_name, "date": _date(by_code.date_of_birth)},
        )
        return None
    return by_code


def _registration_taken(
    cleaner: RowCleaner, student: Student | None, fields: dict[str, object], lookup: _StudentLookup
) -> None:
    """A registration number held by another student of the school is an error."""
    holder = lookup.by_registration.get(str(fields.get("registration_number", "")))
    if holder is not None and (student is None or holder.pk != student.pk):
        cleaner.error(
            "registration_number",
            _("This registration number belongs to %(name)s.") % {"name": holder.full_name},
        )


def _date(day: datetime.date) -> str:
    return day.strftime("%d/%m/%Y")


def _needs_enrollment(
    cleaner: RowCleaner, student: Student, class_group: ClassGroup, lookup: _StudentLookup
) -> bool:
    """A new enrollment is needed unless the student is already in this class. A student in
    another class of the year, or who left this one, is moved on the student's page."""
    enrollments = lookup.enrollments.get(student.pk, []) if student.pk else []
    for e in enrollments:
        if e.left_on is None and e.class_group_id != class_group.pk:
            cleaner.error(
                "class_name",
                _(
                    "%(name)s is already in class %(other)s this school year. Move a student "
                    "between classes on the student's page, not by import."
                )
                % {"name": student.full_name, "other": e.class_group.name},
            )
            return False
        if e.class_group_id == class_group.pk and e.left_on is not None:
            cleaner.error(
                "class_name",
                _("%(name)s left class %(class)s on %(date)s; re-admit them on the student's page.")
                % {"name": student.full_name, "class": class_group.name, "date": _date(e.left_on)},
            )
            return False
    return not any(e.class_group_id == class_group.pk for e in enrollments)


def _choices(
    cleaner: RowCleaner,
    fields: dict[str, object],
    class_group: ClassGroup,
    offered: dict[int, set[str]],
) -> tuple[set[str], set[str]] | None:
    """The row's subject choices (docs/curriculum.md#subject-choices-in-grades-10-to-12), each
    broken rule an error of the cell; None for a blank cell."""
    text = fields.pop("subject_choices", None)
    if text is None:
        return None
    if not is_upper_secondary(class_group.grade):
        cleaner.error("subject_choices", _("Students choose subjects in grades 10 to 12 only."))
        return None
    electives, topics = split_import_cell(str(text))
    for message in choice_problems(electives, topics, offered.get(class_group.grade, set())):
        cleaner.error("subject_choices", message)
    return electives, topics


def _apply_fields(student: Student, fields: dict[str, object]) -> list[str]:
    """Set the fields that differ; a blank cell never erases what is stored."""
    changed = []
    for name, value in fields.items():
        if name != "class_name" and getattr(student, name) != value:
            setattr(student, name, value)
            changed.append(name)
    return changed


def plan_students(
    records: list[Record], *, header: Header, school: School, year: SchoolYear
) -> StudentPlan:
    plan = StudentPlan()
    cleaned: list[tuple[RowCleaner, dict[str, object]]] = []
    seen_ids: dict[str, int] = {}
    seen_codes: dict[str, int] = {}
    seen_registrations: dict[str, int] = {}
    for record in records:
        cleaner = RowCleaner(record, header, plan.errors)
        fields = _clean_student(cleaner)
        cleaner.once("personal_id", fields.get("personal_id"), seen_ids)
        cleaner.once("student_code", fields.get("student_code"), seen_codes)
        cleaner.once("registration_number", fields.get("registration_number"), seen_registrations)
        cleaned.append((cleaner, fields))
    lookup = _StudentLookup.load(
        school=school,
        year=year,
        personal_ids={str(f["personal_id"]) for _, f in cleaned if "personal_id" in f},
        codes={str(f["student_code"]) for _, f in cleaned if "student_code" in f},
        registrations={
            str(f["registration_number"]) for _, f in cleaned if "registration_number" in f
        },
    )
    matched: dict[int, int] = {}  # student id → row
    offered = offered_codes(year) if any("subject_choices" in f for _, f in cleaned) else {}
    for cleaner, fields in cleaned:
        class_group = find_class(cleaner, fields.get("class_name"), lookup.classes, year)
        if not cleaner.ok or class_group is None:
            continue
        choices = _choices(cleaner, fields, class_group, offered)
        student = _match_student(cleaner, fields, lookup)
        _registration_taken(cleaner, student, fields, lookup)
        if student is not None and student.pk in matched:
            cleaner.error(
                "personal_id",
                _("This row and row %(row)s are the same student, %(name)s.")
                % {"row": matched[student.pk], "name": student.full_name},
            )
        if not cleaner.ok:
            continue
        if student is None:
            student = Student(school=school)
        enroll = _needs_enrollment(cleaner, student, class_group, lookup)
        if not cleaner.ok:
            continue
        if student.pk:
            matched[student.pk] = cleaner.row
        is_new = student.pk is None
        changed = _apply_fields(student, fields)
        plan.actions.append(
            StudentAction(
                cleaner.row,
                student,
                is_new,
                [] if is_new else changed,
                class_group,
                enroll,
                choices,
            )
        )
    return plan
