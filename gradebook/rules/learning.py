"""Learning result (kết quả học tập) of a term or year: Circular 22/2021/TT-BGDĐT, Article 9.

The level table is docs/regulations.md#learning-result; the one-subject adjustment is Article 9,
clause 3, implemented as decided in docs/regulations.md#one-subject-adjustment (see
:class:`~gradebook.rules.options.AdjustmentPolicy`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from .averages import MAX_SCORE, score_tenths
from .codes import CommentResult, Level, parse_comment_result
from .explain import Explanation, Step, level_name, tenths
from .options import DEFAULT, AdjustmentPolicy, RulesOptions

__all__ = ["LearningLevel", "learning_level", "table_level"]


class _Row(NamedTuple):
    """One row of the learning-result table: the conditions for ``level``."""

    level: Level
    #: Most comment-assessed subjects at CD allowed.
    max_not_passed: int
    #: Every score must be at least this (tenths).
    floor: int
    #: At least 6 (see FewSubjectsPolicy) scores must reach this (tenths).
    count_at: int


_ROWS = (
    _Row(Level.GOOD, max_not_passed=0, floor=65, count_at=80),
    _Row(Level.FAIR, max_not_passed=0, floor=50, count_at=65),
    _Row(Level.ACHIEVED, max_not_passed=1, floor=35, count_at=50),
)


@dataclass(frozen=True)
class LearningLevel:
    """A learning level with what it would have been without the Article 9 clause 3 adjustment.

    ``level`` is the result; ``unadjusted`` the level the table gives; ``adjusted_for`` the
    subject code whose single shortfall triggered the adjustment, else ``None`` (and then
    ``level == unadjusted``).
    """

    level: Level
    unadjusted: Level
    adjusted_for: str | None
    explanation: Explanation = field(compare=False, repr=False)

    def explain(self) -> Explanation:
        """The steps behind the level (same as ``.explanation``)."""
        return self.explanation


class _Subjects(NamedTuple):
    scores: dict[str, int]  # subject code -> average in tenths
    comments: dict[str, CommentResult]


def _normalise(scores: Mapping[str, Decimal], comments: Mapping[str, str]) -> _Subjects:
    overlap = set(scores) & set(comments)
    if overlap:
        raise ValueError(f"subjects both scored and comment-assessed: {sorted(overlap)}")
    if not scores and not comments:
        raise ValueError("a learning level needs at least one subject")
    return _Subjects(
        scores={code: score_tenths(value) for code, value in scores.items()},
        comments={code: parse_comment_result(value) for code, value in comments.items()},
    )


def _failures(row: _Row, subjects: _Subjects, options: RulesOptions) -> list[tuple[str, str]]:
    """The conditions of ``row`` that ``subjects`` miss, as (vi, en) phrases; empty = met."""
    missed: list[tuple[str, str]] = []
    not_passed = sorted(
        code for code, c in subjects.comments.items() if c is CommentResult.NOT_YET_ACHIEVED
    )
    if len(not_passed) > row.max_not_passed:
        codes = ", ".join(not_passed)
        missed.append(
            (
                f"{len(not_passed)} môn đánh giá bằng nhận xét Chưa đạt ({codes}), "
                f"tối đa {row.max_not_passed}",
                f"{len(not_passed)} comment-assessed subject(s) at CD ({codes}), "
                f"at most {row.max_not_passed} allowed",
            )
        )
    below = sorted((v, code) for code, v in subjects.scores.items() if v < row.floor)
    if below:
        missed.append(
            (
                f"có môn dưới {tenths(row.floor, language='vi', always_decimal=True)}: "
                + "; ".join(
                    f"{code} {tenths(v, language='vi', always_decimal=True)}" for v, code in below
                ),
                f"below {tenths(row.floor, language='en', always_decimal=True)}: "
                + "; ".join(
                    f"{code} {tenths(v, language='en', always_decimal=True)}" for v, code in below
                ),
            )
        )
    need = options.few_scored_subjects.required(len(subjects.scores))
    reached = sum(1 for v in subjects.scores.values() if v >= row.count_at)
    if reached < need:
        missed.append(
            (
                f"chỉ {reached} môn ≥ {tenths(row.count_at, language='vi', always_decimal=True)}"
                f", cần {need}",
                f"only {reached} subject(s) ≥ "
                f"{tenths(row.count_at, language='en', always_decimal=True)}, {need} needed",
            )
        )
    return missed


def table_level(
    scores: Mapping[str, Decimal],
    comments: Mapping[str, str],
    *,
    options: RulesOptions = DEFAULT,
) -> Level:
    """The level the table of docs/regulations.md#learning-result gives, *without* the Article 9
    clause 3 adjustment."""
    return _table_level(_normalise(scores, comments), options)


def _table_level(subjects: _Subjects, options: RulesOptions) -> Level:
    for row in _ROWS:
        if not _failures(row, subjects, options):
            return row.level
    return Level.NOT_YET_ACHIEVED


def _neutralised(subjects: _Subjects, code: str) -> _Subjects:
    """``subjects`` with ``code`` treated as meeting every threshold (score 10 / D)."""
    scores = dict(subjects.scores)
    comments = dict(subjects.comments)
    if code in scores:
        scores[code] = MAX_SCORE
    else:
        comments[code] = CommentResult.ACHIEVED
    return _Subjects(scores, comments)


def _adjustment_trigger(
    subjects: _Subjects, computed: Level, options: RulesOptions
) -> tuple[str, Level] | None:
    """The first subject (by code) whose neutralisation lifts the level to T or K by ≥ 2 steps."""
    candidates = sorted(subjects.scores)
    if options.adjustment is AdjustmentPolicy.ANY_SUBJECT:
        candidates += sorted(subjects.comments)
    for code in candidates:
        lifted = _table_level(_neutralised(subjects, code), options)
        if lifted in (Level.GOOD, Level.FAIR) and computed.rank - lifted.rank >= 2:
            return code, lifted
    return None


def learning_level(
    scores: Mapping[str, Decimal],
    comments: Mapping[str, str],
    *,
    options: RulesOptions = DEFAULT,
) -> LearningLevel:
    """Learning result of a term or year (Circular 22, Article 9).

    ``scores`` maps each score-assessed subject code to its term average (for a term) or year
    average (for the year); ``comments`` maps each comment-assessed subject code to ``D``/``CD``.
    The table level is raised one step when, for a single subject treated as meeting every
    threshold, the table would give ``T`` or ``K`` at least two steps above it (Article 9,
    clause 3; which subjects count is ``options.adjustment``). "At least 6 subjects" for a
    student with fewer score-assessed subjects follows ``options.few_scored_subjects``.
    See docs/regulations.md#learning-result.
    """
    subjects = _normalise(scores, comments)
    computed = _table_level(subjects, options)
    trigger = _adjustment_trigger(subjects, computed, options)
    level = computed.raised() if trigger else computed
    adjusted_for = trigger[0] if trigger else None
    explanation = Explanation(
        steps=(
            *_input_steps(subjects, options),
            *_table_steps(subjects, computed, options),
            _adjustment_step(computed, trigger),
            Step(
                vi=f"Kết quả học tập: {level_name(level, language='vi')}",
                en=f"Learning result: {level_name(level, language='en')}",
            ),
        ),
        result=level,
    )
    return LearningLevel(
        level=level, unadjusted=computed, adjusted_for=adjusted_for, explanation=explanation
    )


def _input_steps(subjects: _Subjects, options: RulesOptions) -> list[Step]:
    def listed(language: str) -> str:
        parts = [
            f"{code} {tenths(v, language=language, always_decimal=True)}"
            for code, v in sorted(subjects.scores.items())
        ]
        return "; ".join(parts) or "-"

    comments = "; ".join(f"{code} {c}" for code, c in sorted(subjects.comments.items())) or "-"
    steps = [
        Step(
            vi=f"Môn đánh giá bằng điểm ({len(subjects.scores)}): {listed('vi')}",
            en=f"Score-assessed subjects ({len(subjects.scores)}): {listed('en')}",
        ),
        Step(
            vi=f"Môn đánh giá bằng nhận xét ({len(subjects.comments)}): {comments}",
            en=f"Comment-assessed subjects ({len(subjects.comments)}): {comments}",
        ),
    ]
    need = options.few_scored_subjects.required(len(subjects.scores))
    if len(subjects.scores) < 6:
        steps.append(
            Step(
                vi=f"Học sinh có dưới 6 môn đánh giá bằng điểm: điều kiện “ít nhất 6 môn” "
                f"được tính là {need} môn (tùy chọn {options.few_scored_subjects}).",
                en=f"Fewer than 6 score-assessed subjects: “at least 6 subjects” is read as "
                f"{need} (option {options.few_scored_subjects}).",
            )
        )
    return steps


def _table_steps(subjects: _Subjects, computed: Level, options: RulesOptions) -> list[Step]:
    steps = []
    for row in _ROWS:
        missed = _failures(row, subjects, options)
        vi_name, en_name = (
            level_name(row.level, language="vi"),
            level_name(row.level, language="en"),
        )
        if missed:
            steps.append(
                Step(
                    vi=f"Mức {vi_name}: không đạt vì " + "; ".join(vi for vi, _ in missed),
                    en=f"Level {en_name}: not met: " + "; ".join(en for _, en in missed),
                )
            )
        else:
            steps.append(
                Step(vi=f"Mức {vi_name}: đạt mọi điều kiện.", en=f"Level {en_name}: all met.")
            )
        if row.level is computed:
            break
    steps.append(
        Step(
            vi=f"Mức theo bảng (chưa điều chỉnh): {level_name(computed, language='vi')}",
            en=f"Level from the table (before adjustment): {level_name(computed, language='en')}",
        )
    )
    return steps


def _adjustment_step(computed: Level, trigger: tuple[str, Level] | None) -> Step:
    if trigger is None:
        return Step(
            vi="Không điều chỉnh (Điều 9 khoản 3): không có môn duy nhất nào làm mức thấp hơn "
            "mức Tốt hoặc Khá từ hai bậc trở lên.",
            en="No adjustment (Article 9, clause 3): no single subject keeps the level two or "
            "more steps below Good or Fair.",
        )
    code, lifted = trigger
    raised = computed.raised()
    return Step(
        vi=f"Nếu riêng môn {code} đạt mọi ngưỡng, mức sẽ là {level_name(lifted, language='vi')}, "
        f"cao hơn {computed.rank - lifted.rank} bậc → điều chỉnh lên một bậc theo Điều 9 khoản 3 "
        f"Thông tư 22: {computed} → {raised}.",
        en=f"With {code} alone meeting every threshold the level would be "
        f"{level_name(lifted, language='en')}, {computed.rank - lifted.rank} steps higher → raised "
        f"one step under Circular 22, Article 9, clause 3: {computed} → {raised}.",
    )
