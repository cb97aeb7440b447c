"""Grades 10-12: each student's electives and learning-topic clusters
(docs/curriculum.md#subject-choices-in-grades-10-to-12). An elective's gradebook lists only the
students who chose it, a cluster adds its regular mark for the students who take it
(docs/regulations.md#learning-topic-clusters), and the results, the completeness of a book and
the transcript's subjects follow each student's own programme."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from gradebook.columns import subject_columns
from gradebook.completeness import book_status
from gradebook.models import Kind
from gradebook.results import class_results, student_year_results
from gradebook.services import InvalidValue, save_mark
from schools.models import ClassGroup, School, SubjectChoice, TeachingAssignment
from schools.services import create_school_year
from schools.subject_choices import ChoiceError, set_class_choices
from tests.conftest import add_students, make_user

SCIENCE = ({"VL", "HH", "SH", "TIN"}, {"VL", "HH", "TOAN"})
SCIENCE_NO_PHYSICS_CLUSTERS = ({"VL", "HH", "SH", "TIN"}, {"HH", "SH", "TOAN"})
SOCIAL = ({"DL", "GDKTPL", "CN", "MT"}, {"DL", "GDKTPL", "LS"})


@pytest.fixture
def upper_class(db) -> ClassGroup:
    school = School.objects.create(
        code="THPT1", name="Trường THPT Demo", department_code="01", level="upper_secondary"
    )
    year = create_school_year(
        school=school,
        start_year=2025,
        term1=(datetime.date(2025, 9, 5), datetime.date(2026, 1, 15)),
        term2=(datetime.date(2026, 1, 19), datetime.date(2026, 5, 25)),
    )
    homeroom = make_user("gvcn10", school, Role.TEACHER, totp=True)
    class_group = ClassGroup.objects.create(
        year=year, name="10A1", grade=10, homeroom_teacher=homeroom
    )
    students = add_students(
        class_group,
        [("Nguyễn Văn An", "M"), ("Trần Thị Bình", "F"), ("Lê Văn Cường", "M")],
        start=500,
    )
    set_class_choices(
        class_group=class_group,
        choices={
            students[0].pk: SCIENCE,
            students[1].pk: SCIENCE_NO_PHYSICS_CLUSTERS,
            students[2].pk: SOCIAL,
        },
    )
    return class_group


@pytest.fixture
def physics_teacher(upper_class):
    school = upper_class.year.school
    teacher = make_user("gvly", school, Role.TEACHER)
    physics = school.subjects.get(code="VL")
    TeachingAssignment.objects.create(teacher=teacher, class_group=upper_class, subject=physics)
    return teacher


def students(class_group):
    return [e.student for e in class_group.enrollments.order_by("roll_number")]


def entry(class_group, code):
    return class_group.year.curriculum.get(grade=class_group.grade, subject__code=code)


def grid_url(class_group, code):
    subject = class_group.year.school.subjects.get(code=code)
    kwargs = {"class_pk": class_group.pk, "subject_pk": subject.pk, "term": 1}
    return reverse("gradebook:grid", kwargs={"code": class_group.year.school.code, **kwargs})


def test_an_elective_grid_lists_only_the_students_who_chose_it(
    client, upper_class, physics_teacher
):
    an, binh, cuong = students(upper_class)
    client.force_login(physics_teacher)
    response = client.get(grid_url(upper_class, "VL"))
    assert response.status_code == 200
    rows = [row.enrollment.student for row in response.context["grid"].rows]
    assert rows == [an, binh]
    assert cuong.full_name not in response.content.decode()


def test_a_student_with_no_choice_saved_yet_studies_every_subject(
    client, upper_class, physics_teacher
):
    (dung,) = add_students(upper_class, [("Phạm Thị Dung", "F")], start=600)
    client.force_login(physics_teacher)
    grid = client.get(grid_url(upper_class, "VL")).context["grid"]
    assert dung in [row.enrollment.student for row in grid.rows]
    assert class_results(upper_class).for_student(dung.pk).takes("AN")
    assert book_status(upper_class, entry(upper_class, "AN"), 1).required == 4  # 2 tx, gk, ck


def test_a_compulsory_grid_lists_every_student(client, upper_class):
    client.force_login(upper_class.homeroom_teacher)
    response = client.get(grid_url(upper_class, "TOAN"))
    assert len(response.context["grid"].rows) == 3


def test_the_clusters_mark_is_open_only_to_the_students_who_take_them(
    client, upper_class, physics_teacher
):
    client.force_login(physics_teacher)
    grid = client.get(grid_url(upper_class, "VL")).context["grid"]
    regular = [c.key for c in grid.columns if c.kind == Kind.REGULAR]
    assert regular == ["1:tx:1", "1:tx:2", "1:tx:3", "1:tx:4"]  # 70 + 35 periods → 4
    an_row, binh_row = grid.rows
    assert next(i for i in an_row.items if i.column.key == "1:tx:4").editable
    assert not next(i for i in binh_row.items if i.column.key == "1:tx:4").editable
    assert next(i for i in binh_row.items if i.column.key == "1:tx:3").editable


def test_a_mark_is_refused_for_a_student_who_does_not_study_the_subject(
    english, upper_class, physics_teacher
):
    an, binh, cuong = students(upper_class)
    columns = {c.key: c for c in subject_columns(entry(upper_class, "VL"), 1, with_topics=True)}
    with pytest.raises(InvalidValue, match="does not study"):
        save_mark(actor=physics_teacher, class_group=upper_class, student=cuong,
                  column=columns["1:tx:1"], text="8", base_version=None)  # fmt: skip
    with pytest.raises(InvalidValue, match="learning-topic clusters"):
        save_mark(actor=physics_teacher, class_group=upper_class, student=binh,
                  column=columns["1:tx:4"], text="8", base_version=None)  # fmt: skip
    result = save_mark(actor=physics_teacher, class_group=upper_class, student=an,
                       column=columns["1:tx:4"], text="8", base_version=None)  # fmt: skip
    assert result.mark.value == "8"


def test_results_list_each_students_own_subjects_with_the_clusters_marks(upper_class):
    an, _binh, cuong = students(upper_class)
    results = class_results(upper_class)
    an_results = results.for_student(an.pk)
    cuong_results = results.for_student(cuong.pk)
    assert an_results.takes("VL") and not an_results.takes("DL")
    assert cuong_results.takes("DL") and not cuong_results.takes("VL")
    assert an_results.subject("VL").subject.regular_marks == 4  # with the clusters
    assert an_results.subject("SH").subject.regular_marks == 3  # without
    assert an_results.subject("LS").subject.regular_marks == 3
    assert cuong_results.subject("LS").subject.regular_marks == 4  # 52 + 35 periods
    assert "TX4" in an_results.subject("VL").term1.missing
    codes = [s.code for s in results.subjects]  # the summary's columns
    assert "VL" in codes and "MT" in codes and "AN" not in codes  # nobody chose Music


def test_the_transcript_lists_only_the_subjects_the_student_takes(upper_class):
    _an, _binh, cuong = students(upper_class)
    data = student_year_results(cuong, upper_class.year)
    codes = {row.subject.code for row in data.results.subjects}
    assert {"DL", "GDKTPL", "CN", "MT", "NV", "TOAN", "LS"} <= codes
    assert not codes & {"VL", "HH", "SH", "TIN", "AN"}


def test_the_transcript_snapshot_prints_only_the_students_subjects(upper_class):
    from transcripts.snapshot import build_snapshot

    _an, _binh, cuong = students(upper_class)
    codes = [row["code"] for row in build_snapshot(cuong, upper_class.year)["subjects"]]
    assert "DL" in codes and "MT" in codes and "NV" in codes
    assert "VL" not in codes and "AN" not in codes


def test_completeness_counts_only_the_takers_and_their_own_marks(upper_class):
    status = book_status(upper_class, entry(upper_class, "VL"), 1)
    # An: 4 regular + mid-term + end-of-term; Bình: 3 + 2; Cường does not study Physics
    assert status.required == 6 + 5
    assert {student.full_name for student, _ in status.missing} == {
        "Nguyễn Văn An",
        "Trần Thị Bình",
    }


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_grid_and_the_class_results_read_a_constant_number_of_queries(
    client, upper_class, physics_teacher
):
    client.force_login(physics_teacher)
    url = grid_url(upper_class, "VL")
    client.get(url)  # warm the session
    grid_small = queries(client, url)
    with CaptureQueriesContext(connection) as captured:
        class_results(upper_class)
    results_small = len(captured)

    names = [(f"Học Sinh Số{n:02d}", "M" if n % 2 else "F") for n in range(12)]
    more = add_students(upper_class, names, start=700)
    set_class_choices(
        class_group=upper_class,
        choices={s.pk: SCIENCE if n % 2 else SOCIAL for n, s in enumerate(more)},
    )
    assert queries(client, url) == grid_small
    with CaptureQueriesContext(connection) as captured:
        class_results(upper_class)
    assert len(captured) == results_small


def test_a_choice_breaking_the_rules_saves_nothing(english, upper_class):
    an, binh, _cuong = students(upper_class)
    before = list(SubjectChoice.objects.values_list("student_id", "subject_id", "with_topics"))
    with pytest.raises(ChoiceError) as refused:
        set_class_choices(
            class_group=upper_class,
            choices={an.pk: SOCIAL, binh.pk: ({"VL", "HH", "SH"}, {"VL", "HH", "TOAN"})},
        )
    assert list(refused.value.errors) == [binh.pk]
    assert "exactly four" in refused.value.errors[binh.pk][0]
    after = list(SubjectChoice.objects.values_list("student_id", "subject_id", "with_topics"))
    assert after == before


def test_the_choices_screen_saves_the_table_and_shows_a_broken_rule(english, upper_class):
    an, binh, cuong = students(upper_class)
    client = english
    client.force_login(upper_class.homeroom_teacher)
    url = reverse("schools:class_subject_choices", args=["THPT1", upper_class.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert f'name="elective-{an.pk}" value="VL" aria-label' in page.content.decode()
    form = {
        f"elective-{an.pk}": ["DL", "GDKTPL", "CN", "TIN"],
        f"topics-{an.pk}": ["DL", "TIN", "NV"],
        f"elective-{binh.pk}": ["VL", "HH"],
        f"topics-{binh.pk}": ["VL"],
    }
    refused = client.post(url, form)
    assert refused.status_code == 200
    assert "exactly four" in refused.content.decode()
    assert SubjectChoice.objects.filter(student=an, subject__code="VL").exists()  # unchanged
    del form[f"elective-{binh.pk}"], form[f"topics-{binh.pk}"]  # Bình: not chosen yet
    assert client.post(url, form).status_code == 302
    assert set(
        SubjectChoice.objects.filter(student=an).values_list("subject__code", flat=True)
    ) == {"DL", "GDKTPL", "CN", "TIN", "NV"}
    assert not SubjectChoice.objects.filter(student=binh).exists()
    assert not SubjectChoice.objects.filter(student=cuong).exists()  # the table is the class
