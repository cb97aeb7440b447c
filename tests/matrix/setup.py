"""The school admin's set-up pages: only SETUP_ROLES (admin) of the school; another school's
objects are 404 even for the admin; POST-only URLs answer GET with 405 once logged in."""

from tests.matrix import Row, everyone, school_a

PAGE = everyone(403, admin=200, outsider=404)
"""A set-up page of school A."""
WRITE = everyone(403, admin=302, outsider=404)
"""A POST that does its work and redirects."""
FORM_ERRORS = everyone(403, admin=200, outsider=404)
"""An empty POST to a form: the form comes back with its errors."""
ELSEWHERE = everyone(403, admin=404, outsider=404)
"""School B's object in a URL of school A."""
POST_ONLY = everyone(405)


def year(w: dict) -> dict:
    return {**school_a(w), "pk": w["school_a"].current_year().pk}


def year_b(w: dict) -> dict:
    return {**school_a(w), "pk": w["school_b"].current_year().pk}


def subject(w: dict) -> dict:
    return {**school_a(w), "pk": w["school_a"].subjects.get(code="TOAN").pk}


def subject_b(w: dict) -> dict:
    return {**school_a(w), "pk": w["school_b"].subjects.get(code="TOAN").pk}


def entry(w: dict) -> dict:
    entries = w["school_a"].current_year().curriculum
    return {**school_a(w), "pk": entries.get(grade=6, subject__code="TOAN").pk}


def entry_b(w: dict) -> dict:
    entries = w["school_b"].current_year().curriculum
    return {**school_a(w), "pk": entries.get(grade=6, subject__code="TOAN").pk}


def class_a(w: dict) -> dict:
    return {**school_a(w), "pk": w["class_a"].pk}


def class_b(w: dict) -> dict:
    return {**school_a(w), "pk": w["class_b"].pk}


def teacher(w: dict) -> dict:
    return {**school_a(w), "pk": w["users"]["teacher"].pk}


def outsider(w: dict) -> dict:
    return {**school_a(w), "pk": w["users"]["outsider"].pk}


def assignment(w: dict) -> dict:
    return {**school_a(w), "pk": w["class_a"].assignments.get(subject__code="TOAN").pk}


def student_a(w: dict) -> dict:
    return {**school_a(w), "pk": w["student_a"].pk}


def student_b(w: dict) -> dict:
    return {**school_a(w), "pk": w["student_b"].pk}


def post(name: str, kwargs, expect: dict, label: str = "") -> Row:
    return Row(name, kwargs, expect, label=label, method="POST")


ROWS = [
    # The school's details
    Row("schools:setup_school", school_a, PAGE),
    post("schools:setup_school", school_a, WRITE),
    # Years
    Row("schools:setup_years", school_a, PAGE),
    Row("schools:setup_year_create", school_a, PAGE),
    post("schools:setup_year_create", school_a, FORM_ERRORS),
    Row("schools:setup_year_edit", year, PAGE),
    post("schools:setup_year_edit", year, FORM_ERRORS),
    Row("schools:setup_year_edit", year_b, ELSEWHERE, label="other school's year"),
    Row("schools:setup_year_make_current", year, POST_ONLY),
    post("schools:setup_year_make_current", year, WRITE),
    post("schools:setup_year_make_current", year_b, ELSEWHERE, label="other school's year"),
    # Classes
    Row("schools:setup_classes", school_a, PAGE),
    Row("schools:setup_class_create", school_a, PAGE),
    post("schools:setup_class_create", school_a, FORM_ERRORS),
    Row("schools:setup_class_edit", class_a, PAGE),
    post("schools:setup_class_edit", class_a, FORM_ERRORS),
    Row("schools:setup_class_edit", class_b, ELSEWHERE, label="other school's class"),
    Row("schools:setup_class_renumber", class_a, POST_ONLY),
    post("schools:setup_class_renumber", class_a, WRITE),
    post("schools:setup_class_renumber", class_b, ELSEWHERE, label="other school's class"),
    # Subjects and curriculum
    Row("schools:setup_subjects", school_a, PAGE),
    Row("schools:setup_subject_create", school_a, PAGE),
    post("schools:setup_subject_create", school_a, FORM_ERRORS),
    Row("schools:setup_subject_edit", subject, PAGE),
    post("schools:setup_subject_edit", subject, FORM_ERRORS),
    Row("schools:setup_subject_edit", subject_b, ELSEWHERE, label="other school's subject"),
    Row("schools:setup_curriculum", year, PAGE),
    Row("schools:setup_curriculum", year_b, ELSEWHERE, label="other school's year"),
    Row("schools:setup_curriculum_entry_create", year, PAGE),
    post("schools:setup_curriculum_entry_create", year, FORM_ERRORS),
    Row("schools:setup_curriculum_entry_edit", entry, PAGE),
    post("schools:setup_curriculum_entry_edit", entry, FORM_ERRORS),
    Row("schools:setup_curriculum_entry_edit", entry_b, ELSEWHERE, label="other school's entry"),
    Row("schools:setup_curriculum_load_defaults", year, POST_ONLY),
    post("schools:setup_curriculum_load_defaults", year, WRITE),
    post("schools:setup_curriculum_load_defaults", year_b, ELSEWHERE, label="other school's"),
    # Teachers and staff
    Row("schools:setup_teachers", school_a, PAGE),
    Row("schools:setup_teacher_create", school_a, PAGE),
    post("schools:setup_teacher_create", school_a, FORM_ERRORS),
    Row("schools:setup_teacher_add_existing", school_a, PAGE),
    post("schools:setup_teacher_add_existing", school_a, FORM_ERRORS),
    Row("schools:setup_teacher_edit", teacher, PAGE),
    post("schools:setup_teacher_edit", teacher, FORM_ERRORS),
    Row("schools:setup_teacher_edit", outsider, ELSEWHERE, label="other school's staff"),
    Row("schools:setup_teacher_deactivate", teacher, POST_ONLY),
    post("schools:setup_teacher_deactivate", teacher, WRITE),
    post("schools:setup_teacher_deactivate", outsider, ELSEWHERE, label="other school's staff"),
    # Teaching assignments
    Row("schools:setup_assignments", school_a, PAGE),
    Row("schools:setup_assignment_create", school_a, PAGE),
    post("schools:setup_assignment_create", school_a, FORM_ERRORS),
    Row("schools:setup_assignment_delete", assignment, PAGE),
    post("schools:setup_assignment_delete", assignment, WRITE),
    # Students
    Row("schools:setup_students", school_a, PAGE),
    Row("schools:setup_student_create", school_a, PAGE),
    post("schools:setup_student_create", school_a, FORM_ERRORS),
    Row("schools:setup_student_edit", student_a, PAGE),
    post("schools:setup_student_edit", student_a, FORM_ERRORS),
    Row("schools:setup_student_edit", student_b, ELSEWHERE, label="other school's student"),
    Row("schools:setup_student_transfer", student_a, PAGE),
    post("schools:setup_student_transfer", student_a, FORM_ERRORS),
    Row("schools:setup_student_transfer", student_b, ELSEWHERE, label="other school's student"),
    Row("schools:setup_student_move", student_a, PAGE),
    post("schools:setup_student_move", student_a, FORM_ERRORS),
    Row("schools:setup_student_move", student_b, ELSEWHERE, label="other school's student"),
]
