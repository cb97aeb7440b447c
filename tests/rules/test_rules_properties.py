"""Invariants of the rules: exhaustive rounding, monotonicity, totality, recorded adjustments."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from math import floor

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from gradebook.rules import primary
from gradebook.rules.secondary import conduct_year, learning_level, term_average, year_average

ORDER = ["T", "K", "D", "CD"]  # best first
TENTHS = st.one_of(
    st.integers(0, 100),
    st.sampled_from([34, 35, 49, 50, 64, 65, 79, 80, 89, 90, 100]),  # threshold neighbours
)


def score(tenths: int) -> Decimal:
    return Decimal(tenths).scaleb(-1)


def marks_for(numerator: int, n: int) -> tuple[list[Decimal], Decimal, Decimal]:
    """Marks (n regular, mid-term, end-of-term) whose weighted sum is ``numerator`` tenths.

    Every numerator 0..100*(n+5) is achievable, and this greedy fill finds it: the end-of-term
    slot (weight 3) either fills to 10.0, leaving at most 100*(n+2), or leaves a remainder < 3;
    the mid-term slot (weight 2) then either fills, leaving at most 100*n, or leaves < 2. Either
    way at most 100*n remains, which n regular marks of 0..10.0 (weight 1) absorb exactly.
    """
    rest = numerator
    final = min(100, rest // 3)
    rest -= 3 * final
    midterm = min(100, rest // 2)
    rest -= 2 * midterm
    regular = []
    for _ in range(n):
        mark = min(100, rest)
        regular.append(mark)
        rest -= mark
    assert rest == 0
    return [score(m) for m in regular], score(midterm), score(final)


@pytest.mark.parametrize("n", [2, 3, 4])
def test_term_average_rounds_every_achievable_numerator_half_up(n):
    denominator = n + 5
    ties = 0
    for numerator in range(100 * denominator + 1):
        exact = Fraction(numerator, denominator)  # the average, in tenths
        expected = floor(exact + Fraction(1, 2))
        ties += exact.denominator == 2
        result = term_average(*marks_for(numerator, n))
        assert result == score(expected), (n, numerator)
        assert result.as_tuple().exponent == -1
    # docs/regulations.md#term-and-year-averages: ties (exact ...x5) occur only with 3 regular
    # marks (denominator 8).
    assert (ties > 0) == (n == 3)


@given(st.lists(TENTHS, min_size=2, max_size=4), TENTHS, TENTHS)
def test_term_average_lies_between_lowest_and_highest_mark(regular, midterm, final):
    result = term_average([score(m) for m in regular], score(midterm), score(final))
    marks = [*regular, midterm, final]
    assert score(min(marks)) <= result <= score(max(marks))


@given(st.lists(TENTHS, min_size=2, max_size=4), TENTHS, TENTHS, st.data())
def test_raising_any_mark_never_lowers_the_term_average(regular, midterm, final, data):
    marks = [*regular, midterm, final]
    index = data.draw(st.integers(0, len(marks) - 1))
    raised = list(marks)
    raised[index] = data.draw(st.integers(marks[index], 100))

    def average(values: list[int]) -> Decimal:
        return term_average([score(m) for m in values[:-2]], score(values[-2]), score(values[-1]))

    assert average(raised) >= average(marks)


@given(TENTHS, TENTHS, st.integers(0, 100))
def test_year_average_is_between_terms_and_monotone(term1, term2, bump):
    result = year_average(score(term1), score(term2))
    assert score(min(term1, term2)) <= result <= score(max(term1, term2))
    assert year_average(score(min(term1 + bump, 100)), score(term2)) >= result
    assert year_average(score(term1), score(min(term2 + bump, 100))) >= result


def test_conduct_table_is_total_and_monotone():
    for term1 in ORDER:
        for term2 in ORDER:
            level = conduct_year(term1, term2)
            assert level in ORDER
            # a better term (either one) never gives a worse year
            for better in ORDER[: ORDER.index(term1)]:
                assert ORDER.index(conduct_year(better, term2)) <= ORDER.index(level)
            for better in ORDER[: ORDER.index(term2)]:
                assert ORDER.index(conduct_year(term1, better)) <= ORDER.index(level)


SCORED = ["NV", "TOAN", "NN1", "GDCD", "LSDL", "KHTN", "CN", "TIN", "LS", "DL"]
COMMENTED = ["GDTC", "NT", "HDTN", "GDDP"]
SUBJECTS = st.tuples(
    st.dictionaries(st.sampled_from(SCORED), TENTHS, max_size=len(SCORED)),
    st.dictionaries(st.sampled_from(COMMENTED), st.sampled_from(["D", "D", "CD"])),
).filter(lambda s: s[0] or s[1])


def reference_table(scores: dict[str, int], comments: dict[str, str]) -> str:
    """The table of docs/regulations.md#learning-result, transcribed independently (default
    policy: fewer than 6 subjects -> all of them)."""
    values = list(scores.values())
    need = min(6, len(values))
    not_passed = list(comments.values()).count("CD")

    def reaching(threshold: int) -> int:
        return sum(v >= threshold for v in values)

    if not_passed == 0 and min(values, default=100) >= 65 and reaching(80) >= need:
        return "T"
    if not_passed == 0 and min(values, default=100) >= 50 and reaching(65) >= need:
        return "K"
    if not_passed <= 1 and reaching(50) >= need and min(values, default=100) >= 35:
        return "D"
    return "CD"


def level_of(scores: dict[str, int], comments: dict[str, str]):
    return learning_level({k: score(v) for k, v in scores.items()}, comments)


@given(SUBJECTS)
def test_learning_level_is_the_table_unless_an_adjustment_is_recorded(subjects):
    scores, comments = subjects
    result = level_of(scores, comments)
    assert result.unadjusted == reference_table(scores, comments)
    if result.adjusted_for is None:
        assert result.level == result.unadjusted
        return
    assert ORDER.index(result.level) == ORDER.index(result.unadjusted) - 1
    code = result.adjusted_for
    lifted = reference_table(
        {**scores, code: 100} if code in scores else scores,
        {**comments, code: "D"} if code in comments else comments,
    )
    assert lifted in ("T", "K")
    assert ORDER.index(result.unadjusted) - ORDER.index(lifted) >= 2


@given(SUBJECTS, st.data())
def test_raising_one_subject_never_lowers_the_learning_level(subjects, data):
    scores, comments = subjects
    code = data.draw(st.sampled_from(sorted([*scores, *comments])))
    if code in scores:
        better = ({**scores, code: data.draw(st.integers(scores[code], 100))}, comments)
    else:
        better = (scores, {**comments, code: "D"})
    before, after = level_of(scores, comments), level_of(*better)
    assert ORDER.index(after.level) <= ORDER.index(before.level)


SUBJECT_LEVELS = ["HTT", "HT", "CHT"]
QUALITY_LEVELS = ["T", "D", "CCG"]
PRIMARY_RESULTS = ["HTXS", "HTT", "HT", "CHT"]
PRIMARY_SUBJECTS = st.sampled_from(["TV", "TOAN", "NN1", "AN"])
PRIMARY_RECORD = st.tuples(
    st.dictionaries(PRIMARY_SUBJECTS, st.sampled_from(SUBJECT_LEVELS), min_size=1),
    st.dictionaries(st.sampled_from(["q1", "q2", "q3"]), st.sampled_from(QUALITY_LEVELS)),
    st.dictionaries(st.sampled_from(["c1", "c2"]), st.sampled_from(QUALITY_LEVELS)),
    st.dictionaries(st.sampled_from(["TV", "TOAN", "KH"]), st.integers(0, 10)),
)


@given(PRIMARY_RECORD, st.data())
def test_primary_improving_anything_never_lowers_the_result(record, data):
    part = data.draw(st.integers(0, 3))
    assume(record[part])
    key = data.draw(st.sampled_from(sorted(record[part])))
    current = record[part][key]
    if part == 3:
        improved_value = data.draw(st.integers(current, 10))
    else:
        order = SUBJECT_LEVELS if part == 0 else QUALITY_LEVELS
        improved_value = data.draw(st.sampled_from(order[: order.index(current) + 1]))
    improved = list(record)
    improved[part] = {**record[part], key: improved_value}
    before, after = primary.year_result(*record), primary.year_result(*improved)
    assert PRIMARY_RESULTS.index(after) <= PRIMARY_RESULTS.index(before)
