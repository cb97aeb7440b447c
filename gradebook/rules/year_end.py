"""End of the secondary school year: conduct, awards, promotion.

Circular 22/2021/TT-BGDĐT, as restated in docs/regulations.md (#conduct, #secondary-awards,
#promotion). Article numbers are not cited here because they have not been checked against the
circular's text; the headings of docs/regulations.md are cited instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from .averages import score_tenths
from .codes import (
    CommentResult,
    Level,
    NextStep,
    PromotionReason,
    SecondaryAward,
    parse_comment_result,
    parse_level,
)
from .explain import Explanation, Step, level_name, tenths
from .learning import LearningLevel, learning_level
from .options import DEFAULT, RulesOptions

__all__ = [
    "MAX_ABSENCES",
    "Promotion",
    "award",
    "conduct_year",
    "explain_award",
    "explain_conduct_year",
    "promotion",
    "reassessed_learning_level",
    "summer_reassessment_subjects",
]

#: Most sessions (buổi) a student may miss in a year and still be promoted
#: (docs/regulations.md#promotion).
MAX_ABSENCES = 45

_T, _K, _D, _CD = Level.GOOD, Level.FAIR, Level.ACHIEVED, Level.NOT_YET_ACHIEVED

# The table of docs/regulations.md#conduct, indexed [HK II][HK I] as it is laid out there
# (rows are HK II).
_CONDUCT_YEAR: dict[Level, dict[Level, Level]] = {
    _T: {_T: _T, _K: _T, _D: _K, _CD: _K},
    _K: {_T: _K, _K: _K, _D: _K, _CD: _D},
    _D: {_T: _K, _K: _D, _D: _D, _CD: _D},
    _CD: {_T: _CD, _K: _CD, _D: _CD, _CD: _CD},
}


def conduct_year(term1: str, term2: str) -> Level:
    """Year conduct (kết quả rèn luyện cả năm) from the two terms (docs/regulations.md#conduct).

    The table is read with HK II as the row and HK I as the column: ``conduct_year("T", "D")``
    (HK I T, HK II D) is ``K``; any HK II ``CD`` gives ``CD``.
    """
    return _CONDUCT_YEAR[parse_level(term2)][parse_level(term1)]


def explain_conduct_year(term1: str, term2: str) -> Explanation:
    """Show the table lookup behind :func:`conduct_year` (docs/regulations.md#conduct)."""
    first, second = parse_level(term1), parse_level(term2)
    result = _CONDUCT_YEAR[second][first]
    return Explanation(
        steps=(
            Step(
                vi=f"Rèn luyện HK I: {level_name(first, language='vi')}; "
                f"HK II: {level_name(second, language='vi')}.",
                en=f"Conduct term I: {level_name(first, language='en')}; "
                f"term II: {level_name(second, language='en')}.",
            ),
            Step(
                vi=f"Bảng cả năm (hàng HK II {second}, cột HK I {first}) → "
                f"{level_name(result, language='vi')}",
                en=f"Year table (row term II {second}, column term I {first}) → "
                f"{level_name(result, language='en')}",
            ),
        ),
        result=result,
    )


def _award(
    conduct: Level, learning: Level, scores: dict[str, int], options: RulesOptions
) -> tuple[SecondaryAward | None, int, int]:
    need = options.few_scored_subjects.required(len(scores))
    at_nine = sum(1 for v in scores.values() if v >= 90)
    if conduct is not _T or learning is not _T:
        return None, at_nine, need
    if at_nine >= need:
        return SecondaryAward.EXCELLENT, at_nine, need
    return SecondaryAward.GOOD, at_nine, need


def award(
    conduct_year: str,
    learning: str,
    year_scores: Mapping[str, Decimal],
    *,
    options: RulesOptions = DEFAULT,
) -> SecondaryAward | None:
    """End-of-year award: ``"excellent"`` (Học sinh Xuất sắc), ``"good"`` (Học sinh Giỏi) or
    ``None`` (docs/regulations.md#secondary-awards).

    Excellent: year conduct ``T``, year learning ``T`` and at least 6 score-assessed subjects
    with year average ≥ 9.0 (fewer than 6 subjects: ``options.few_scored_subjects``).
    Good: conduct ``T`` and learning ``T`` but not excellent.
    """
    scores = {code: score_tenths(value) for code, value in year_scores.items()}
    return _award(parse_level(conduct_year), parse_level(learning), scores, options)[0]


def explain_award(
    conduct_year: str,
    learning: str,
    year_scores: Mapping[str, Decimal],
    *,
    options: RulesOptions = DEFAULT,
) -> Explanation:
    """Show why :func:`award` gives what it gives (docs/regulations.md#secondary-awards)."""
    conduct, level = parse_level(conduct_year), parse_level(learning)
    scores = {code: score_tenths(value) for code, value in year_scores.items()}
    result, at_nine, need = _award(conduct, level, scores, options)
    names = {
        SecondaryAward.EXCELLENT: ("Học sinh Xuất sắc", "Excellent student"),
        SecondaryAward.GOOD: ("Học sinh Giỏi", "Good student"),
        None: ("không có danh hiệu", "no award"),
    }
    vi_result, en_result = names[result]
    return Explanation(
        steps=(
            Step(
                vi=f"Rèn luyện cả năm {conduct}, học tập cả năm {level}: cả hai phải là T.",
                en=f"Year conduct {conduct}, year learning {level}: both must be T.",
            ),
            Step(
                vi=f"{at_nine} môn có ĐTBmcn ≥ 9,0; Học sinh Xuất sắc cần {need}.",
                en=f"{at_nine} subject(s) with year average ≥ 9.0; Excellent needs {need}.",
            ),
            Step(vi=f"Kết quả: {vi_result}.", en=f"Result: {en_result}."),
        ),
        result=result,
    )


def summer_reassessment_subjects(
    year_scores: Mapping[str, Decimal], year_comments: Mapping[str, str]
) -> set[str]:
    """Subjects to re-assess in the summer (docs/regulations.md#promotion): comment-assessed at
    ``CD`` and score-assessed with year average < 5.0.

    Only applies to a student whose year learning is ``CD`` with year conduct ≥ ``D``
    (see :func:`promotion`); this function just lists the subjects.
    """
    low = {code for code, value in year_scores.items() if score_tenths(value) < 50}
    failed = {
        code
        for code, value in year_comments.items()
        if parse_comment_result(value) is CommentResult.NOT_YET_ACHIEVED
    }
    return low | failed


def reassessed_learning_level(
    year_scores: Mapping[str, Decimal],
    year_comments: Mapping[str, str],
    reassessed: Mapping[str, Decimal | str],
    *,
    options: RulesOptions = DEFAULT,
) -> LearningLevel:
    """Year learning level after the summer re-assessment (docs/regulations.md#promotion).

    Each result in ``reassessed`` (a score for a score-assessed subject, ``D``/``CD`` for a
    comment-assessed one) replaces that subject's year result, and the level is recomputed with
    the adjustment rule. Re-assessing a subject that :func:`summer_reassessment_subjects` does
    not list is a ``ValueError``. The caller keeps the original values in the record's history.
    """
    due = summer_reassessment_subjects(year_scores, year_comments)
    extra = set(reassessed) - due
    if extra:
        raise ValueError(f"not due for re-assessment: {sorted(extra)}")
    scores = dict(year_scores)
    comments = dict(year_comments)
    for code, value in reassessed.items():
        if code in scores:
            if not isinstance(value, Decimal | int) or isinstance(value, bool):
                raise TypeError(f"re-assessment of {code} must be a score")
            scores[code] = Decimal(value)
        else:
            comments[code] = parse_comment_result(str(value))
    return learning_level(scores, comments, options=options)


@dataclass(frozen=True)
class Promotion:
    """The promotion decision (docs/regulations.md#promotion).

    ``promoted`` (lên lớp; for grades 9 and 12 read "completed the programme"); ``reasons``:
    the failed conditions in a stable order (conduct, learning, absences); ``next_step``:
    ``None`` when promoted, else summer training, re-assessment, or retained.
    """

    promoted: bool
    reasons: tuple[PromotionReason, ...]
    next_step: NextStep | None
    explanation: Explanation = field(compare=False, repr=False)

    def explain(self) -> Explanation:
        """The steps behind the decision (same as ``.explanation``)."""
        return self.explanation


def promotion(
    conduct_year: str,
    learning_year: str,
    absences: int,
    *,
    after_summer_training: bool = False,
    after_reassessment: bool = False,
) -> Promotion:
    """Promotion, summer training or re-assessment (docs/regulations.md#promotion).

    Promoted when year conduct ≥ ``D``, year learning ≥ ``D`` and at most 45 sessions absent.
    Otherwise the next step, first match wins:

    1. more than 45 absences → ``retained``, whatever the results;
    2. conduct ``CD`` → ``summer_training`` (the homeroom teacher then re-assesses conduct and
       this function is called again with the new level and ``after_summer_training=True``);
       conduct still ``CD`` after training → ``retained``;
    3. learning ``CD`` (conduct now ≥ ``D``) → ``reassessment`` of the subjects from
       :func:`summer_reassessment_subjects`; call again with the recomputed level and
       ``after_reassessment=True``; learning still ``CD`` → ``retained``.

    A student with both conduct and learning at ``CD`` therefore trains first, and is
    re-assessed only if conduct reaches ``D`` (re-assessment requires conduct ≥ ``D``).
    """
    if isinstance(absences, bool) or not isinstance(absences, int):
        raise TypeError("absences must be an int (sessions)")
    if absences < 0:
        raise ValueError("absences cannot be negative")
    conduct, learning = parse_level(conduct_year), parse_level(learning_year)
    reasons = tuple(
        reason
        for reason, failed in (
            (PromotionReason.CONDUCT, conduct is _CD),
            (PromotionReason.LEARNING, learning is _CD),
            (PromotionReason.ABSENCES, absences > MAX_ABSENCES),
        )
        if failed
    )
    if absences > MAX_ABSENCES:
        step: NextStep | None = NextStep.RETAINED
    elif conduct is _CD:
        step = NextStep.RETAINED if after_summer_training else NextStep.SUMMER_TRAINING
    elif learning is _CD:
        step = NextStep.RETAINED if after_reassessment else NextStep.REASSESSMENT
    else:
        step = None
    return Promotion(
        promoted=not reasons,
        reasons=reasons,
        next_step=step,
        explanation=_explain_promotion(conduct, learning, absences, step),
    )


_STEP_TEXT: dict[NextStep | None, tuple[str, str]] = {
    None: ("Được lên lớp.", "Promoted."),
    NextStep.RETAINED: ("Ở lại lớp.", "Retained (repeats the grade)."),
    NextStep.SUMMER_TRAINING: (
        "Rèn luyện trong kỳ nghỉ hè, sau đó giáo viên chủ nhiệm đánh giá lại rèn luyện cả năm.",
        "Summer conduct training, then the homeroom teacher re-assesses year conduct.",
    ),
    NextStep.REASSESSMENT: (
        "Kiểm tra, đánh giá lại trong kỳ nghỉ hè các môn Chưa đạt hoặc có ĐTBmcn dưới 5,0.",
        "Summer re-assessment of the subjects at CD or with a year average below 5.0.",
    ),
}


def _explain_promotion(
    conduct: Level, learning: Level, absences: int, step: NextStep | None
) -> Explanation:
    def mark(ok: bool, language: str) -> str:
        if language == "vi":
            return "đạt" if ok else "không đạt"
        return "met" if ok else "not met"

    conduct_ok, learning_ok = conduct is not _CD, learning is not _CD
    absences_ok = absences <= MAX_ABSENCES
    vi_step, en_step = _STEP_TEXT[step]
    limit = tenths(MAX_ABSENCES * 10, language="en")
    return Explanation(
        steps=(
            Step(
                vi=f"Rèn luyện cả năm {level_name(conduct, language='vi')} ≥ Đ: "
                f"{mark(conduct_ok, 'vi')}.",
                en=f"Year conduct {level_name(conduct, language='en')} ≥ D: "
                f"{mark(conduct_ok, 'en')}.",
            ),
            Step(
                vi=f"Học tập cả năm {level_name(learning, language='vi')} ≥ Đ: "
                f"{mark(learning_ok, 'vi')}.",
                en=f"Year learning {level_name(learning, language='en')} ≥ D: "
                f"{mark(learning_ok, 'en')}.",
            ),
            Step(
                vi=f"Nghỉ {absences} buổi, tối đa {limit}: {mark(absences_ok, 'vi')}.",
                en=f"{absences} sessions absent, at most {limit}: {mark(absences_ok, 'en')}.",
            ),
            Step(vi=vi_step, en=en_step),
        ),
        result=step,
    )
