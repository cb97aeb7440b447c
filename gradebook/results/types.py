"""The shapes of computed results: frozen dataclasses, each value with its explanation.

Nothing here is stored: every object is computed from Mark rows by :mod:`gradebook.results`
through the rules package. ``None`` always means *incomplete* (a required mark is missing), never
a partial result.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

from gradebook.rules import Explanation, Step
from gradebook.rules.codes import (
    CommentResult,
    Level,
    PrimaryAward,
    PrimaryResult,
    QualityLevel,
    SecondaryAward,
    SubjectLevel,
)
from gradebook.rules.secondary import (
    AssessedBy,
    LearningLevel,
    Promotion,
    SubjectTermResult,
    explain_year_average,
)
from schools.models import Assessment, ClassGroup, SchoolYear, Student

#: A secondary subject's result: a one-decimal score or D/CD.
SubjectValue = Decimal | CommentResult


@dataclass(frozen=True)
class SubjectInfo:
    """A subject as the class's curriculum assesses it."""

    pk: int
    code: str
    name: str
    assessment: str  # schools.models.Assessment value
    regular_marks: int
    periodic_test: bool = False
    #: For a student of grades 10-12 who takes the subject's learning-topic clusters
    #: (docs/regulations.md#learning-topic-clusters); 0: as ``regular_marks``.
    regular_marks_with_topics: int = 0

    def for_student(self, *, with_topics: bool) -> SubjectInfo:
        """The subject as one student studies it: with the clusters' regular marks or not."""
        if not with_topics or self.regular_marks_with_topics in (0, self.regular_marks):
            return self
        return replace(self, regular_marks=self.regular_marks_with_topics)

    @property
    def scored(self) -> bool:
        return self.assessment == Assessment.SCORE

    @property
    def commented(self) -> bool:
        return self.assessment == Assessment.COMMENT

    @property
    def assessed_by(self) -> AssessedBy:
        """How a secondary subject's term result is read: a score, or else D/CD."""
        return AssessedBy.SCORE if self.scored else AssessedBy.COMMENT


def incomplete_explanation(missing: tuple[str, ...]) -> Explanation:
    """Why there is no result yet: the required marks that are still empty."""
    listed = ", ".join(missing)
    return Explanation(
        steps=(
            Step(
                vi=f"Chưa đủ điểm bắt buộc, còn thiếu: {listed}. Chưa tính kết quả.",
                en=f"Required marks missing: {listed}. No result until they are entered.",
            ),
        ),
        result=None,
    )


def exempt_explanation() -> Explanation:
    """Why an exempt subject has no result (docs/gradebook.md#exemptions)."""
    return Explanation(
        steps=(
            Step(
                vi="Học sinh được miễn môn học này: không tính kết quả, không tính vào xếp loại.",
                en="The student is exempt from this subject: no result, left out of the "
                "learning level.",
            ),
        ),
        result=None,
    )


# --- Secondary (Circular 22) ------------------------------------------------------------------


@dataclass(frozen=True)
class TermSubjectResult:
    """One subject in one term: the rule's term result (gradebook.rules.subject_term), the term
    average (score) or D/CD (comment), or None while a required mark is missing."""

    subject: SubjectInfo
    term: int
    computed: SubjectTermResult
    #: An approved exemption (gradebook.models.Exemption) covers the term: no value, nothing
    #: missing, left out of the learning level.
    exempt: bool = False

    @property
    def value(self) -> SubjectValue | None:
        return None if self.exempt else self.computed.value

    @property
    def missing(self) -> tuple[str, ...]:
        """The labels of the required marks still empty ("TX2", "CK")."""
        return () if self.exempt else self.computed.missing

    @property
    def marks(self) -> tuple[SubjectValue, ...]:
        """The inputs (tx…, gk, ck), read, once complete."""
        return self.computed.marks

    @property
    def complete(self) -> bool:
        return self.computed.complete

    @property
    def average(self) -> Decimal | None:
        return self.value if isinstance(self.value, Decimal) else None

    def explain(self) -> Explanation:
        if self.exempt:
            return exempt_explanation()
        explanation = self.computed.explain()
        return incomplete_explanation(self.missing) if explanation is None else explanation


@dataclass(frozen=True)
class YearSubjectResult:
    """One subject over the year: both terms, the year result (ĐTBmcn or the HK II D/CD), and
    the summer re-assessment mark if one was entered. ``value`` is the original year result; the
    re-assessment never overwrites it (``final`` is what the learning level uses after it)."""

    subject: SubjectInfo
    term1: TermSubjectResult
    term2: TermSubjectResult
    value: SubjectValue | None
    reassessment: SubjectValue | None = None
    #: Exempt both terms (or the whole year): no year result, left out of the learning level.
    #: Exempt in one term only, the year result is the other term's (docs/gradebook.md#exemptions).
    exempt: bool = False

    @property
    def complete(self) -> bool:
        return self.value is not None

    @property
    def final(self) -> SubjectValue | None:
        return self.reassessment if self.reassessment is not None else self.value

    def term(self, number: int) -> TermSubjectResult:
        return self.term1 if number == 1 else self.term2

    def explain(self) -> Explanation:
        if self.exempt:
            return exempt_explanation()
        if self.value is None:
            return incomplete_explanation(
                tuple(f"HK I: {m}" for m in self.term1.missing)
                + tuple(f"HK II: {m}" for m in self.term2.missing)
            )
        if self.term1.exempt or self.term2.exempt:
            studied, exempt = ("HK II", "HK I") if self.term1.exempt else ("HK I", "HK II")
            return Explanation(
                steps=(
                    Step(
                        vi=f"Miễn môn học {exempt}: kết quả cả năm lấy kết quả {studied} "
                        f"→ {self.value}.",
                        en=f"Exempt in {exempt}: the year result is the {studied} result "
                        f"→ {self.value}.",
                    ),
                ),
                result=self.value,
            )
        term1, term2 = self.term1.average, self.term2.average
        if self.subject.scored and term1 is not None and term2 is not None:
            return explain_year_average(term1, term2)
        return Explanation(
            steps=(
                Step(
                    vi=f"HK I {self.term1.value}, HK II {self.term2.value}: môn đánh giá bằng "
                    f"nhận xét lấy kết quả HK II → {self.value}.",
                    en=f"Term I {self.term1.value}, term II {self.term2.value}: a comment-"
                    f"assessed subject takes the term II result → {self.value}.",
                ),
            ),
            result=self.value,
        )


@dataclass(frozen=True)
class Conduct:
    """Conduct (kết quả rèn luyện): the homeroom teacher's term levels, the year level from the
    table of docs/regulations.md#conduct, and the level after summer training (``reassessed``)
    if any."""

    term1: Level | None
    term2: Level | None
    year: Level | None
    reassessed: Level | None = None
    explanation: Explanation | None = field(default=None, compare=False, repr=False)

    def term(self, number: int) -> Level | None:
        return self.term1 if number == 1 else self.term2

    @property
    def final(self) -> Level | None:
        """The year level that counts for promotion: after summer training when the year level
        was CD and the homeroom teacher has re-assessed it."""
        if self.year is Level.NOT_YET_ACHIEVED and self.reassessed is not None:
            return self.reassessed
        return self.year

    def explain(self) -> Explanation:
        if self.explanation is None:
            missing = tuple(
                label for label, v in (("HK I", self.term1), ("HK II", self.term2)) if v is None
            )
            return incomplete_explanation(missing)
        return self.explanation


@dataclass(frozen=True)
class Absences:
    """Sessions (buổi) absent, excused and unexcused, per term. An empty cell counts as 0."""

    term1_excused: int = 0
    term1_unexcused: int = 0
    term2_excused: int = 0
    term2_unexcused: int = 0

    def term(self, number: int) -> int:
        if number == 1:
            return self.term1_excused + self.term1_unexcused
        return self.term2_excused + self.term2_unexcused

    @property
    def excused(self) -> int:
        return self.term1_excused + self.term2_excused

    @property
    def unexcused(self) -> int:
        return self.term1_unexcused + self.term2_unexcused

    @property
    def total(self) -> int:
        return self.excused + self.unexcused


@dataclass(frozen=True)
class AwardResult:
    """The end-of-year award (None = no award) with the steps that lead to it."""

    award: SecondaryAward | PrimaryAward | None
    explanation: Explanation = field(compare=False, repr=False)

    def explain(self) -> Explanation:
        return self.explanation


@dataclass(frozen=True)
class SecondaryStudentResults:
    """Everything the regulation computes for one secondary student in one year.

    Learning levels are None until every subject of the period is complete; the year-end items
    (award, promotion) are None until the year learning level and year conduct exist.
    ``learning_reassessed`` is the year level after the summer re-assessment, computed once every
    subject due (``summer_reassessment``) has its re-assessment mark.
    """

    student: Student
    roll_number: int
    subjects: tuple[YearSubjectResult, ...]
    learning_term1: LearningLevel | None
    learning_term2: LearningLevel | None
    learning_year: LearningLevel | None
    learning_reassessed: LearningLevel | None
    conduct: Conduct
    absences: Absences
    award: AwardResult | None
    promotion: Promotion | None
    summer_reassessment: frozenset[str]
    completes_programme: bool
    """Grade 9 or 12: "promoted" reads "completed the lower / upper secondary programme"."""

    primary = False

    def subject(self, code: str) -> YearSubjectResult:
        return next(s for s in self.subjects if s.subject.code == code)

    def takes(self, code: str) -> bool:
        """Whether the student studies the subject (grades 10-12: an elective they did not
        choose is not among ``subjects``)."""
        return any(s.subject.code == code for s in self.subjects)

    def learning(self, period: int | str) -> LearningLevel | None:
        """The learning level of term 1, term 2 or "year" (before re-assessment)."""
        terms: dict[int | str, LearningLevel | None] = {
            1: self.learning_term1,
            2: self.learning_term2,
        }
        return terms.get(period, self.learning_year)

    @property
    def learning_final(self) -> LearningLevel | None:
        """The year learning level that counts: after the re-assessment when there was one."""
        return self.learning_reassessed or self.learning_year


# --- Primary (Circular 27) --------------------------------------------------------------------


@dataclass(frozen=True)
class PrimarySubjectResult:
    """One primary subject: the end-of-term-I and end-of-year levels (term 2 "end" slot), the
    matching periodic test scores where the subject has tests, and a re-test score if one was
    entered (the transcript shows the latest test score)."""

    subject: SubjectInfo
    term1_level: SubjectLevel | None
    year_level: SubjectLevel | None
    term1_test: int | None = None
    year_test: int | None = None
    retest: int | None = None

    def level(self, period: int | str) -> SubjectLevel | None:
        return self.term1_level if period == 1 else self.year_level

    def test(self, period: int | str) -> int | None:
        """The test score of term 1, or of the end of the year (the latest, after a re-test)."""
        if period == 1:
            return self.term1_test
        return self.retest if self.retest is not None else self.year_test

    @property
    def year_complete(self) -> bool:
        return self.year_level is not None and (
            not self.subject.periodic_test or self.test("year") is not None
        )


@dataclass(frozen=True)
class PrimaryStudentResults:
    """Everything Circular 27 computes for one primary student in one year. Qualities and
    competencies are keyed by their codes (gradebook.columns.QUALITIES / COMPETENCIES); the
    end-of-year point is the term 2 slot."""

    student: Student
    roll_number: int
    subjects: tuple[PrimarySubjectResult, ...]
    qualities_term1: dict[str, QualityLevel | None]
    qualities_year: dict[str, QualityLevel | None]
    competencies_term1: dict[str, QualityLevel | None]
    competencies_year: dict[str, QualityLevel | None]
    year_result: PrimaryResult | None
    year_result_explanation: Explanation = field(compare=False, repr=False)
    recognised: bool
    award: AwardResult | None
    completes_programme: bool
    """Grade 5: completion reads "completed the primary programme"."""

    primary = True

    def subject(self, code: str) -> PrimarySubjectResult:
        return next(s for s in self.subjects if s.subject.code == code)

    def qualities(self, period: int | str) -> dict[str, QualityLevel | None]:
        return self.qualities_term1 if period == 1 else self.qualities_year

    def competencies(self, period: int | str) -> dict[str, QualityLevel | None]:
        return self.competencies_term1 if period == 1 else self.competencies_year

    @property
    def completed_grade(self) -> bool | None:
        """HTXS, HTT and HT complete the grade; CHT does not; None while incomplete."""
        if self.year_result is None:
            return None
        return self.year_result is not PrimaryResult.NOT_COMPLETED


StudentResults = SecondaryStudentResults | PrimaryStudentResults


@dataclass(frozen=True)
class ClassResults:
    """The results of every student of a class for the class's year, in roll order."""

    class_group: ClassGroup
    primary: bool
    subjects: tuple[SubjectInfo, ...]
    students: tuple[StudentResults, ...]

    def for_student(self, student_id: int) -> StudentResults:
        return next(r for r in self.students if r.student.pk == student_id)


@dataclass(frozen=True)
class YearComments:
    """The teachers' comments of one student's year, as the transcript prints them: each
    subject teacher's (the latest term's: term II, else term I) and the homeroom teacher's."""

    subjects: dict[int, str] = field(default_factory=dict)  # subject id → comment
    homeroom: str = ""

    def subject(self, subject_id: int) -> str:
        """The comment of one subject ("" if none was written)."""
        return self.subjects.get(subject_id, "")


@dataclass(frozen=True)
class StudentYearResults:
    """One student's year, for the transcript: the class they finished the year in, the same
    results the class summary shows, and the teachers' comments."""

    student: Student
    year: SchoolYear
    class_group: ClassGroup
    primary: bool
    subjects: tuple[SubjectInfo, ...]
    results: StudentResults
    comments: YearComments
