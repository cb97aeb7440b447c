"""Reading a year's Mark rows once and looking cells up by key, for the result computations."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TypeVar

from gradebook.curriculum import regular_marks_per_term
from gradebook.models import Exemption, Kind, Mark
from gradebook.results.types import SubjectInfo, YearComments
from gradebook.rules import InvalidMark
from gradebook.rules.codes import (
    CommentResult,
    Level,
    QualityLevel,
    SubjectLevel,
    parse_comment_result,
    parse_level,
    parse_quality_level,
    parse_subject_level,
)
from gradebook.rules.primary import parse_test_score
from gradebook.rules.secondary import parse_score
from gradebook.study_plan import StudyPlan
from schools.models import CurriculumEntry, SchoolYear

# (student id, term, subject id or None, kind, slot)
CellKey = tuple[int, int, int | None, str, str]

T = TypeVar("T")
FLAG_KINDS = frozenset({Kind.RECOGNISED})
COMMENT_KINDS = frozenset({Kind.COMMENT, Kind.HOMEROOM_COMMENT})


class MarkSheet:
    """Every non-empty cell of some students in one year, by key. Values are canonical text."""

    def __init__(
        self,
        cells: dict[CellKey, str],
        exempt: set[tuple[int, int, int]] | None = None,
        plan: StudyPlan | None = None,
    ) -> None:
        self.cells = cells
        self.flags = {(k[0], k[3]) for k, v in cells.items() if v == "1" and k[3] in FLAG_KINDS}
        self.exempt = exempt or set()
        self.plan = plan or StudyPlan()

    @classmethod
    def load(
        cls, *, year: SchoolYear | int, student_ids: Iterable[int], upper: bool = False
    ) -> MarkSheet:
        """One query for all the students' marks of the year, one for their approved
        exemptions, and (``upper``: some are in grades 10-12) one for their subject choices."""
        student_ids = list(student_ids)
        rows = (
            Mark.objects.filter(year=year, student_id__in=student_ids)
            .exclude(value="")
            .values_list("student_id", "term", "subject_id", "kind", "slot", "value")
        )
        year_id = year if isinstance(year, int) else year.pk
        exempt = Exemption.objects.approved_cells(year_id=year_id, student_ids=student_ids)
        plan = StudyPlan.load(year_id=year_id, student_ids=student_ids) if upper else None
        return cls({(s, t, subj, k, slot): v for s, t, subj, k, slot, v in rows}, exempt, plan)

    def exempt_from(self, student_id: int, term: int, subject_id: int) -> bool:
        """Whether an approved exemption covers the subject in that term (1 or 2)."""
        return (student_id, term, subject_id) in self.exempt

    def text(self, key: CellKey) -> str | None:
        return self.cells.get(key)

    def score(self, key: CellKey) -> Decimal | None:
        return _parsed(self.cells.get(key), parse_score)

    def comment(self, key: CellKey) -> CommentResult | None:
        return _parsed(self.cells.get(key), parse_comment_result)

    def level(self, key: CellKey) -> Level | None:
        return _parsed(self.cells.get(key), parse_level)

    def subject_level(self, key: CellKey) -> SubjectLevel | None:
        return _parsed(self.cells.get(key), parse_subject_level)

    def quality(self, key: CellKey) -> QualityLevel | None:
        return _parsed(self.cells.get(key), parse_quality_level)

    def test(self, key: CellKey) -> int | None:
        return _parsed(self.cells.get(key), parse_test_score)

    def count(self, key: CellKey) -> int:
        """A number of sessions; an empty (or unreadable) cell counts as 0."""
        text = self.cells.get(key)
        return int(text) if text is not None and text.isascii() and text.isdigit() else 0

    def flag(self, student_id: int, kind: str) -> bool:
        """A yes/no homeroom flag (recognised by the class) set in any term of the year."""
        return (student_id, kind) in self.flags

    def comments(self, student_id: int) -> YearComments:
        """The student's year comments: each subject's and the homeroom teacher's, the latest
        term's where several terms have one. Looks through every cell: for one student's sheet."""
        written = sorted(
            (key for key in self.cells if key[0] == student_id and key[3] in COMMENT_KINDS),
            key=lambda key: key[1],
        )
        subjects: dict[int, str] = {}
        homeroom = ""
        for key in written:  # later terms overwrite earlier ones
            if key[3] == Kind.HOMEROOM_COMMENT:
                homeroom = self.cells[key]
            elif key[2] is not None:  # a subject teacher's comment names its subject
                subjects[key[2]] = self.cells[key]
        return YearComments(subjects, homeroom)


def _parsed(text: str | None, parse: Callable[[str], T]) -> T | None:
    """A stored value parsed by the rules; an unreadable value counts as missing (the write
    path only stores canonical values, so this is a row changed behind its back)."""
    if text is None:
        return None
    try:
        return parse(text)
    except InvalidMark:
        return None


def subject_infos(year_id: int, grade: int) -> tuple[SubjectInfo, ...]:
    """The subjects a grade studies in a year, in the school's order (one query)."""
    entries = (
        CurriculumEntry.objects.filter(year_id=year_id, grade=grade)
        .select_related("subject")
        .order_by("subject__order", "subject__code")
    )
    return tuple(_subject_info(entry) for entry in entries)


def subject_infos_by_grade(year_id: int) -> dict[int, tuple[SubjectInfo, ...]]:
    """:func:`subject_infos` of every grade of a year (one query)."""
    entries = (
        CurriculumEntry.objects.filter(year_id=year_id)
        .select_related("subject")
        .order_by("subject__order", "subject__code")
    )
    found: dict[int, list[SubjectInfo]] = {}
    for entry in entries:
        found.setdefault(entry.grade, []).append(_subject_info(entry))
    return {grade: tuple(infos) for grade, infos in found.items()}


def _subject_info(entry: CurriculumEntry) -> SubjectInfo:
    return SubjectInfo(
        pk=entry.subject_id,
        code=entry.subject.code,
        name=entry.subject.name,
        assessment=entry.assessment,
        regular_marks=regular_marks_per_term(entry),
        periodic_test=entry.periodic_test,
        regular_marks_with_topics=regular_marks_per_term(entry, with_topics=True),
    )
