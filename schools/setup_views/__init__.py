"""The school admin's set-up pages, under /s/<code>/setup/ in the `schools` namespace."""

from schools.setup_views.assignments import assignment_create, assignment_delete, assignments
from schools.setup_views.classes import class_create, class_edit, class_renumber, classes
from schools.setup_views.curriculum import (
    curriculum,
    curriculum_entry_create,
    curriculum_entry_edit,
    curriculum_load_defaults,
    subject_create,
    subject_edit,
    subjects,
)
from schools.setup_views.school import school_details
from schools.setup_views.staff import (
    teacher_add_existing,
    teacher_create,
    teacher_deactivate,
    teacher_edit,
    teachers,
)
from schools.setup_views.students import (
    student_create,
    student_edit,
    student_move,
    student_transfer,
    students,
)
from schools.setup_views.years import year_create, year_edit, year_make_current, years

__all__ = [
    "assignment_create",
    "assignment_delete",
    "assignments",
    "class_create",
    "class_edit",
    "class_renumber",
    "classes",
    "curriculum",
    "curriculum_entry_create",
    "curriculum_entry_edit",
    "curriculum_load_defaults",
    "school_details",
    "student_create",
    "student_edit",
    "student_move",
    "student_transfer",
    "students",
    "subject_create",
    "subject_edit",
    "subjects",
    "teacher_add_existing",
    "teacher_create",
    "teacher_deactivate",
    "teacher_edit",
    "teachers",
    "year_create",
    "year_edit",
    "year_make_current",
    "years",
]
