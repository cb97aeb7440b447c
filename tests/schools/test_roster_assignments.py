"""Importing teaching assignments: subjects of the grade's curriculum, teachers of this school."""

import io

import openpyxl
import pytest

from schools.models import Subject, TeachingAssignment
from schools.roster_import.service import import_roster

HEADER = ["Lớp", "Mã môn học", "Tên đăng nhập giáo viên"]


pytestmark = pytest.mark.usefixtures("english")  # tests/conftest.py


def xlsx(rows: list[list], header: list = HEADER) -> bytes:
    workbook = openpyxl.Workbook()
    for row in [header, *rows]:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run(world, data: bytes, **kwargs):
    school = world["school_a"]
    return import_roster(
        school=school,
        year=school.current_year(),
        kind="assignments",
        data=data,
        filename="phan-cong.xlsx",
        **kwargs,
    )


def assignments(world) -> set[tuple[str, str, str]]:
    rows = TeachingAssignment.objects.filter(class_group__year__school=world["school_a"])
    return set(rows.values_list("class_group__name", "subject__code", "teacher__username"))


def test_assignments_are_created_and_existing_ones_left_unchanged(world):
    outcome = run(world, xlsx([["6A1", "TOAN", "teacher"], ["6A2", "toan", "teacher"]]))
    assert outcome.ok, outcome.errors
    assert [(c.created, c.unchanged) for c in outcome.counts] == [(1, 1)]
    assert ("6A2", "TOAN", "teacher") in assignments(world)


def test_reimporting_assignments_changes_nothing(world):
    data = xlsx([["6A2", "KHTN", "homeroom"]])
    run(world, data)
    before = assignments(world)
    outcome = run(world, data)
    assert [(c.created, c.unchanged) for c in outcome.counts] == [(0, 1)]
    assert assignments(world) == before


def test_subject_by_name_and_teacher_by_email(world):
    world["users"]["teacher"].email = "Teacher@School-A.edu.vn"
    world["users"]["teacher"].save()
    header = ["Lớp", "Môn học", "Email"]
    outcome = run(world, xlsx([["6A2", "khoa học tự nhiên", "teacher@school-a.edu.vn"]], header))
    assert outcome.ok, outcome.errors
    assert ("6A2", "KHTN", "teacher") in assignments(world)


def test_subject_not_in_the_grade_curriculum_is_an_error(world):
    Subject.objects.create(school=world["school_a"], code="TC", name="Tự chọn")
    before = assignments(world)
    outcome = run(world, xlsx([["6A2", "TIN", "teacher"], ["6A2", "TC", "teacher"]]))
    assert [(e.row, e.column) for e in outcome.errors] == [(3, "Mã môn học")]
    assert "curriculum" in outcome.errors[0].message
    assert assignments(world) == before


def test_teacher_of_another_school_is_not_found(world):
    outcome = run(world, xlsx([["6A2", "TOAN", "outsider"]]))
    assert [(e.row, e.column) for e in outcome.errors] == [(2, "Tên đăng nhập giáo viên")]
    assert "No active teacher of this school" in outcome.errors[0].message


def test_principal_without_teacher_role_is_not_a_teacher(world):
    outcome = run(world, xlsx([["6A2", "TOAN", "principal"]]))
    assert [e.column for e in outcome.errors] == ["Tên đăng nhập giáo viên"]


def test_unknown_class_subject_and_teacher_are_all_reported(world):
    outcome = run(world, xlsx([["6A9", "XYZ", "nobody"]]))
    assert [e.column for e in outcome.errors] == HEADER


def test_same_assignment_twice_names_the_first_row(world):
    outcome = run(world, xlsx([["6A2", "TOAN", "teacher"], ["6a2", "Toan", "TEACHER"]]))
    assert [(e.row, e.message) for e in outcome.errors] == [
        (3, "The same assignment is also on row 2.")
    ]
