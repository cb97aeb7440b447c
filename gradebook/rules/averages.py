"""Secondary marks and per-subject results.

Circular 22/2021/TT-BGDĐT, as restated in docs/regulations.md#secondary-school (typing a score,
marks per term, averages, comment-assessed subjects).

All arithmetic is on integer tenths: a score ``7.5`` is the integer ``75``. Rounding is
half-up to one decimal on the exact quotient, never via ``float`` or ``round()``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from .codes import AssessedBy, CommentResult, parse_comment_result
from .errors import (
    EMPTY_SCORE,
    NOT_A_SCORE,
    SCORE_OUT_OF_RANGE,
    SCORE_TOO_PRECISE,
    InvalidMark,
    quote_input,
)
from .explain import TIMES, Explanation, Step, quotient, tenths

__all__ = [
    "MAX_SCORE",
    "comment_term_result",
    "comment_year_result",
    "explain_comment_term_result",
    "explain_term_average",
    "explain_year_average",
    "parse_score",
    "regular_mark_count",
    "score_tenths",
    "term_average",
    "year_average",
]

#: The top of the 10-point scale, in tenths.
MAX_SCORE = 100

# Digits, an optional sign (refused with a precise message), an optional fraction after "." or
# ",". ASCII digits only: full-width or other Unicode digits are not scores.
_NUMBER = re.compile(r"([+-]?)([0-9]+)(?:[.,]([0-9]*))?", re.ASCII)


def parse_score(text: str) -> Decimal:
    """Parse a typed score (docs/regulations.md#typing-a-score) into a one-decimal ``Decimal``.

    Accepted: an integer or a number with one decimal place from 0 to 10, with a decimal point
    or a decimal comma, surrounded by optional spaces: ``"7"`` -> ``Decimal("7.0")``, ``"7,5"``,
    ``" 10 "``. ``"10.0"`` and ``"7.0"`` are accepted: they have one decimal place.

    Refused with :class:`InvalidMark`: empty text or ``None``; more than one decimal place
    (``"7.25"``, also ``"7.50"``); out of range (``"11"``, ``"10.5"``, ``"-1"``); a sign
    (``"+7"``); a dangling or missing digit (``"7."``, ``".5"``); leading zeros (``"07"``);
    exponents, ``NaN``, ``Infinity``, underscores, thousands separators and non-ASCII digits.
    """
    if isinstance(text, str):
        return _parse_score_text(text)
    if text is None:
        raise InvalidMark(EMPTY_SCORE, code="empty")
    raise InvalidMark(NOT_A_SCORE, code="not_a_score", params={"value": quote_input(text)})


@functools.lru_cache(maxsize=4096)  # pure; a class summary parses some 4,000 scores
def _parse_score_text(text: str) -> Decimal:
    if not text.strip():
        raise InvalidMark(EMPTY_SCORE, code="empty")
    params = {"value": quote_input(text)}
    match = _NUMBER.fullmatch(text.strip())
    if match is None:
        raise InvalidMark(NOT_A_SCORE, code="not_a_score", params=params)
    sign, whole, fraction = match.groups()
    if sign == "-" and (whole.strip("0") or (fraction or "").strip("0")):
        raise InvalidMark(SCORE_OUT_OF_RANGE, code="out_of_range", params=params)
    if sign or fraction == "" or (len(whole) > 1 and whole.startswith("0")):
        raise InvalidMark(NOT_A_SCORE, code="not_a_score", params=params)
    if fraction is not None and len(fraction) > 1:
        raise InvalidMark(SCORE_TOO_PRECISE, code="too_precise", params=params)
    if len(whole) > 2:  # checked before int(): a 5,000-digit string must not reach int()
        raise InvalidMark(SCORE_OUT_OF_RANGE, code="out_of_range", params=params)
    value = int(whole) * 10 + int(fraction or "0")
    if value > MAX_SCORE:
        raise InvalidMark(SCORE_OUT_OF_RANGE, code="out_of_range", params=params)
    return Decimal(value).scaleb(-1)


def score_tenths(value: Decimal | int) -> int:
    """A stored score as integer tenths, checked (docs/regulations.md#typing-a-score).

    ``Decimal`` (any exponent, e.g. ``Decimal("7.50")``) or ``int``; raises
    :class:`InvalidMark` for a value off the scale or with more than one decimal place, and
    ``TypeError`` for ``float``/``bool``/``str`` (a programming error, not a user's mistake).
    """
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"a score must be a Decimal or int, not {type(value).__name__}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise InvalidMark(
            NOT_A_SCORE, code="not_a_score", params={"value": quote_input(str(value))}
        )
    return _finite_score_tenths(value)


@functools.lru_cache(maxsize=4096, typed=True)  # pure; a class summary converts ~4,000 scores
def _finite_score_tenths(value: Decimal | int) -> int:
    params = {"value": quote_input(str(value))}
    if not 0 <= value <= 10:
        raise InvalidMark(SCORE_OUT_OF_RANGE, code="out_of_range", params=params)
    scaled = Fraction(value) * 10  # exact, unlike Decimal arithmetic under a 28-digit context
    if scaled.denominator != 1:
        raise InvalidMark(SCORE_TOO_PRECISE, code="too_precise", params=params)
    return int(scaled)


def regular_mark_count(
    periods_per_year: int, *, assessed_by: AssessedBy | str = AssessedBy.SCORE
) -> int:
    """Number of regular marks (ĐĐGtx) per term (docs/regulations.md#how-many-marks-per-term).

    Score-assessed: ≤ 35 periods a year -> 2; > 35 and ≤ 70 -> 3; > 70 -> 4.
    Comment-assessed (``assessed_by="comment"``): always 2.
    """
    if isinstance(periods_per_year, bool) or not isinstance(periods_per_year, int):
        raise TypeError("periods_per_year must be an int")
    if periods_per_year < 1:
        raise ValueError(f"periods_per_year must be positive, got {periods_per_year}")
    if AssessedBy(assessed_by) is AssessedBy.COMMENT:
        return 2
    if periods_per_year <= 35:
        return 2
    if periods_per_year <= 70:
        return 3
    return 4


def _weighted(regular: Sequence[Decimal], midterm: Decimal, final: Decimal) -> tuple[int, int]:
    """(numerator in tenths, denominator) of the term-average formula, inputs validated."""
    if isinstance(regular, str | bytes) or len(regular) == 0:
        raise ValueError("a term average needs at least one regular mark")
    marks = [score_tenths(mark) for mark in regular]
    numerator = sum(marks) + 2 * score_tenths(midterm) + 3 * score_tenths(final)
    return numerator, len(marks) + 5


def _half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half-up to an integer (both non-negative)."""
    return (2 * numerator + denominator) // (2 * denominator)


def term_average(regular: Sequence[Decimal], midterm: Decimal, final: Decimal) -> Decimal:
    """Term average ĐTBmhk, half-up to one decimal (docs/regulations.md#term-and-year-averages).

    ``(sum of tx + 2 * gk + 3 * ck) / (number of tx + 5)``. The caller checks that every
    required mark is present (docs/regulations.md#how-many-marks-per-term); this function
    averages whatever regular marks it gets (at least one).
    """
    numerator, denominator = _weighted(regular, midterm, final)
    return Decimal(_half_up(numerator, denominator)).scaleb(-1)


def year_average(term1: Decimal, term2: Decimal) -> Decimal:
    """Year average ĐTBmcn = (ĐTBmhk I + 2 * ĐTBmhk II) / 3.

    Takes the *rounded* term averages; the result is rounded half-up to one decimal
    (docs/regulations.md#term-and-year-averages).
    """
    numerator = score_tenths(term1) + 2 * score_tenths(term2)
    return Decimal(_half_up(numerator, 3)).scaleb(-1)


def explain_term_average(
    regular: Sequence[Decimal], midterm: Decimal, final: Decimal
) -> Explanation:
    """Show the term-average calculation (docs/regulations.md#term-and-year-averages).

    e.g. ``(8 + 7.5 + 9 + 6 + 2*7 + 3*8.5) / 9 = 70 / 9 ≈ 7.78 → 7.8``
    (printed with a multiplication sign).
    """
    numerator, denominator = _weighted(regular, midterm, final)
    result = _half_up(numerator, denominator)
    gk, ck = score_tenths(midterm), score_tenths(final)

    def line(language: str) -> str:
        terms = [tenths(score_tenths(mark), language=language) for mark in regular]
        terms.append(f"2{TIMES}{tenths(gk, language=language)}")
        terms.append(f"3{TIMES}{tenths(ck, language=language)}")
        return (
            f"({' + '.join(terms)}) / {denominator} = "
            f"{tenths(numerator, language=language)} / {denominator} "
            f"{quotient(numerator, denominator, language=language)} → "
            f"{tenths(result, language=language, always_decimal=True)}"
        )

    n = len(regular)
    return Explanation(
        steps=(
            Step(
                vi=f"ĐTBmhk = (tổng {n} điểm ĐĐGtx + 2{TIMES}ĐĐGgk + 3{TIMES}ĐĐGck) / ({n} + 5)",
                en=(
                    f"Term average = (sum of {n} regular marks + 2{TIMES}mid-term "
                    f"+ 3{TIMES}end-of-term) / ({n} + 5)"
                ),
            ),
            Step(vi=line("vi"), en=line("en")),
            Step(
                vi="Làm tròn đến một chữ số thập phân, từ 0,05 trở lên làm tròn lên.",
                en="Rounded to one decimal place, halves rounded up.",
            ),
        ),
        result=Decimal(result).scaleb(-1),
    )


def explain_year_average(term1: Decimal, term2: Decimal) -> Explanation:
    """Show the year-average calculation (docs/regulations.md#term-and-year-averages).

    e.g. ``(7.8 + 2*8.3) / 3 = 24.4 / 3 ≈ 8.13 → 8.1``, printed with a multiplication sign.
    """
    t1, t2 = score_tenths(term1), score_tenths(term2)
    numerator = t1 + 2 * t2
    result = _half_up(numerator, 3)

    def line(language: str) -> str:
        return (
            f"({tenths(t1, language=language, always_decimal=True)} + 2{TIMES}"
            f"{tenths(t2, language=language, always_decimal=True)}) / 3 = "
            f"{tenths(numerator, language=language)} / 3 "
            f"{quotient(numerator, 3, language=language)} → "
            f"{tenths(result, language=language, always_decimal=True)}"
        )

    return Explanation(
        steps=(
            Step(
                vi=f"ĐTBmcn = (ĐTBmhk I + 2{TIMES}ĐTBmhk II) / 3, dùng ĐTBmhk đã làm tròn",
                en=f"Year average = (term I average + 2{TIMES}term II average) / 3, "
                "using the rounded term averages",
            ),
            Step(vi=line("vi"), en=line("en")),
            Step(
                vi="Làm tròn đến một chữ số thập phân, từ 0,05 trở lên làm tròn lên.",
                en="Rounded to one decimal place, halves rounded up.",
            ),
        ),
        result=Decimal(result).scaleb(-1),
    )


def _comment_term(
    assessments: Sequence[str | None], required: int
) -> tuple[CommentResult, list[CommentResult]]:
    if isinstance(assessments, str | bytes):
        raise TypeError("assessments must be a sequence of codes, not one string")
    if required < 1:
        raise ValueError("required must be at least 1")
    present = [parse_comment_result(a) for a in assessments if a is not None and a != ""]
    if len(present) > required:
        raise ValueError(f"{len(present)} assessments given, only {required} required")
    complete = len(present) == required
    passed = complete and all(a is CommentResult.ACHIEVED for a in present)
    return (CommentResult.ACHIEVED if passed else CommentResult.NOT_YET_ACHIEVED), present


def comment_term_result(assessments: Sequence[str | None], required: int = 4) -> CommentResult:
    """Term result of a comment-assessed subject (docs/regulations.md#comment-assessed-subjects).

    ``D`` only when all ``required`` assessments (2 regular, mid-term, end-of-term: 4) are
    present and every one is ``D``; otherwise ``CD``. Missing assessments may be left out or
    given as ``None``/``""``; more than ``required`` is a ``ValueError``.
    """
    return _comment_term(assessments, required)[0]


def explain_comment_term_result(
    assessments: Sequence[str | None], required: int = 4
) -> Explanation:
    """Show why a comment-assessed subject's term result is ``D`` or ``CD``
    (docs/regulations.md#comment-assessed-subjects)."""
    result, present = _comment_term(assessments, required)
    failing = sum(1 for a in present if a is CommentResult.NOT_YET_ACHIEVED)
    listed = ", ".join(str(a) for a in present) or "-"
    return Explanation(
        steps=(
            Step(
                vi=f"Có {len(present)}/{required} lần đánh giá: {listed}; {failing} lần CĐ.",
                en=f"{len(present)} of {required} assessments present: {listed}; {failing} at CD.",
            ),
            Step(
                vi=f"Đạt khi đủ {required} lần đánh giá và tất cả Đạt → {result}.",
                en=f"Pass (D) only when all {required} are present and D → {result}.",
            ),
        ),
        result=result,
    )


def comment_year_result(term1: str, term2: str) -> CommentResult:
    """Year result of a comment-assessed subject: the HK II result.

    ``term1`` is validated but does not count (docs/regulations.md#comment-assessed-subjects).
    """
    parse_comment_result(term1)
    return parse_comment_result(term2)
