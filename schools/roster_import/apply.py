"""Carry out a plan that has no errors. Called inside the import's transaction (service.py),
so a failure part-way leaves the database as it was."""

from __future__ import annotations

from accounts.models import Membership, Role, User
from schools.invitations import invite_to_staff
from schools.models import (
    ClassGroup,
    Enrollment,
    School,
    SchoolYear,
    Student,
    TeachingAssignment,
)
from schools.roster_import.assignments import AssignmentPlan
from schools.roster_import.students import StudentPlan
from schools.roster_import.teachers import TeacherPlan
from schools.services import renumber_class
from schools.subject_choices import set_choices

BATCH = 500


def apply_students(plan: StudentPlan) -> None:
    """Create and update students, enrol them, and renumber the classes whose list changed
    (a new student, or a student whose name changed and so moves in the order)."""
    Student.objects.bulk_create([a.student for a in plan.actions if a.is_new], batch_size=BATCH)
    updated = [a.student for a in plan.actions if a.changed]
    if updated:
        fields = sorted({name for a in plan.actions for name in a.changed})
        Student.objects.bulk_update(updated, fields, batch_size=BATCH)
    Enrollment.objects.bulk_create(
        [
            Enrollment(student=a.student, class_group=a.class_group)
            for a in plan.actions
            if a.enroll
        ],
        batch_size=BATCH,
    )
    touched: dict[int, ClassGroup] = {
        a.class_group.pk: a.class_group
        for a in plan.actions
        if a.enroll or "full_name" in a.changed
    }
    for class_group in touched.values():
        renumber_class(class_group=class_group)
    by_grade: dict[tuple[int, int], dict[int, tuple[set[str], set[str]]]] = {}
    for a in plan.actions:  # grades 10-12: the rows' subject choices, checked when planned
        if a.choices is not None:
            key = (a.class_group.year_id, a.class_group.grade)
            by_grade.setdefault(key, {})[a.student.pk] = a.choices
    for (year_id, grade), choices in by_grade.items():
        set_choices(year=SchoolYear.objects.get(pk=year_id), grade=grade, choices=choices)


def apply_assignments(plan: AssignmentPlan) -> None:
    TeachingAssignment.objects.bulk_create(plan.new, batch_size=BATCH)


def apply_teachers(plan: TeacherPlan, *, school: School, actor: User | None) -> None:
    User.objects.bulk_create(plan.new_users, batch_size=BATCH)
    Membership.objects.bulk_create(
        [Membership(user=user, school=school, role=Role.TEACHER) for user in plan.new_members],
        batch_size=BATCH,
    )
    for user in plan.invited:
        invite_to_staff(school=school, inviter=actor, user=user, roles=[Role.TEACHER])
