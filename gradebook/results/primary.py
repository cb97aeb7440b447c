"""Primary results of one student, from a MarkSheet (docs/regulations.md#primary-school).

The end-of-year point of every item is its term 2 slot: a subject's "end" level and test, the
qualities and competencies of term 2. A re-test (kind ``reassess``, year-level) is the latest
end-of-year test score.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from gradebook.columns import COMPETENCIES, QUALITIES
from gradebook.models import YEAR_TERM, Kind
from gradebook.results.sheet import CellKey, MarkSheet
from gradebook.results.types import (
    AwardResult,
    PrimaryStudentResults,
    PrimarySubjectResult,
    SubjectInfo,
    incomplete_explanation,
)
from gradebook.rules import Explanation, Step
from gradebook.rules.codes import PrimaryAward, PrimaryResult, QualityLevel
from gradebook.rules.primary import award, explain_year_result
from schools.models import Student

FINAL_GRADE = 5
V = TypeVar("V")


def _subject(sheet: MarkSheet, student_id: int, subject: SubjectInfo) -> PrimarySubjectResult:
    def key(term: int, kind: str, slot: str = "end") -> CellKey:
        return (student_id, term, subject.pk, kind, slot)

    tests = subject.periodic_test
    return PrimarySubjectResult(
        subject=subject,
        term1_level=sheet.subject_level(key(1, Kind.LEVEL)),
        year_level=sheet.subject_level(key(2, Kind.LEVEL)),
        term1_test=sheet.test(key(1, Kind.TEST)) if tests else None,
        year_test=sheet.test(key(2, Kind.TEST)) if tests else None,
        retest=sheet.test(key(YEAR_TERM, Kind.REASSESSMENT, "")) if tests else None,
    )


def _levels(
    sheet: MarkSheet, student_id: int, term: int, kind: str, items: tuple[tuple[str, object], ...]
) -> dict[str, QualityLevel | None]:
    return {code: sheet.quality((student_id, term, None, kind, code)) for code, _ in items}


def _missing(
    subjects: tuple[PrimarySubjectResult, ...],
    qualities: dict[str, QualityLevel | None],
    competencies: dict[str, QualityLevel | None],
) -> tuple[str, ...]:
    missing = [s.subject.code for s in subjects if s.year_level is None]
    missing += [
        f"{s.subject.code} (test)"
        for s in subjects
        if s.subject.periodic_test and s.test("year") is None
    ]
    missing += [code for code, v in {**qualities, **competencies}.items() if v is None]
    return tuple(missing)


def student_results(
    *,
    sheet: MarkSheet,
    student: Student,
    roll_number: int,
    subjects: tuple[SubjectInfo, ...],
    grade: int,
) -> PrimaryStudentResults:
    """Every primary result of one student in the sheet's year: the overall result and award
    (docs/regulations.md#overall-result, docs/regulations.md#primary-awards)."""
    per_subject = tuple(_subject(sheet, student.pk, s) for s in subjects)
    qualities = _levels(sheet, student.pk, 2, Kind.QUALITY, QUALITIES)
    competencies = _levels(sheet, student.pk, 2, Kind.COMPETENCY, COMPETENCIES)
    recognised = sheet.flag(student.pk, Kind.RECOGNISED)
    missing = _missing(per_subject, qualities, competencies)
    result: PrimaryResult | None = None
    award_result: AwardResult | None = None
    if missing or not per_subject:
        explanation = incomplete_explanation(missing)
    else:  # nothing is missing: the filters below drop no value, they only narrow the types
        tests = {s.subject.code: s.test("year") for s in per_subject if s.subject.periodic_test}
        explanation = explain_year_result(
            {s.subject.code: s.year_level for s in per_subject if s.year_level is not None},
            _present(qualities),
            _present(competencies),
            _present(tests),
        )
        if not isinstance(explanation.result, PrimaryResult):
            raise TypeError("explain_year_result explains a PrimaryResult")
        result = explanation.result
        prize = award(result, recognised)
        award_result = AwardResult(prize, _award_explanation(result, recognised, prize))
    return PrimaryStudentResults(
        student=student,
        roll_number=roll_number,
        subjects=per_subject,
        qualities_term1=_levels(sheet, student.pk, 1, Kind.QUALITY, QUALITIES),
        qualities_year=qualities,
        competencies_term1=_levels(sheet, student.pk, 1, Kind.COMPETENCY, COMPETENCIES),
        competencies_year=competencies,
        year_result=result,
        year_result_explanation=explanation,
        recognised=recognised,
        award=award_result,
        completes_programme=grade == FINAL_GRADE,
    )


def _present(values: Mapping[str, V | None]) -> dict[str, V]:
    """The entries of ``values`` that have a value."""
    return {code: value for code, value in values.items() if value is not None}


def _award_explanation(
    result: PrimaryResult, recognised: bool, prize: PrimaryAward | None
) -> Explanation:
    flag_vi = "có" if recognised else "không"
    flag_en = "yes" if recognised else "no"
    return Explanation(
        steps=(
            Step(
                vi=f"Kết quả cuối năm {result}; được tập thể lớp công nhận: {flag_vi}.",
                en=f"End-of-year result {result}; recognised by the class: {flag_en}.",
            ),
            Step(
                vi="HTXS → Học sinh Xuất sắc; HTT và được lớp công nhận → Học sinh Tiêu biểu.",
                en="HTXS → Excellent student; HTT and recognised → Exemplary student.",
            ),
        ),
        result=prize,
    )
