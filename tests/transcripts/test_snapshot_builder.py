"""The transcript snapshot: the same numbers as the gradebook, byte-stable canonical JSON."""

from __future__ import annotations

import datetime
import json

import pytest
from django.utils import translation

from accounts.models import Membership
from gradebook.models import Kind, Mark
from gradebook.results import student_year_results
from schools.models import ClassGroup, School, TeachingAssignment
from schools.services import create_school_year
from tests.conftest import add_students
from tests.gradebook.marks import (
    COMMENTED,
    SCORED,
    all_scored,
    cell,
    homeroom_marks,
    primary_year,
    year_of,
)
from transcripts.diff import snapshot_changes
from transcripts.snapshot import (
    ADDED_DEFAULTS,
    build_snapshot,
    canonical_json,
    printable,
    snapshot_digest,
)

# The example of docs/regulations.md#term-and-year-averages: tx 8, 7.5, 9, 6; gk 7; ck 8.5
# → ĐTBmhk I 7.8; term II at 8.3 → ĐTBmcn 8.1.
EXAMPLE_TERM1 = {"1": "8", "2": "7.5", "3": "9", "4": "6", "gk": "7", "ck": "8.5"}


def secondary_year(class_a, student) -> None:
    """Every subject at 8.3 both terms, then maths term I replaced by the example marks above."""
    year_of(class_a, student, all_scored("8.3"))
    maths = class_a.year.school.subjects.get(code="TOAN")
    for slot, value in EXAMPLE_TERM1.items():
        kind = Kind.REGULAR if slot.isdigit() else slot
        Mark.objects.filter(
            student=student, subject=maths, term=1, kind=kind, slot=slot if slot.isdigit() else ""
        ).update(value=value)
    homeroom_marks(student, conduct=("K", "T"), absences=(1, 2))
    Mark.objects.bulk_create(
        [
            cell(student, 2, Kind.COMMENT, "Tiến bộ rõ rệt, cần phát huy.", maths),
            cell(student, 2, Kind.HOMEROOM_COMMENT, "Ngoan, chăm chỉ, hoà đồng với bạn bè."),
        ]
    )


@pytest.fixture
def bình(class_a):
    student = class_a.enrollments.get(student__full_name="Nguyễn Văn Bình").student
    secondary_year(class_a, student)
    return student


def test_numbers_are_the_gradebooks(bình, class_a):
    snapshot = build_snapshot(bình, class_a.year)
    maths = next(s for s in snapshot["subjects"] if s["code"] == "TOAN")
    assert maths["term1"] == {"value": "7.8", "display": "7,8"}
    assert maths["year"] == {"value": "8.1", "display": "8,1"}
    assert maths["comment"] == "Tiến bộ rõ rệt, cần phát huy."
    results = student_year_results(bình, class_a.year).results
    for row in snapshot["subjects"]:
        expected = results.subject(row["code"])
        assert row["year"]["value"] == str(expected.value)
    assert snapshot["conduct"]["term1"]["display"] == "K"
    assert snapshot["absences"]["total"] == 3
    assert snapshot["homeroom_comment"] == "Ngoan, chăm chỉ, hoà đồng với bạn bè."


def test_comment_subjects_keep_the_code_đ_and_the_word_printed(bình, class_a):
    snapshot = build_snapshot(bình, class_a.year)
    art = next(s for s in snapshot["subjects"] if s["code"] == COMMENTED[0])
    assert art["year"] == {"value": "D", "display": "Đ", "name": "Đạt"}


def test_year_end_items(bình, class_a):
    snapshot = build_snapshot(bình, class_a.year)
    assert snapshot["learning"]["year"]["value"] == "T"
    assert snapshot["learning"]["year"]["adjusted_for"] is None
    assert snapshot["promotion"]["promoted"] is True
    assert snapshot["promotion"]["display"] == "Được lên lớp"
    assert snapshot["student"]["date_of_birth_display"] == "01/03/2014"
    assert snapshot["school"]["code"] == "SCHOOLA"


def test_canonical_json_is_byte_stable(bình, class_a):
    first = canonical_json(build_snapshot(bình, class_a.year))
    second = canonical_json(build_snapshot(bình, class_a.year))
    assert first == second
    assert json.loads(first)["student"]["full_name"] == "Nguyễn Văn Bình"
    assert "Nguyễn Văn Bình".encode() in first  # UTF-8, not \u escapes


def test_canonical_json_normalises_to_nfc():
    decomposed = {"b": "Nguye\u0302\u0303n", "a": 1}
    assert canonical_json(decomposed) == '{"a":1,"b":"Nguyễn"}'.encode()


def test_digest_changes_with_a_mark(bình, class_a):
    before = snapshot_digest(build_snapshot(bình, class_a.year))
    assert before == snapshot_digest(build_snapshot(bình, class_a.year))
    Mark.objects.filter(student=bình, subject__code=SCORED[0], term=2, kind=Kind.FINAL).update(
        value="9"
    )
    assert snapshot_digest(build_snapshot(bình, class_a.year)) != before


def test_incomplete_results_are_none(class_a):
    student = class_a.enrollments.get(student__full_name="Trần Thị An").student
    snapshot = build_snapshot(student, class_a.year)
    assert all(row["year"] is None for row in snapshot["subjects"])
    assert snapshot["promotion"] is None and snapshot["award"] is None


@pytest.fixture
def grade4_class(db) -> ClassGroup:
    school = School.objects.create(
        code="PRIMARY1", name="Trường Tiểu học Hoà Bình", department_code="01", level="primary"
    )
    year = create_school_year(
        school=school,
        start_year=2025,
        term1=(datetime.date(2025, 9, 5), datetime.date(2026, 1, 15)),
        term2=(datetime.date(2026, 1, 19), datetime.date(2026, 5, 25)),
    )
    class_group = ClassGroup.objects.create(year=year, name="4A1", grade=4)
    add_students(class_group, [("Vũ Minh Khang", "M")], start=300)
    return class_group


def test_primary_snapshot(grade4_class):
    student = grade4_class.enrollments.get().student
    primary_year(grade4_class, student, tests={"TV": "9"})
    snapshot = build_snapshot(student, grade4_class.year)
    assert snapshot["kind"] == "primary"
    results = student_year_results(student, grade4_class.year).results
    for row in snapshot["subjects"]:
        expected = results.subject(row["code"])
        assert row["year_level"]["value"] == str(expected.year_level)
        if expected.test("year") is not None:
            assert row["year_test"]["value"] == str(expected.test("year"))
    assert len(snapshot["qualities"]) == 5 and len(snapshot["competencies"]) == 10
    assert snapshot["qualities"][0]["year"]["name"] == "Tốt"
    assert snapshot["result"]["value"] == str(results.year_result)
    assert snapshot["completion"]["display"] == "Hoàn thành chương trình lớp 4"


# --- the official form's other elements (issue 14) ---------------------------------------------


def test_each_subject_names_its_teachers_from_the_class_assignments(bình, class_a, admin):
    maths = class_a.year.school.subjects.get(code="TOAN")
    admin.full_name = "Bùi Thị Cúc"
    admin.save()
    TeachingAssignment.objects.create(teacher=admin, class_group=class_a, subject=maths)
    subjects = {s["code"]: s for s in build_snapshot(bình, class_a.year)["subjects"]}
    assert subjects["TOAN"]["teacher_name"] == "Bùi Thị Cúc, teacher"  # co-teachers, by name
    assert subjects["NV"]["teacher_name"] == "homeroom"
    assert subjects["GDTC"]["teacher_name"] == ""  # no assignment


def test_primary_subjects_name_their_teachers_too(grade4_class, teacher):
    student = grade4_class.enrollments.get().student
    tv = grade4_class.year.school.subjects.get(code="TV")
    TeachingAssignment.objects.create(teacher=teacher, class_group=grade4_class, subject=tv)
    subjects = {s["code"]: s for s in build_snapshot(student, grade4_class.year)["subjects"]}
    assert subjects["TV"]["teacher_name"] == "teacher" and subjects["TOAN"]["teacher_name"] == ""


def test_school_place_name_and_the_active_principal(bình, class_a, principal):
    school = class_a.year.school
    school.place_name = "Quận Ba Đình"
    school.save()
    snapshot = build_snapshot(bình, class_a.year)
    assert snapshot["school"]["place_name"] == "Quận Ba Đình"
    assert snapshot["school"]["principal_name"] == "principal"
    Membership.objects.filter(user=principal).update(is_active=False)
    assert build_snapshot(bình, class_a.year)["school"]["principal_name"] == ""


def test_registration_number_and_admission_date(bình, class_a):
    snapshot = build_snapshot(bình, class_a.year)
    assert snapshot["student"]["registration_number"] == ""
    assert snapshot["student"]["admission_date_display"] == ""
    bình.registration_number = "125/2025"
    bình.admission_date = datetime.date(2025, 9, 5)
    bình.save()
    student = build_snapshot(bình, class_a.year)["student"]
    assert student["registration_number"] == "125/2025"
    assert student["admission_date"] == "2025-09-05"
    assert student["admission_date_display"] == "05/09/2025"


def test_a_snapshot_stored_before_the_new_keys_prints_with_defaults(bình, class_a):
    stored = build_snapshot(bình, class_a.year)
    for part, keys in (
        ("school", ADDED_DEFAULTS["school"]),
        ("student", ADDED_DEFAULTS["student"]),
    ):
        for key in keys:
            del stored[part][key]
    for row in stored["subjects"]:
        del row["teacher_name"]
        for key in ("term1", "term2", "year", "reassessment"):
            if row[key]:
                row[key].pop("name", None)
    before = canonical_json(stored)
    shown = printable(stored)
    assert canonical_json(stored) == before  # the stored snapshot is not touched
    assert shown["school"]["principal_name"] == "" and shown["student"]["registration_number"] == ""
    art = next(s for s in shown["subjects"] if s["code"] == COMMENTED[0])
    assert art["teacher_name"] == "" and art["year"]["name"] == "Đạt"
    maths = next(s for s in shown["subjects"] if s["code"] == "TOAN")
    assert "name" not in maths["year"]  # a score has no word


def test_the_keys_a_new_format_adds_are_not_shown_as_changes(bình, class_a):
    new = build_snapshot(bình, class_a.year)
    old = build_snapshot(bình, class_a.year)
    del old["school"]["principal_name"], old["student"]["registration_number"]
    for row in old["subjects"]:
        del row["teacher_name"]
        if row["year"]:
            row["year"].pop("name", None)
    assert snapshot_changes(old, new) == []
    moved = build_snapshot(bình, class_a.year)
    moved["subjects"][0]["teacher_name"] = "Bùi Thị Cúc"
    with translation.override("en"):
        changes = snapshot_changes(new, moved)
    assert [(c.where, c.after) for c in changes] == [("Ngữ văn › Subject teacher", "Bùi Thị Cúc")]
