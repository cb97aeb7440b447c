"""Demo marks: a plausible full year, through the ledger, idempotent.

Seeding the demo takes seconds, so the module seeds it once (through `manage.py seed_demo`) in
a transaction rolled back after the module's last test; each test runs in a savepoint inside
it, as usual.
"""

import io
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction

from gradebook.columns import subject_columns
from gradebook.completeness import class_book_statuses
from gradebook.demo import seed_demo_marks
from gradebook.models import EventSource, Kind, Mark, MarkEvent
from gradebook.rules.secondary import term_average, year_average
from schools.demo import PRIMARY_CODE, SECONDARY_CODE
from schools.models import Assessment, ClassGroup, School


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The output of `manage.py seed_demo` on an empty database."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = io.StringIO()
        call_command("seed_demo", password="demo-pass-123", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def demo(seeded, db):
    return seeded


def secondary_averages(school):
    """(student, subject code) → (term I average, term II average) for complete score books."""
    year = school.current_year()
    cells = defaultdict(dict)
    for m in Mark.objects.filter(year=year, subject__isnull=False).exclude(kind=Kind.COMMENT):
        cells[(m.student_id, m.subject_id)][(m.term, m.kind, m.slot)] = (
            Decimal(m.value) if m.value[0].isdigit() else m.value
        )
    averages = {}
    entries = year.curriculum.filter(assessment=Assessment.SCORE).select_related("subject")
    by_grade = defaultdict(list)
    for entry in entries:
        by_grade[entry.grade].append(entry)
    for class_group in ClassGroup.objects.filter(year=year):
        for student_id in class_group.enrollments.values_list("student_id", flat=True):
            for entry in by_grade[class_group.grade]:
                values = cells[(student_id, entry.subject_id)]
                terms = []
                for term in (1, 2):
                    columns = [c for c in subject_columns(entry, term) if c.kind != Kind.COMMENT]
                    if any((term, c.kind, c.slot) not in values for c in columns):
                        break
                    regular = [values[(term, c.kind, c.slot)] for c in columns[:-2]]
                    mid, final = (values[(term, c.kind, c.slot)] for c in columns[-2:])
                    terms.append(term_average(regular, mid, final))
                averages[(student_id, entry.subject.code)] = tuple(terms)
    return averages


def test_every_demo_mark_has_its_seed_event_and_the_ledger_verifies(demo):
    assert f"School {SECONDARY_CODE}: " in demo
    assert Mark.objects.filter(school__code=SECONDARY_CODE).count() > 20_000
    assert Mark.objects.filter(school__code=PRIMARY_CODE).count() > 10_000
    assert MarkEvent.objects.count() == Mark.objects.count()
    assert set(MarkEvent.objects.values_list("source", flat=True)) == {EventSource.SEED}
    out = io.StringIO()
    call_command("verify_ledger", stdout=out)
    assert out.getvalue().count("ledger intact") == School.objects.count()


def test_demo_marks_are_realistic(demo):
    averages = secondary_averages(School.objects.get(code=SECONDARY_CODE))
    terms = [a for pair in averages.values() for a in pair]
    within = sum(Decimal(5) <= a <= Decimal(9) for a in terms)
    assert within / len(terms) > 0.75
    years = {k: year_average(*v) for k, v in averages.items() if len(v) == 2}
    assert any(a < 5 for a in years.values())  # re-assessment cases
    by_student = defaultdict(int)
    for (student_id, _), average in years.items():
        by_student[student_id] += average >= 9
    assert sum(1 for n in by_student.values() if n >= 6) >= 3  # award cases
    conduct = list(Mark.objects.filter(kind=Kind.CONDUCT).values_list("value", flat=True))
    assert sum(v in ("T", "K") for v in conduct) / len(conduct) > 0.85
    comment_results = Mark.objects.filter(kind=Kind.REGULAR, value__in=["D", "CD"])
    assert comment_results.filter(value="D").count() / comment_results.count() > 0.95


def test_one_student_is_absent_more_than_45_sessions(demo):
    totals = defaultdict(int)
    absences = Mark.objects.filter(
        school__code=SECONDARY_CODE, kind__in=[Kind.ABSENT_EXCUSED, Kind.ABSENT_UNEXCUSED]
    )
    for student_id, value in absences.values_list("student_id", "value"):
        totals[student_id] += int(value)
    assert sum(1 for t in totals.values() if t > 45) == 1
    assert sum(1 for t in totals.values() if t <= 6) / len(totals) > 0.6


def test_one_class_is_left_half_finished(demo):
    classes = ClassGroup.objects.filter(year__school__code=SECONDARY_CODE)
    unfinished = {c.name for c in classes if not all(s.complete for s in class_book_statuses(c, 2))}
    assert unfinished == {"9A2"}
    assert all(s.complete for c in classes for s in class_book_statuses(c, 1))


def test_primary_marks_use_levels_tests_qualities_and_competencies(demo):
    marks = Mark.objects.filter(school__code=PRIMARY_CODE)
    assert set(marks.filter(kind=Kind.LEVEL).values_list("value", flat=True)) <= {
        "HTT", "HT", "CHT",
    }  # fmt: skip
    assert all(v.isdigit() for v in marks.filter(kind=Kind.TEST).values_list("value", flat=True))
    assert marks.filter(kind=Kind.QUALITY).exists()
    assert marks.filter(kind=Kind.COMPETENCY).exists()


def test_seeding_twice_changes_nothing(demo):
    counts = (Mark.objects.count(), MarkEvent.objects.count())
    assert set(seed_demo_marks().values()) == {0}
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "marks written" not in out.getvalue()
    assert (Mark.objects.count(), MarkEvent.objects.count()) == counts


def test_a_9a1_student_re_assessed_in_two_subjects_is_promoted(demo):
    """The summer of the demo (gradebook.demo.seed_summer): through save_mark, by each subject's
    teacher, and the student completes the programme after it."""
    from gradebook.results import class_results
    from schools.models import TeachingAssignment

    class_group = ClassGroup.objects.get(year__school__code=SECONDARY_CODE, name="9A1")
    marks = Mark.objects.filter(kind=Kind.REASSESSMENT).select_related("updated_by", "subject")
    assert marks.count() == 2
    for mark in marks:
        assert TeachingAssignment.objects.filter(
            class_group=class_group, subject=mark.subject, teacher=mark.updated_by
        ).exists()
        assert mark.events.get().new_value == mark.value
    (student,) = {mark.student_id for mark in marks}
    result = class_results(class_group).for_student(student)
    assert result.learning_year.level == "CD" and result.learning_reassessed.level != "CD"
    assert result.promotion.promoted and result.completes_programme


def test_an_8a1_student_is_exempt_from_physical_education_for_the_year(demo):
    from gradebook.demo import EXEMPTION_CLASS, EXEMPTION_ROLL, EXEMPTION_SUBJECT
    from gradebook.models import YEAR_TERM, Exemption, ExemptionState
    from gradebook.results import class_results

    exemption = Exemption.objects.get(school__code=SECONDARY_CODE)
    assert (exemption.state, exemption.term) == (ExemptionState.APPROVED, YEAR_TERM)
    assert exemption.class_group.name == EXEMPTION_CLASS
    assert exemption.class_group.enrollments.get(student=exemption.student).roll_number == (
        EXEMPTION_ROLL
    )
    assert exemption.requested_by == exemption.class_group.homeroom_teacher
    subject = exemption.subject
    assert subject.code == EXEMPTION_SUBJECT
    assert not Mark.objects.filter(student=exemption.student, subject=subject).exists()
    classmate = exemption.class_group.enrollments.exclude(student=exemption.student).first()
    assert Mark.objects.filter(student=classmate.student, subject=subject).exists()
    result = class_results(exemption.class_group).for_student(exemption.student_id)
    assert result.subject(EXEMPTION_SUBJECT).exempt
    assert result.learning_year is not None  # nothing missing: the year has its result


def test_a_comment_subjects_comment_agrees_with_its_levels(demo):
    from gradebook.demo import SUBJECT_COMMENTS

    year = School.objects.get(code=SECONDARY_CODE).current_year()
    comment_subjects = year.curriculum.filter(assessment=Assessment.COMMENT).values("subject_id")
    cells = defaultdict(dict)
    for m in Mark.objects.filter(year=year, subject_id__in=comment_subjects):
        cells[(m.student_id, m.subject_id, m.term)][m.kind, m.slot] = m.value
    checked = 0
    for values in cells.values():
        levels = [v for (kind, _), v in values.items() if kind != Kind.COMMENT]
        comment = values.get((Kind.COMMENT, ""))
        if comment is None or len(levels) < 4:  # the half-finished class
            continue
        expected = "D" if all(v == "D" for v in levels) else "CD"
        assert comment in SUBJECT_COMMENTS[expected]
        checked += 1
    assert checked > 1000
