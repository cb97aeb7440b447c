"""Results computed from Mark rows, end to end: the regulation's worked examples through marks."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gradebook.columns import subject_columns
from gradebook.models import YEAR_TERM, GradebookSettings, Kind, Mark
from gradebook.results import NotEnrolled, class_results, student_year_results
from gradebook.rules.codes import Level, NextStep, PrimaryAward, PrimaryResult, SecondaryAward
from gradebook.services import save_mark
from schools.models import ClassGroup, Student
from tests.conftest import add_students
from tests.gradebook.marks import (
    REASSESSMENT_CASE,
    SCORED,
    all_scored,
    cell,
    homeroom_marks,
    primary_year,
    subject_marks,
    year_of,
)


@pytest.fixture
def first(class_a) -> Student:
    return class_a.enrollments.order_by("roll_number").first().student


def result_of(class_a, student):
    return class_results(class_a).for_student(student.pk)


# --- term and year averages --------------------------------------------------------------------


def put_maths(class_a, teacher, student, term, texts):
    entry = class_a.year.curriculum.get(grade=6, subject__code="TOAN")
    columns = [c for c in subject_columns(entry, term) if c.kind != Kind.COMMENT]
    for column, text in zip(columns, texts, strict=True):
        save_mark(actor=teacher, class_group=class_a, student=student, column=column,
                  text=text, base_version=None)  # fmt: skip


def test_maths_term_average_through_the_write_path(class_a, teacher, first):
    put_maths(class_a, teacher, first, 1, ["8", "7,5", "9", "6", "7", "8.5"])
    maths = result_of(class_a, first).subject("TOAN")
    assert maths.term1.average == Decimal("7.8")
    assert "70 / 9" in maths.term1.explain().text("en")


def test_year_average_uses_rounded_term_averages(class_a, teacher, first):
    put_maths(class_a, teacher, first, 1, ["8", "7.5", "9", "6", "7", "8.5"])  # 7.8
    put_maths(class_a, teacher, first, 2, ["8", "8", "8", "8", "8", "8.9"])  # 74.7 / 9 = 8.3
    maths = result_of(class_a, first).subject("TOAN")
    assert (maths.term2.average, maths.value) == (Decimal("8.3"), Decimal("8.1"))
    assert "24.4 / 3" in maths.explain().text("en")


def test_incomplete_marks_give_no_average_and_no_level(class_a, teacher, first):
    year_of(class_a, first, all_scored("8"))
    Mark.objects.filter(student=first, term=2, subject__code="TOAN", kind=Kind.FINAL).update(
        value=""
    )
    result = result_of(class_a, first)
    maths = result.subject("TOAN")
    assert (maths.term2.value, maths.term2.missing, maths.value) == (None, ("CK",), None)
    assert result.learning_term2 is None and result.learning_year is None
    assert result.learning_term1.level == Level.GOOD
    assert "CK" in maths.term2.explain().text("en")


def test_comment_subject_missing_assessment_is_incomplete_not_cd(class_a, first):
    Mark.objects.bulk_create(subject_marks(class_a, first, "GDTC", 1, "D")[:-1])
    gdtc = result_of(class_a, first).subject("GDTC")
    assert (gdtc.term1.value, gdtc.term1.missing) == (None, ("CK",))


def test_comment_subject_year_result_is_term_two(class_a, first):
    Mark.objects.bulk_create(
        subject_marks(class_a, first, "NT", 1, "CD") + subject_marks(class_a, first, "NT", 2, "D")
    )
    nt = result_of(class_a, first).subject("NT")
    assert (nt.term1.value, nt.value) == ("CD", "D")


# --- learning level, conduct, award ----------------------------------------------------------


def test_adjustment_example_gives_k_adjusted_from_d(class_a, first):
    scores = dict(zip(SCORED, ["9", "8.5", "8.2", "8", "8.1", "8.7", "7", "4.9"], strict=True))
    year_of(class_a, first, scores)
    learning = result_of(class_a, first).learning_year
    assert (learning.level, learning.unadjusted, learning.adjusted_for) == ("K", "D", "TIN")
    assert "Article 9" in learning.explain().text("en")


def test_conduct_year_from_the_table_and_absences_summed(class_a, first):
    homeroom_marks(first, conduct=("T", "D"), absences=(3, 4))
    Mark.objects.bulk_create([cell(first, 1, Kind.ABSENT_EXCUSED, "2")])
    result = result_of(class_a, first)
    assert (result.conduct.year, result.absences.total, result.absences.term(1)) == ("K", 9, 5)


def test_excellent_award(class_a, first):
    year_of(class_a, first, all_scored("9.5"))
    homeroom_marks(first)
    result = result_of(class_a, first)
    assert result.award.award == SecondaryAward.EXCELLENT
    assert result.promotion.promoted


def test_good_award_when_fewer_than_six_subjects_reach_nine(class_a, first):
    year_of(class_a, first, {**all_scored("8.5"), "NV": "9", "TOAN": "9"})
    homeroom_marks(first)
    assert result_of(class_a, first).award.award == SecondaryAward.GOOD


def test_no_award_without_good_conduct(class_a, first):
    year_of(class_a, first, all_scored("9.5"))
    homeroom_marks(first, conduct=("K", "K"))
    result = result_of(class_a, first)
    assert result.award.award is None
    assert "both must be T" in result.award.explain().text("en")


# --- promotion, re-assessment, summer training -------------------------------------------------


def test_learning_cd_sends_the_listed_subjects_to_reassessment(class_a, first):
    year_of(class_a, first, REASSESSMENT_CASE)
    homeroom_marks(first, conduct=("D", "D"), absences=(10, 10))
    result = result_of(class_a, first)
    assert result.learning_year.level == "CD" and result.learning_year.adjusted_for is None
    assert result.promotion.next_step == NextStep.REASSESSMENT
    assert result.summer_reassessment == {"TOAN", "NN1"}


def test_reassessment_example_promotes_and_keeps_originals(class_a, first):
    year_of(class_a, first, REASSESSMENT_CASE)
    homeroom_marks(first, conduct=("D", "D"), absences=(10, 10))
    subjects = {s.code: s for s in class_a.year.school.subjects.all()}
    Mark.objects.bulk_create([
        cell(first, YEAR_TERM, Kind.REASSESSMENT, "5.5", subjects["TOAN"]),
        cell(first, YEAR_TERM, Kind.REASSESSMENT, "4", subjects["NN1"]),
    ])  # fmt: skip
    result = result_of(class_a, first)
    maths = result.subject("TOAN")
    assert (maths.value, maths.reassessment) == (Decimal("4.6"), Decimal("5.5"))
    assert maths.final == Decimal("5.5")
    assert (result.learning_year.level, result.learning_reassessed.level) == ("CD", "D")
    assert result.learning_final.level == "D"
    assert result.promotion.promoted and result.promotion.next_step is None


def test_partial_reassessment_keeps_the_student_waiting(class_a, first):
    year_of(class_a, first, REASSESSMENT_CASE)
    homeroom_marks(first, conduct=("D", "D"))
    maths = class_a.year.school.subjects.get(code="TOAN")
    Mark.objects.bulk_create([cell(first, YEAR_TERM, Kind.REASSESSMENT, "5.5", maths)])
    result = result_of(class_a, first)
    assert result.learning_reassessed is None
    assert result.promotion.next_step == NextStep.REASSESSMENT


def test_conduct_after_summer_training_replaces_year_conduct(class_a, first):
    year_of(class_a, first, all_scored("7"))
    homeroom_marks(first, conduct=("K", "CD"))
    assert result_of(class_a, first).promotion.next_step == NextStep.SUMMER_TRAINING
    Mark.objects.bulk_create([cell(first, YEAR_TERM, Kind.CONDUCT_REASSESSED, "D")])
    result = result_of(class_a, first)
    assert (result.conduct.year, result.conduct.final) == ("CD", "D")
    assert result.promotion.promoted


def test_more_than_45_absences_retains(class_a, first):
    year_of(class_a, first, all_scored("9"))
    homeroom_marks(first, absences=(20, 26))
    promotion = result_of(class_a, first).promotion
    assert (promotion.promoted, promotion.next_step) == (False, NextStep.RETAINED)


def test_grade_nine_completes_the_programme(class_a):
    class_a.grade = 9
    class_a.save()
    assert all(r.completes_programme for r in class_results(class_a).students)


def test_school_setting_changes_the_adjustment(class_a, first):
    year_of(class_a, first, all_scored("8.5"), comments="D")
    Mark.objects.filter(student=first, subject__code="GDTC", term=2, kind=Kind.FINAL).update(
        value="CD"
    )
    assert result_of(class_a, first).learning_year.adjusted_for == "GDTC"
    GradebookSettings.objects.create(school=class_a.year.school, adjustment="scored_subjects_only")
    assert result_of(class_a, first).learning_year.adjusted_for is None


# --- scale, students who left, the transcript's function ---------------------------------------


def test_query_count_does_not_grow_with_the_class(class_a):
    def count(class_group) -> int:
        for student in Student.objects.filter(enrollments__class_group=class_group):
            year_of(class_group, student, all_scored("7"))
            homeroom_marks(student)
        with CaptureQueriesContext(connection) as queries:
            results = class_results(class_group)
        assert all(r.promotion.promoted for r in results.students)
        return len(queries)

    big = ClassGroup.objects.create(year=class_a.year, name="6A9", grade=6)
    add_students(big, [(f"Học sinh {i}", "MF"[i % 2]) for i in range(20)], start=200)
    assert count(class_a) == count(big) <= 5


def test_students_who_left_are_left_out_unless_asked(class_a, first):
    class_a.enrollments.filter(student=first).update(left_on=datetime.date(2025, 12, 1))
    assert first.pk not in [r.student.pk for r in class_results(class_a).students]
    assert len(class_results(class_a, include_left=True).students) == 3


def test_student_year_results_matches_the_class_computation(class_a, first):
    year_of(class_a, first, REASSESSMENT_CASE)
    homeroom_marks(first, conduct=("D", "D"))
    single = student_year_results(first, class_a.year)
    assert single.class_group == class_a
    assert single.results == class_results(class_a).for_student(first.pk)


def test_student_year_results_carry_the_latest_term_comments(class_a, first):
    maths = class_a.year.curriculum.get(grade=6, subject__code="TOAN").subject
    Mark.objects.bulk_create([
        cell(first, 1, Kind.COMMENT, "Cố gắng hơn.", maths),
        cell(first, 2, Kind.COMMENT, "Tiến bộ rõ rệt.", maths),
        cell(first, 1, Kind.HOMEROOM_COMMENT, "Ngoan."),
    ])  # fmt: skip
    comments = student_year_results(first, class_a.year).comments
    assert (comments.subject(maths.pk), comments.homeroom) == ("Tiến bộ rõ rệt.", "Ngoan.")


def test_student_without_a_class_that_year(class_a, school_b):
    stranger = Student.objects.filter(school=school_b).first() or school_b.students.create(
        full_name="X", sex="M", date_of_birth=datetime.date(2014, 1, 1),
        personal_id="001214999999", student_code="HS999999",
    )  # fmt: skip
    with pytest.raises(NotEnrolled):
        student_year_results(stranger, class_a.year)


# --- primary (Circular 27) -----------------------------------------------------------------------


def test_primary_example_gives_ht(grade4):
    pupil = grade4.enrollments.get().student
    tests = dict(zip(["TV", "TOAN", "NN1", "LSDL", "KH", "THCN"], ["10", "9", "9", "10", "9", "9"],
                     strict=True))  # fmt: skip
    primary_year(grade4, pupil, levels={"AN": "HT"}, tests=tests)
    result = class_results(grade4).students[0]
    assert result.year_result == PrimaryResult.COMPLETED
    assert result.completed_grade and result.award.award is None
    assert "AN HT" in result.year_result_explanation.text("en")


def test_primary_excellent_and_exemplary_awards(grade4):
    pupil = grade4.enrollments.get().student
    primary_year(grade4, pupil)
    assert class_results(grade4).students[0].award.award == PrimaryAward.EXCELLENT
    Mark.objects.filter(student=pupil, kind=Kind.TEST, subject__code="TV").update(value="8")
    Mark.objects.bulk_create([cell(pupil, YEAR_TERM, Kind.RECOGNISED, "1")])
    result = class_results(grade4).students[0]
    assert (result.year_result, result.award.award) == ("HTT", PrimaryAward.EXEMPLARY)


def test_primary_retest_is_the_latest_score(grade4):
    pupil = grade4.enrollments.get().student
    primary_year(grade4, pupil, tests={"TOAN": "4"})
    assert class_results(grade4).students[0].year_result == PrimaryResult.NOT_COMPLETED
    maths = grade4.year.school.subjects.get(code="TOAN")
    Mark.objects.bulk_create([cell(pupil, YEAR_TERM, Kind.REASSESSMENT, "6", maths)])
    result = class_results(grade4).students[0]
    assert (result.subject("TOAN").year_test, result.subject("TOAN").test("year")) == (4, 6)
    assert result.year_result == PrimaryResult.COMPLETED


def test_primary_incomplete_has_no_result(grade4):
    pupil = grade4.enrollments.get().student
    primary_year(grade4, pupil)
    Mark.objects.filter(student=pupil, kind=Kind.QUALITY, slot="trung_thuc").delete()
    result = class_results(grade4).students[0]
    assert (result.year_result, result.award, result.completed_grade) == (None, None, None)
    assert "trung_thuc" in result.year_result_explanation.text("en")
