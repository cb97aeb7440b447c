"""Primary (grades 1-5): Circular 27/2020/TT-BGDĐT, docs/regulations.md#primary-school.

Article numbers of Circular 27 are not cited because they have not been checked against the
circular's text; the headings of docs/regulations.md are cited instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from .codes import (
    PrimaryAward,
    PrimaryResult,
    QualityLevel,
    SubjectLevel,
    parse_primary_result,
    parse_quality_level,
    parse_subject_level,
)
from .errors import (
    EMPTY_TEST_SCORE,
    NOT_A_TEST_SCORE,
    TEST_SCORE_NOT_WHOLE,
    TEST_SCORE_OUT_OF_RANGE,
    InvalidMark,
    quote_input,
)
from .explain import Explanation, Step, level_name

__all__ = [
    "PrimaryAward",
    "PrimaryResult",
    "QualityLevel",
    "SubjectLevel",
    "award",
    "explain_year_result",
    "parse_primary_result",
    "parse_quality_level",
    "parse_subject_level",
    "parse_test_score",
    "year_result",
]

_NUMBER = re.compile(r"([+-]?)([0-9]+)(?:[.,]([0-9]*))?", re.ASCII)


def parse_test_score(text: str) -> int:
    """Parse a typed periodic test score (docs/regulations.md#periodic-tests): a whole number 0-10.

    Accepted: ``"0"`` … ``"10"`` with optional surrounding spaces. Refused with
    :class:`InvalidMark`: any decimal part, even ``"7.0"``/``"7,0"`` (a primary test has no
    decimals, and a typed decimal usually means a secondary-style score was entered by
    mistake); ``"11"``, ``"-1"``, signs, leading zeros (``"07"``), empty text and anything that
    is not ASCII digits.
    """
    if text is None or (isinstance(text, str) and not text.strip()):
        raise InvalidMark(EMPTY_TEST_SCORE, code="empty")
    params = {"value": quote_input(text)}
    match = _NUMBER.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise InvalidMark(NOT_A_TEST_SCORE, code="not_a_score", params=params)
    sign, whole, fraction = match.groups()
    if sign == "-" and (whole.strip("0") or (fraction or "").strip("0")):
        raise InvalidMark(TEST_SCORE_OUT_OF_RANGE, code="out_of_range", params=params)
    if sign or fraction == "" or (len(whole) > 1 and whole.startswith("0")):
        raise InvalidMark(NOT_A_TEST_SCORE, code="not_a_score", params=params)
    if fraction is not None:
        raise InvalidMark(TEST_SCORE_NOT_WHOLE, code="not_whole", params=params)
    if len(whole) > 2 or int(whole) > 10:
        raise InvalidMark(TEST_SCORE_OUT_OF_RANGE, code="out_of_range", params=params)
    return int(whole)


def _test_score(value: int) -> int:
    """A stored test score, checked (docs/regulations.md#periodic-tests)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"a test score must be an int, not {type(value).__name__}")
    if not 0 <= value <= 10:
        raise InvalidMark(
            TEST_SCORE_OUT_OF_RANGE, code="out_of_range", params={"value": str(value)}
        )
    return value


class _Row(NamedTuple):
    """One row of the table of docs/regulations.md#overall-result."""

    result: PrimaryResult
    subjects: frozenset[SubjectLevel]
    qualities: frozenset[QualityLevel]
    min_test: int


_HTT, _HT = SubjectLevel.COMPLETED_WELL, SubjectLevel.COMPLETED
_GOOD, _ACHIEVED = QualityLevel.GOOD, QualityLevel.ACHIEVED
_ROWS = (
    _Row(PrimaryResult.EXCELLENT, frozenset({_HTT}), frozenset({_GOOD}), 9),
    _Row(PrimaryResult.COMPLETED_WELL, frozenset({_HTT}), frozenset({_GOOD}), 7),
    _Row(PrimaryResult.COMPLETED, frozenset({_HTT, _HT}), frozenset({_GOOD, _ACHIEVED}), 5),
)


class _Record(NamedTuple):
    subjects: dict[str, SubjectLevel]
    qualities: dict[str, QualityLevel]
    competencies: dict[str, QualityLevel]
    tests: dict[str, int]


def _record(
    subjects: Mapping[str, str],
    qualities: Mapping[str, str],
    competencies: Mapping[str, str],
    tests: Mapping[str, int],
) -> _Record:
    if not subjects:
        raise ValueError("an end-of-year result needs at least one subject")
    return _Record(
        subjects={code: parse_subject_level(v) for code, v in subjects.items()},
        qualities={code: parse_quality_level(v) for code, v in qualities.items()},
        competencies={code: parse_quality_level(v) for code, v in competencies.items()},
        tests={code: _test_score(v) for code, v in tests.items()},
    )


def _failures(row: _Row, record: _Record) -> list[tuple[str, str]]:
    """The conditions of ``row`` that ``record`` misses, as (vi, en) phrases; empty = met."""
    missed: list[tuple[str, str]] = []
    allowed_subjects = "/".join(level for level in SubjectLevel if level in row.subjects)
    allowed_qualities = "/".join(level for level in QualityLevel if level in row.qualities)
    groups = (
        (record.subjects, allowed_subjects, row.subjects, "môn học, hoạt động", "subjects"),
        (record.qualities, allowed_qualities, row.qualities, "phẩm chất", "qualities"),
        (record.competencies, allowed_qualities, row.qualities, "năng lực", "competencies"),
    )
    for values, allowed_text, allowed, vi_group, en_group in groups:
        off = "; ".join(f"{code} {v}" for code, v in sorted(values.items()) if v not in allowed)
        if off:
            missed.append(
                (
                    f"{vi_group} không ở mức {allowed_text}: {off}",
                    f"{en_group} not at {allowed_text}: {off}",
                )
            )
    low = "; ".join(f"{code} {v}" for code, v in sorted(record.tests.items()) if v < row.min_test)
    if low:
        missed.append(
            (
                f"bài kiểm tra dưới {row.min_test} điểm: {low}",
                f"tests below {row.min_test}: {low}",
            )
        )
    return missed


def _result(record: _Record) -> PrimaryResult:
    for row in _ROWS:
        if not _failures(row, record):
            return row.result
    return PrimaryResult.NOT_COMPLETED


def year_result(
    subjects: Mapping[str, str],
    qualities: Mapping[str, str],
    competencies: Mapping[str, str],
    tests: Mapping[str, int],
) -> PrimaryResult:
    """End-of-year overall result (docs/regulations.md#overall-result).

    ``HTXS``: every subject/activity ``HTT``, every quality and competency ``T``, every
    end-of-year test ≥ 9. ``HTT``: the same with tests ≥ 7. ``HT``: subjects ``HTT``/``HT``,
    qualities and competencies ``T``/``D``, tests ≥ 5. Otherwise ``CHT``. Each level applies
    only when the one above does not. ``tests`` holds the end-of-year scores (the latest score
    for a re-tested student); grades without periodic tests pass an empty mapping.
    """
    return _result(_record(subjects, qualities, competencies, tests))


def explain_year_result(
    subjects: Mapping[str, str],
    qualities: Mapping[str, str],
    competencies: Mapping[str, str],
    tests: Mapping[str, int],
) -> Explanation:
    """Show why :func:`year_result` gives what it gives (docs/regulations.md#overall-result)."""
    record = _record(subjects, qualities, competencies, tests)
    result = _result(record)

    def counted(values: Mapping[str, str], order: list[str]) -> str:
        return ", ".join(f"{sum(1 for v in values.values() if v == c)} {c}" for c in order)

    subject_counts = counted(record.subjects, [s.value for s in SubjectLevel])
    quality_counts = counted(
        {
            **{f"q:{k}": v for k, v in record.qualities.items()},
            **{f"c:{k}": v for k, v in record.competencies.items()},
        },
        [q.value for q in QualityLevel],
    )
    test_list = "; ".join(f"{code} {v}" for code, v in sorted(record.tests.items())) or "-"
    steps = [
        Step(
            vi=f"Môn học và hoạt động giáo dục: {subject_counts}.",
            en=f"Subjects and activities: {subject_counts}.",
        ),
        Step(
            vi=f"Phẩm chất và năng lực: {quality_counts}.",
            en=f"Qualities and competencies: {quality_counts}.",
        ),
        Step(vi=f"Bài kiểm tra cuối năm: {test_list}.", en=f"End-of-year tests: {test_list}."),
    ]
    for row in _ROWS:
        missed = _failures(row, record)
        vi_name = level_name(row.result, language="vi")
        en_name = level_name(row.result, language="en")
        if missed:
            steps.append(
                Step(
                    vi=f"{vi_name}: không đạt vì " + "; ".join(vi for vi, _ in missed),
                    en=f"{en_name}: not met: " + "; ".join(en for _, en in missed),
                )
            )
        else:
            steps.append(Step(vi=f"{vi_name}: đạt mọi điều kiện.", en=f"{en_name}: all met."))
            break
    steps.append(
        Step(
            vi=f"Kết quả giáo dục cuối năm: {level_name(result, language='vi')}",
            en=f"End-of-year result: {level_name(result, language='en')}",
        )
    )
    return Explanation(steps=tuple(steps), result=result)


def award(result: str, class_recognised: bool) -> PrimaryAward | None:
    """End-of-year primary award (docs/regulations.md#primary-awards).

    ``"excellent"`` (Học sinh Xuất sắc) for overall ``HTXS``; ``"exemplary"`` (Học sinh Tiêu
    biểu hoàn thành tốt trong học tập và rèn luyện) for overall ``HTT`` when the class has
    recognised an outstanding subject or clear progress (``class_recognised``, set by the
    homeroom teacher); otherwise ``None``. An ``HTXS`` student gets ``excellent`` only.
    """
    if not isinstance(class_recognised, bool):
        raise TypeError("class_recognised must be a bool")
    overall = parse_primary_result(result)
    if overall is PrimaryResult.EXCELLENT:
        return PrimaryAward.EXCELLENT
    if overall is PrimaryResult.COMPLETED_WELL and class_recognised:
        return PrimaryAward.EXEMPLARY
    return None
