"""The one rule of a subject's term: the marks it needs and its result
(docs/regulations.md#how-many-marks-per-term, docs/regulations.md#term-and-year-averages)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gradebook.rules.secondary import mark_label, required_marks, subject_term_result


def marks(regular: list[str], midterm: str, final: str) -> dict[tuple[str, str], str]:
    cells = {("tx", str(i)): value for i, value in enumerate(regular, start=1)}
    return {**cells, ("gk", ""): midterm, ("ck", ""): final}


def test_a_term_needs_its_regular_marks_then_the_midterm_and_end_of_term_marks():
    assert [m.label for m in required_marks(3)] == ["TX1", "TX2", "TX3", "GK", "CK"]
    assert [m.key for m in required_marks(2)] == [("tx", "1"), ("tx", "2"), ("gk", ""), ("ck", "")]


def test_a_mark_is_named_as_the_rule_names_it_and_other_cells_are_not():
    assert (mark_label("tx", "2"), mark_label("ck", ""), mark_label("comment", "")) == (
        "TX2",
        "CK",
        None,
    )


def test_a_term_needs_at_least_one_regular_mark():
    with pytest.raises(ValueError):
        required_marks(0)


@pytest.mark.parametrize(
    ("regular", "midterm", "final", "expected"),
    [
        (["8", "7.5", "9", "6"], "7", "8.5", "7.8"),  # Maths, 4 regular marks
        (["6", "7", "5"], "6.5", "5.5", "5.9"),  # History, 3 regular marks
        (["6", "6", "6.4"], "6", "6", "6.1"),  # a tie, rounded up
    ],
)
def test_the_term_average_of_the_regulation_examples(regular, midterm, final, expected):
    result = subject_term_result(
        marks(regular, midterm, final), regular_marks=len(regular), assessed_by="score"
    )
    assert result.value == Decimal(expected)
    assert result.explain().result == Decimal(expected)


def test_a_missing_or_unreadable_mark_leaves_the_term_incomplete_and_is_named():
    cells = {**marks(["8", "", "9"], "7", "x"), ("tx", "3"): "9"}
    result = subject_term_result(cells, regular_marks=3, assessed_by="score")
    assert (result.value, result.missing, result.explain()) == (None, ("TX2", "CK"), None)


def test_a_comment_subject_passes_only_when_every_mark_is_d():
    passed = subject_term_result(
        marks(["D", "D"], "D", "D"), regular_marks=2, assessed_by="comment"
    )
    failed = subject_term_result(
        marks(["D", "CD"], "D", "D"), regular_marks=2, assessed_by="comment"
    )
    assert (passed.value, failed.value) == ("D", "CD")
