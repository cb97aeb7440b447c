"""The summer after the year (docs/gradebook.md#summer): re-assessment results for exactly the
subjects the rules list, typed by whom the school's setting names; conduct after summer
training by the homeroom teacher; every write through save_mark and the ledger; the summer's
own lock; a confirmed transcript refuses the change."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from gradebook.models import YEAR_TERM, GradebookSettings, Kind, Lock, LockKind, Mark, MarkEvent
from gradebook.results import class_results
from gradebook.rules.codes import NextStep
from gradebook.services import GradebookError, Locked
from gradebook.summer import save_summer_mark, summer_sheet
from schools.models import TeachingAssignment
from tests.gradebook.marks import REASSESSMENT_CASE, all_scored, homeroom_marks, year_of


@pytest.fixture
def students(class_a):
    return [e.student for e in class_a.enrollments.order_by("roll_number")]


@pytest.fixture
def due(class_a, students, admin):
    """First: learning CĐ, re-assessed in TOAN (4.6) and NN1 (3.2). Second: conduct CĐ, sent
    to training. NN1 is taught by the admin (a teacher of the class for this test)."""
    first, second, _third = students
    year_of(class_a, first, REASSESSMENT_CASE)
    homeroom_marks(first, conduct=("D", "D"))
    year_of(class_a, second, all_scored("7"))
    homeroom_marks(second, conduct=("K", "CD"))
    english = class_a.year.school.subjects.get(code="NN1")
    TeachingAssignment.objects.create(teacher=admin, class_group=class_a, subject=english)
    return first, second


def subject(class_a, code):
    return class_a.year.school.subjects.get(code=code)


def save(actor, class_a, student, code, text, version=None):
    subject_id = None if code is None else subject(class_a, code).pk
    return save_summer_mark(actor=actor, class_group=class_a, student=student,
                            subject_id=subject_id, text=text, base_version=version)  # fmt: skip


def result(class_a, student):
    return class_results(class_a).for_student(student.pk)


def test_reassessment_in_both_listed_subjects_promotes(class_a, due, teacher, admin):
    first, _ = due
    save(teacher, class_a, first, "TOAN", "5,5")
    save(admin, class_a, first, "NN1", "4")
    after = result(class_a, first)
    assert after.promotion.promoted
    assert (after.learning_year.level, after.learning_reassessed.level) == ("CD", "D")
    assert after.subject("TOAN").value == Decimal("4.6")  # the year result stays on record
    assert after.subject("TOAN").reassessment == Decimal("5.5")


def test_each_summer_entry_is_in_the_ledger(class_a, due, teacher):
    first, _ = due
    saved = save(teacher, class_a, first, "TOAN", "5.5")
    event = MarkEvent.objects.get(pk=saved.event.pk)
    assert (event.mark.kind, event.mark.term, event.new_value) == (Kind.REASSESSMENT, 0, "5.5")
    assert event.actor == teacher


def test_a_subject_the_rules_do_not_list_is_refused_with_the_rule(english, class_a, due, homeroom):
    first, _ = due
    with pytest.raises(GradebookError) as refused:
        save(homeroom, class_a, first, "NV", "8")  # NV: year average 6.0, not due
    assert "re-assessed only in" in refused.value.message
    assert "below 5.0" in refused.value.message
    assert not Mark.objects.filter(kind=Kind.REASSESSMENT).exists()


def test_a_student_not_sent_to_reassessment_is_refused(english, class_a, due, teacher):
    _, second = due
    with pytest.raises(GradebookError, match="was not sent to summer re-assessment"):
        save(teacher, class_a, second, "TOAN", "8")


def test_conduct_for_a_student_not_sent_to_training_is_refused(english, class_a, due, homeroom):
    first, _ = due
    with pytest.raises(GradebookError, match="was not sent to summer conduct training"):
        save(homeroom, class_a, first, None, "D")


def test_conduct_after_training_by_the_homeroom_teacher_promotes(class_a, due, homeroom):
    _, second = due
    save(homeroom, class_a, second, None, "D")
    assert result(class_a, second).promotion.promoted


def test_conduct_after_training_is_the_homeroom_teachers_only(english, class_a, due, principal):
    _, second = due
    with pytest.raises(PermissionDenied, match="Only the homeroom teacher"):
        save(principal, class_a, second, None, "D")


def test_another_subjects_teacher_may_not_enter_it(english, class_a, due, teacher):
    first, _ = due
    with pytest.raises(PermissionDenied, match="Only a teacher of this subject"):
        save(teacher, class_a, first, "NN1", "6")


def test_the_school_may_name_the_homeroom_teacher(english, class_a, due, teacher, homeroom):
    GradebookSettings.objects.create(school=class_a.year.school,
                                     reassessment_entered_by="homeroom_teacher")  # fmt: skip
    first, _ = due
    with pytest.raises(PermissionDenied, match="homeroom teacher enters"):
        save(teacher, class_a, first, "TOAN", "6")
    save(homeroom, class_a, first, "TOAN", "6")
    assert result(class_a, first).subject("TOAN").reassessment == Decimal("6")


def test_a_year_lock_leaves_the_summer_open(class_a, due, teacher, principal):
    """The whole school locked for every term when the year closes: the summer goes on."""
    Lock.objects.create(school=class_a.year.school, year=class_a.year, kind=LockKind.LOCKED,
                        reason="Khóa sổ cuối năm", created_by=principal)  # fmt: skip
    first, _ = due
    save(teacher, class_a, first, "TOAN", "5.5")


def test_the_summer_lock_closes_the_summer(english, class_a, due, teacher, principal):
    Lock.objects.create(school=class_a.year.school, year=class_a.year, term=YEAR_TERM,
                        kind=LockKind.LOCKED, reason="Hết hạn", created_by=principal)  # fmt: skip
    first, _ = due
    with pytest.raises(Locked, match="summer entries are locked: Hết hạn"):
        save(teacher, class_a, first, "TOAN", "5.5")


def test_a_partial_reassessment_keeps_the_student_waiting(class_a, due, teacher):
    first, _ = due
    save(teacher, class_a, first, "TOAN", "9")
    assert result(class_a, first).promotion.next_step == NextStep.REASSESSMENT


def test_reassessment_still_failing_retains(class_a, due, teacher, admin):
    first, _ = due
    save(teacher, class_a, first, "TOAN", "3")
    save(admin, class_a, first, "NN1", "3")
    assert result(class_a, first).promotion.next_step == NextStep.RETAINED


# --- the page ----------------------------------------------------------------------------------


def url(class_a):
    return reverse("gradebook:summer", args=["SCHOOLA", class_a.pk])


def test_subject_teacher_sees_and_types_only_their_subject(client, class_a, due, teacher):
    first, _ = due
    client.force_login(teacher)
    html = client.get(url(class_a)).content.decode()
    maths, english = subject(class_a, "TOAN"), subject(class_a, "NN1")
    assert f'name="c-{first.pk}-{maths.pk}"' in html
    assert f"c-{first.pk}-{english.pk}" not in html
    assert "summer-training" not in html  # conduct is the homeroom teacher's


def test_homeroom_teacher_sees_both_lists(client, class_a, due, homeroom):
    first, second = due
    client.force_login(homeroom)
    html = client.get(url(class_a)).content.decode()
    assert f'name="c-{second.pk}-conduct"' in html
    assert f'data-student="{first.pk}"' in html
    assert f'name="c-{first.pk}-{subject(class_a, "TOAN").pk}"' not in html  # not theirs


def test_the_form_saves_and_redirects(client, class_a, due, teacher):
    first, _ = due
    client.force_login(teacher)
    maths = subject(class_a, "TOAN")
    page = client.post(url(class_a), {f"c-{first.pk}-{maths.pk}": "5,5",
                                      f"v-{first.pk}-{maths.pk}": "0"})  # fmt: skip
    assert page.status_code == 302
    assert result(class_a, first).subject("TOAN").reassessment == Decimal("5.5")


def test_a_refused_cell_writes_nothing_of_the_form(english, class_a, due, homeroom):
    """Conduct fine, but a re-assessment of NV (not listed): nothing is written."""
    first, second = due
    english.force_login(homeroom)
    literature = subject(class_a, "NV")
    page = english.post(url(class_a), {f"c-{second.pk}-conduct": "D",
                                       f"c-{first.pk}-{literature.pk}": "9"})  # fmt: skip
    assert page.status_code == 400
    assert "re-assessed only in" in page.content.decode()
    assert not Mark.objects.filter(term=YEAR_TERM).exclude(value="").exists()


def test_an_invalid_value_is_shown_on_its_cell(english, class_a, due, teacher):
    first, _ = due
    english.force_login(teacher)
    name = f"c-{first.pk}-{subject(class_a, 'TOAN').pk}"
    page = english.post(url(class_a), {name: "11"})
    assert page.status_code == 400
    assert 'class="form-control form-control-sm is-invalid"' in page.content.decode()


def test_the_page_costs_the_same_queries_for_a_bigger_class(
    client, class_a, due, principal, django_assert_num_queries
):
    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(class_a)).status_code == 200
        return len(queries)

    client.force_login(principal)
    count()  # the session's first request loads more (the user, the language)
    before = count()
    from tests.conftest import add_students

    more = add_students(class_a, [("Hồ Văn Nam", "M"), ("Mai Thị Lan", "F")], start=70)
    for student in more:
        year_of(class_a, student, REASSESSMENT_CASE)
        homeroom_marks(student, conduct=("CD", "CD"))
    with django_assert_num_queries(before):
        client.get(url(class_a))


def test_sheet_lists_due_students_only(class_a, due, principal):
    first, second = due
    sheet = summer_sheet(class_a, user=principal, whole_class=True, subject_ids=set())
    assert [row.result.student for row in sheet.reassessment] == [first]
    assert [row.result.student for row in sheet.training] == [second]
    codes = {c.subject.code for c in sheet.reassessment[0].cells}
    assert codes == {"TOAN", "NN1"}
    assert not sheet.writable  # the principal reads; the teachers type


def test_year_end_list_explains_the_decision_after_the_summer(
    english, class_a, due, teacher, admin, homeroom, principal
):
    first, second = due
    save(teacher, class_a, first, "TOAN", "5.5")
    save(admin, class_a, first, "NN1", "4")
    save(homeroom, class_a, second, None, "D")
    english.force_login(principal)
    page = english.get(reverse("gradebook:year_end", args=["SCHOOLA"]), {"outcome": "promoted"})
    html = page.content.decode()
    assert "Promoted (after re-assessment)" in html
    assert "4.6 → 5.5" in html and "year learning CĐ → Đ" in html
    assert "Promoted (after summer training)" in html
    assert "conduct CĐ → Đ" in html
    assert reverse("gradebook:summer", args=["SCHOOLA", class_a.pk]) in html
