"""Secondary results of one student, from a MarkSheet (docs/regulations.md#secondary-school)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from gradebook.models import YEAR_TERM, Kind
from gradebook.results.sheet import MarkSheet
from gradebook.results.types import (
    Absences,
    AwardResult,
    Conduct,
    SecondaryStudentResults,
    SubjectInfo,
    SubjectValue,
    TermSubjectResult,
    YearSubjectResult,
)
from gradebook.rules import RulesOptions
from gradebook.rules.codes import CommentResult, NextStep
from gradebook.rules.secondary import (
    LearningLevel,
    Promotion,
    award,
    comment_year_result,
    conduct_year,
    explain_award,
    explain_conduct_year,
    learning_level,
    promotion,
    reassessed_learning_level,
    required_marks,
    subject_term_result,
    summer_reassessment_subjects,
    year_average,
)
from schools.models import Student
from schools.programme import is_upper_secondary

FINAL_GRADES = frozenset({9, 12})


def _term_subject(
    sheet: MarkSheet, student_id: int, subject: SubjectInfo, term: int
) -> TermSubjectResult:
    """The term result of one subject, by the rule (None with the labels of the missing
    marks until every required mark is present)."""
    marks = {
        required.key: sheet.text((student_id, term, subject.pk, *required.key))
        for required in required_marks(subject.regular_marks)
    }
    computed = subject_term_result(
        marks, regular_marks=subject.regular_marks, assessed_by=subject.assessed_by
    )
    exempt = sheet.exempt_from(student_id, term, subject.pk)
    return TermSubjectResult(subject, term, computed, exempt=exempt)


def _year_subject(sheet: MarkSheet, student_id: int, subject: SubjectInfo) -> YearSubjectResult:
    term1 = _term_subject(sheet, student_id, subject, 1)
    term2 = _term_subject(sheet, student_id, subject, 2)
    value: SubjectValue | None = None
    if term1.exempt or term2.exempt:  # the year result is the studied term's, if any
        value = term2.value if term1.exempt else term1.value
    elif subject.scored:  # complete: both term averages
        if term1.average is not None and term2.average is not None:
            value = year_average(term1.average, term2.average)
    elif term1.complete and term2.complete:
        value = comment_year_result(str(term1.value), str(term2.value))
    key = (student_id, YEAR_TERM, subject.pk, Kind.REASSESSMENT, "")
    reassessment = sheet.score(key) if subject.scored else sheet.comment(key)
    exempt = term1.exempt and term2.exempt
    return YearSubjectResult(subject, term1, term2, value, reassessment, exempt=exempt)


def _split(
    values: Mapping[str, SubjectValue | None],
) -> tuple[dict[str, Decimal], dict[str, str]]:
    scores = {code: v for code, v in values.items() if isinstance(v, Decimal)}
    comments = {code: str(v) for code, v in values.items() if isinstance(v, CommentResult)}
    return scores, comments


def _learning(
    values: dict[str, SubjectValue | None], options: RulesOptions
) -> LearningLevel | None:
    """The learning level once every subject has its result; None while any is missing."""
    if not values or any(v is None for v in values.values()):
        return None
    scores, comments = _split(values)
    return learning_level(scores, comments, options=options)


def _conduct(sheet: MarkSheet, student_id: int) -> Conduct:
    term1 = sheet.level((student_id, 1, None, Kind.CONDUCT, ""))
    term2 = sheet.level((student_id, 2, None, Kind.CONDUCT, ""))
    reassessed = sheet.level((student_id, YEAR_TERM, None, Kind.CONDUCT_REASSESSED, ""))
    if term1 is None or term2 is None:
        return Conduct(term1, term2, None, reassessed)
    return Conduct(
        term1,
        term2,
        conduct_year(term1, term2),
        reassessed,
        explain_conduct_year(term1, term2),
    )


def _absences(sheet: MarkSheet, student_id: int) -> Absences:
    def count(term: int, kind: str) -> int:
        return sheet.count((student_id, term, None, kind, ""))

    return Absences(
        term1_excused=count(1, Kind.ABSENT_EXCUSED),
        term1_unexcused=count(1, Kind.ABSENT_UNEXCUSED),
        term2_excused=count(2, Kind.ABSENT_EXCUSED),
        term2_unexcused=count(2, Kind.ABSENT_UNEXCUSED),
    )


def _year_end(
    subjects: tuple[YearSubjectResult, ...],
    learning: LearningLevel,
    conduct: Conduct,
    absences: int,
    options: RulesOptions,
) -> tuple[Promotion, LearningLevel | None, frozenset[str]]:
    """Promotion, re-assessed learning level and subjects due (docs/regulations.md#promotion).

    Conduct CD re-assessed after summer training replaces the year conduct. Learning CD (with
    conduct ≥ D) sends the student to re-assessment; once every subject due has its
    re-assessment mark, those results replace the year results (originals kept), the level is
    recomputed with the adjustment rule, and the decision is taken again.
    """
    if conduct.year is None or conduct.final is None:
        raise ValueError("the year-end decision needs the year conduct")
    decision = promotion(conduct.year, learning.level, absences)
    trained = False
    if decision.next_step is NextStep.SUMMER_TRAINING and conduct.reassessed is not None:
        trained = True
        decision = promotion(
            conduct.reassessed, learning.level, absences, after_summer_training=True
        )
    if decision.next_step is not NextStep.REASSESSMENT:
        return decision, None, frozenset()
    scores, comments = _split({s.subject.code: s.value for s in subjects})
    due = frozenset(summer_reassessment_subjects(scores, comments))
    done = {s.subject.code: s.reassessment for s in subjects if s.subject.code in due}
    if not due or any(v is None for v in done.values()):
        return decision, None, due
    marks = {code: v if isinstance(v, Decimal) else str(v) for code, v in done.items()}
    reassessed = reassessed_learning_level(scores, comments, marks, options=options)
    decision = promotion(
        conduct.final,
        reassessed.level,
        absences,
        after_summer_training=trained,
        after_reassessment=True,
    )
    return decision, reassessed, due


def student_results(
    *,
    sheet: MarkSheet,
    student: Student,
    roll_number: int,
    subjects: tuple[SubjectInfo, ...],
    grade: int,
    options: RulesOptions,
) -> SecondaryStudentResults:
    """Every secondary result of one student in the sheet's year: in grades 10-12, of the
    subjects the student studies, each with the regular marks of the learning-topic clusters
    when the student takes them (docs/regulations.md#learning-topic-clusters)."""
    if is_upper_secondary(grade):
        plan = sheet.plan
        subjects = tuple(
            s.for_student(with_topics=plan.with_topics(student.pk, s.code))
            for s in subjects
            if plan.takes(student.pk, s.code)
        )
    per_subject = tuple(_year_subject(sheet, student.pk, s) for s in subjects)

    def values(period: int | str) -> dict[str, SubjectValue | None]:
        """Each subject's result, exempt subjects left out (the rules then apply the
        few-subjects policy, RulesOptions.few_scored_subjects)."""
        if isinstance(period, str):  # "year"
            return {s.subject.code: s.value for s in per_subject if not s.exempt}
        return {
            s.subject.code: s.term(period).value for s in per_subject if not s.term(period).exempt
        }

    learning_year = _learning(values("year"), options)
    conduct = _conduct(sheet, student.pk)
    absences = _absences(sheet, student.pk)
    award_result = decision = reassessed = None
    due: frozenset[str] = frozenset()
    if learning_year is not None and conduct.year is not None:
        scores, _ = _split(values("year"))
        award_result = AwardResult(
            award(conduct.year, learning_year.level, scores, options=options),
            explain_award(conduct.year, learning_year.level, scores, options=options),
        )
        decision, reassessed, due = _year_end(
            per_subject, learning_year, conduct, absences.total, options
        )
    return SecondaryStudentResults(
        student=student,
        roll_number=roll_number,
        subjects=per_subject,
        learning_term1=_learning(values(1), options),
        learning_term2=_learning(values(2), options),
        learning_year=learning_year,
        learning_reassessed=reassessed,
        conduct=conduct,
        absences=absences,
        award=award_result,
        promotion=decision,
        summer_reassessment=due,
        completes_programme=grade in FINAL_GRADES,
    )
