"""A secondary subject's term: the marks its result needs, and the result computed from them.

The one home of this rule: the gradebook's columns, the grid's live term average, the class
results and the transcript all ask here (docs/regulations.md#how-many-marks-per-term,
docs/regulations.md#term-and-year-averages, docs/regulations.md#comment-assessed-subjects).
Marks come in as the gradebook stores them: canonical text by ``(kind, slot)``, the kind being a
:class:`~.codes.TermAssessment` code.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from .averages import (
    comment_term_result,
    explain_comment_term_result,
    explain_term_average,
    parse_score,
    term_average,
)
from .codes import AssessedBy, CommentResult, TermAssessment, parse_comment_result
from .errors import InvalidMark
from .explain import Explanation

__all__ = [
    "RequiredMark",
    "SubjectTermResult",
    "TermMarks",
    "mark_label",
    "required_marks",
    "subject_term_result",
]

#: A subject's cells of one term: ``(kind, slot)`` → canonical text (empty or ``None``: no mark).
TermMarks = Mapping[tuple[str, str], str | None]


#: The short names of the assessments; a regular mark adds its number ("TX2").
_LABELS: dict[str, str] = {
    TermAssessment.REGULAR: "TX",
    TermAssessment.MIDTERM: "GK",
    TermAssessment.FINAL: "CK",
}


@dataclass(frozen=True)
class RequiredMark:
    """One mark a term result needs: the cell that holds it and its short label."""

    kind: TermAssessment
    slot: str  # "1" … "n" for the regular marks, "" for the mid-term and end-of-term ones
    label: str  # "TX1", "GK", "CK": a column's heading and how a missing mark is named

    @property
    def key(self) -> tuple[str, str]:
        """``(kind, slot)``, as :data:`TermMarks` is keyed."""
        return (self.kind.value, self.slot)


def required_marks(regular_marks: int) -> tuple[RequiredMark, ...]:
    """The marks a subject's term result needs, in the order the gradebook shows them
    (docs/regulations.md#how-many-marks-per-term): TX1 … TXn, GK, CK.

    ``regular_marks`` is the subject's number of regular marks, as its curriculum entry gives it
    (:func:`~.averages.regular_mark_count` or the school's override).
    """
    if isinstance(regular_marks, bool) or not isinstance(regular_marks, int):
        raise TypeError("regular_marks must be an int")
    if regular_marks < 1:
        raise ValueError(f"a term needs at least one regular mark, got {regular_marks}")
    return _required_marks(regular_marks)


@functools.lru_cache(maxsize=16)
def _required_marks(regular_marks: int) -> tuple[RequiredMark, ...]:
    slots = [(TermAssessment.REGULAR, str(i)) for i in range(1, regular_marks + 1)]
    slots += [(TermAssessment.MIDTERM, ""), (TermAssessment.FINAL, "")]
    return tuple(RequiredMark(kind, slot, f"{_LABELS[kind]}{slot}") for kind, slot in slots)


def mark_label(kind: str, slot: str) -> str | None:
    """The short label of a term's mark (docs/regulations.md#how-many-marks-per-term), as
    :func:`required_marks` names it ("TX2", "GK", "CK"), from its cell's kind and slot; ``None``
    for a cell of another kind."""
    prefix = _LABELS.get(kind)
    return None if prefix is None else f"{prefix}{slot}"


@dataclass(frozen=True)
class SubjectTermResult:
    """A subject's term result: the term average ĐTBmhk (score-assessed) or ``D``/``CD``
    (comment-assessed); ``None`` while a required mark is missing, with ``missing`` naming them.
    ``marks`` keeps the inputs (TX…, GK, CK), read, for the explanation."""

    assessed_by: AssessedBy
    value: Decimal | CommentResult | None
    missing: tuple[str, ...] = ()
    marks: tuple[Decimal | CommentResult, ...] = ()

    @property
    def complete(self) -> bool:
        return self.value is not None

    def explain(self) -> Explanation | None:
        """The calculation, step by step; ``None`` while incomplete (``missing`` says why)."""
        if self.value is None:
            return None
        if self.assessed_by is AssessedBy.SCORE:
            return explain_term_average(*_scores(self.marks))
        return explain_comment_term_result([str(m) for m in self.marks], required=len(self.marks))


def subject_term_result(
    marks: TermMarks, *, regular_marks: int, assessed_by: AssessedBy | str
) -> SubjectTermResult:
    """A subject's term result from its marks of the term.

    Computed only when every mark of :func:`required_marks` is present
    (docs/regulations.md#how-many-marks-per-term); until then the value is ``None`` and
    ``missing`` lists the labels of the absent ones. A stored value that does not read as a mark
    of the subject counts as missing. Score-assessed: ``(sum of TX + 2 × GK + 3 × CK) / (n + 5)``,
    half-up (docs/regulations.md#term-and-year-averages); comment-assessed: ``D`` when every mark
    is ``D`` (docs/regulations.md#comment-assessed-subjects).
    """
    assessed = AssessedBy(assessed_by)
    scored = assessed is AssessedBy.SCORE
    read: Callable[[str], Decimal | CommentResult] = parse_score if scored else parse_comment_result
    found: list[Decimal | CommentResult] = []
    missing: list[str] = []
    for required in required_marks(regular_marks):
        value = _read(marks.get(required.key), read)
        if value is None:
            missing.append(required.label)
        else:
            found.append(value)
    if missing:
        return SubjectTermResult(assessed, None, tuple(missing))
    if scored:
        result: Decimal | CommentResult = term_average(*_scores(found))
    else:
        result = comment_term_result([str(m) for m in found], required=len(found))
    return SubjectTermResult(assessed, result, (), tuple(found))


def _scores(
    marks: Sequence[Decimal | CommentResult],
) -> tuple[list[Decimal], Decimal, Decimal]:
    """A score-assessed term's marks (every one a score) as the average takes them: the
    regular marks, the mid-term mark and the end-of-term mark."""
    *regular, midterm, final = [mark for mark in marks if isinstance(mark, Decimal)]
    return regular, midterm, final


def _read(
    text: str | None, read: Callable[[str], Decimal | CommentResult]
) -> Decimal | CommentResult | None:
    if not text:
        return None
    try:
        return read(text)
    except InvalidMark:
        return None
