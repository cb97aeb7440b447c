"""Secondary rules (Circular 22/2021) against docs/regulations.md#secondary-school."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gradebook.rules import AdjustmentPolicy, FewSubjectsPolicy, InvalidMark, RulesOptions
from gradebook.rules.explain import TIMES as X
from gradebook.rules.secondary import (
    award,
    comment_term_result,
    comment_year_result,
    conduct_year,
    explain_award,
    explain_comment_term_result,
    explain_conduct_year,
    explain_term_average,
    explain_year_average,
    learning_level,
    promotion,
    reassessed_learning_level,
    regular_mark_count,
    summer_reassessment_subjects,
    table_level,
    term_average,
    year_average,
)


def scores(**values: str) -> dict[str, Decimal]:
    return {code: Decimal(value) for code, value in values.items()}


COMMENTS_PASSED = {"GDTC": "D", "NT": "D", "HDTN": "D", "GDDP": "D"}
# The example of docs/regulations.md#one-subject-adjustment: 9.0, 8.5, 8.2, 8.0, 8.1, 8.7, 7.0,
# 4.9, all comment subjects D.
SECTION_16 = scores(NV="9.0", TOAN="8.5", NN1="8.2", GDCD="8.0", LSDL="8.1", KHTN="8.7",
                    CN="7.0", TIN="4.9")  # fmt: skip
# The example of docs/regulations.md#promotion.
SECTION_19 = scores(NV="6.0", TOAN="4.6", NN1="3.2", GDCD="7.5", LSDL="6.8", KHTN="5.4",
                    CN="7.0", TIN="8.0")  # fmt: skip


# The worked examples of docs/regulations.md#term-and-year-averages, the tie among them.
@pytest.mark.parametrize(
    ("regular", "midterm", "final", "expected"),
    [
        (("8", "7.5", "9", "6"), "7", "8.5", "7.8"),  # Maths, 140 periods: 70/9 = 7.78
        (("6", "7", "5"), "6.5", "5.5", "5.9"),  # History, 52 periods: 47.5/8 = 5.9375
        (("6", "6", "6.4"), "6", "6", "6.1"),  # tie 48.4/8 = 6.05, half-up
        (("10", "10"), "10", "10", "10.0"),
        (("0", "0"), "0", "0", "0.0"),
    ],
)
def test_term_average_worked_examples(regular, midterm, final, expected):
    result = term_average([Decimal(m) for m in regular], Decimal(midterm), Decimal(final))
    assert str(result) == expected


def test_term_average_tie_is_half_up_where_float_round_is_not():
    assert round(48.4 / 8, 1) == 6.0  # the trap (docs/regulations.md#term-and-year-averages)
    assert term_average([Decimal(6), Decimal(6), Decimal("6.4")], Decimal(6), Decimal(6)) == (
        Decimal("6.1")
    )


def test_year_average_worked_example():
    assert str(year_average(Decimal("7.8"), Decimal("8.3"))) == "8.1"  # 24.4/3 = 8.13


def test_year_average_weights_term_two_double():
    assert year_average(Decimal(9), Decimal(6)) == Decimal("7.0")
    assert year_average(Decimal(6), Decimal(9)) == Decimal("8.0")


@pytest.mark.parametrize(
    "bad", [Decimal("7.25"), Decimal("10.5"), Decimal("-1"), Decimal("NaN"), Decimal("sNaN")]
)
def test_term_average_rejects_invalid_stored_marks(bad):
    with pytest.raises(InvalidMark):
        term_average([Decimal(5), bad], Decimal(5), Decimal(5))


def test_term_average_rejects_floats_and_missing_regular_marks():
    with pytest.raises(TypeError):
        term_average([7.5, Decimal(5)], Decimal(5), Decimal(5))
    with pytest.raises(ValueError):
        term_average([], Decimal(5), Decimal(5))


@pytest.mark.parametrize(
    ("periods", "expected"),
    [(1, 2), (35, 2), (36, 3), (52, 3), (70, 3), (71, 4), (105, 4), (140, 4)],
)
def test_regular_mark_count_follows_periods(periods, expected):
    assert regular_mark_count(periods) == expected


@pytest.mark.parametrize("periods", [35, 70, 105])
def test_comment_subjects_always_have_two_regular_marks(periods):
    assert regular_mark_count(periods, assessed_by="comment") == 2


def test_regular_mark_count_rejects_nonsense_periods():
    with pytest.raises(ValueError):
        regular_mark_count(0)


@pytest.mark.parametrize(
    ("assessments", "required", "expected"),
    [
        (["D", "D", "D", "D"], 4, "D"),
        (["D", "D", "D", "CD"], 4, "CD"),
        (["D", "D", "D"], 4, "CD"),  # incomplete
        (["D", "D", None, "D"], 4, "CD"),  # a missing assessment given as None
        (["Đ", "đ", " d ", "D"], 4, "D"),  # Vietnamese letter accepted
        (["D", "D"], 2, "D"),
    ],
)
def test_comment_term_result(assessments, required, expected):
    assert comment_term_result(assessments, required) == expected


def test_comment_term_result_rejects_extra_and_garbage():
    with pytest.raises(ValueError):
        comment_term_result(["D"] * 5)
    with pytest.raises(InvalidMark):
        comment_term_result(["D", "D", "X", "D"])


@pytest.mark.parametrize(("term1", "term2", "expected"), [("CD", "D", "D"), ("D", "CD", "CD")])
def test_comment_year_result_is_term_two(term1, term2, expected):
    assert comment_year_result(term1, term2) == expected


def test_explain_comment_term_result_counts_failures():
    explanation = explain_comment_term_result(["D", "CD", "D", "D"])
    assert explanation.result == "CD"
    assert "1 at CD" in explanation.text("en")


def test_learning_level_section_16_example_is_adjusted_to_k():
    result = learning_level(SECTION_16, COMMENTS_PASSED)
    assert (result.level, result.unadjusted, result.adjusted_for) == ("K", "D", "TIN")


def test_learning_level_section_19_example_is_cd_without_adjustment():
    result = learning_level(SECTION_19, COMMENTS_PASSED)
    assert (result.level, result.unadjusted, result.adjusted_for) == ("CD", "CD", None)


def test_reassessment_of_section_19_example_gives_d_and_promotion():
    due = summer_reassessment_subjects(SECTION_19, COMMENTS_PASSED)
    assert due == {"TOAN", "NN1"}
    assert promotion("D", "CD", 20).next_step == "reassessment"
    after = reassessed_learning_level(
        SECTION_19, COMMENTS_PASSED, {"TOAN": Decimal("5.5"), "NN1": Decimal("4.0")}
    )
    assert after.level == "D"
    decision = promotion("D", after.level, 20, after_reassessment=True)
    assert decision.promoted and decision.next_step is None


def test_reassessment_refuses_a_subject_that_was_not_due():
    with pytest.raises(ValueError):
        reassessed_learning_level(SECTION_19, COMMENTS_PASSED, {"NV": Decimal("9.0")})


def test_summer_reassessment_lists_comment_subjects_at_cd():
    comments = {**COMMENTS_PASSED, "GDTC": "CD"}
    assert summer_reassessment_subjects(scores(NV="5.0", TOAN="4.9"), comments) == {"TOAN", "GDTC"}


EIGHT_GOOD = dict(zip(["NV", "TOAN", "NN1", "GDCD", "LSDL", "KHTN"], ["8.0"] * 6, strict=True))


@pytest.mark.parametrize(
    ("values", "comments", "expected"),
    [
        ({**EIGHT_GOOD, "CN": "6.5", "TIN": "6.5"}, {}, "T"),  # thresholds are inclusive
        ({**EIGHT_GOOD, "CN": "6.4", "TIN": "9.0"}, {}, "K"),
        ({**dict.fromkeys(EIGHT_GOOD, "7.9"), "CN": "9"}, {}, "K"),  # only 1 subject ≥ 8.0
        ({**dict.fromkeys(EIGHT_GOOD, "6.5"), "CN": "5.0"}, {}, "K"),
        ({**dict.fromkeys(EIGHT_GOOD, "6.4"), "CN": "5.0"}, {}, "D"),  # only 0 ≥ 6.5
        ({**dict.fromkeys(EIGHT_GOOD, "5.0"), "CN": "3.5"}, {}, "D"),
        ({**dict.fromkeys(EIGHT_GOOD, "5.0"), "CN": "3.4"}, {}, "CD"),
        ({**EIGHT_GOOD, "CN": "8.0"}, {"GDTC": "CD", "NT": "CD"}, "CD"),  # two CD
    ],
)
def test_table_level_rows(values, comments, expected):
    assert table_level(scores(**values), comments) == expected


def test_one_comment_cd_is_adjusted_unless_policy_says_scored_only():
    comments = {**COMMENTS_PASSED, "NT": "CD"}
    values = scores(**EIGHT_GOOD, CN="9")
    default = learning_level(values, comments)
    assert (default.level, default.unadjusted, default.adjusted_for) == ("K", "D", "NT")
    scored_only = RulesOptions(adjustment=AdjustmentPolicy.SCORED_SUBJECTS_ONLY)
    strict = learning_level(values, comments, options=scored_only)
    assert (strict.level, strict.adjusted_for) == ("D", None)


def test_adjustment_needs_two_steps_to_t_or_k():
    # 3.4 keeps the level at CD; neutralised, the table gives only D: no adjustment.
    values = scores(**dict.fromkeys(EIGHT_GOOD, "5.0"), CN="3.4")
    result = learning_level(values, COMMENTS_PASSED)
    assert (result.level, result.adjusted_for) == ("CD", None)


def test_adjustment_from_cd_to_d():
    # Neutralising the 3.0 gives K (two steps above CD), so CD is raised to D, not to K.
    values = scores(**dict.fromkeys(EIGHT_GOOD, "7.0"), CN="3.0")
    result = learning_level(values, COMMENTS_PASSED)
    assert (result.level, result.unadjusted, result.adjusted_for) == ("D", "CD", "CN")


def test_fewer_than_six_scored_subjects_follow_the_policy():
    values = scores(NV="8.0", TOAN="8.5", NN1="9.0", LS="8.0")
    assert learning_level(values, COMMENTS_PASSED).level == "T"
    literal = RulesOptions(few_scored_subjects=FewSubjectsPolicy.LITERAL_SIX)
    assert learning_level(values, COMMENTS_PASSED, options=literal).level == "CD"


def test_learning_level_rejects_a_subject_in_both_mappings():
    with pytest.raises(ValueError):
        learning_level(scores(NT="8.0"), {"NT": "D"})


def test_learning_level_explanation_names_the_adjustment():
    result = learning_level(SECTION_16, COMMENTS_PASSED)
    en, vi = result.explanation.text("en"), result.explain().text("vi")
    assert "below 5.0: TIN 4.9" in en
    assert "Circular 22, Article 9, clause 3: D → K" in en
    assert "Điều 9 khoản 3" in vi and "TIN 4,9" in vi
    assert result.explanation.result == "K"


# docs/regulations.md#conduct, written out exactly as its table: rows HK II, columns HK I.
CONDUCT_TABLE = {
    "T": {"T": "T", "K": "T", "D": "K", "CD": "K"},
    "K": {"T": "K", "K": "K", "D": "K", "CD": "D"},
    "D": {"T": "K", "K": "D", "D": "D", "CD": "D"},
    "CD": {"T": "CD", "K": "CD", "D": "CD", "CD": "CD"},
}


@pytest.mark.parametrize(
    ("term1", "term2", "expected"),
    [(t1, t2, CONDUCT_TABLE[t2][t1]) for t2 in CONDUCT_TABLE for t1 in CONDUCT_TABLE[t2]],
)
def test_conduct_year_table(term1, term2, expected):
    assert conduct_year(term1, term2) == expected


def test_conduct_year_is_indexed_term_two_row_term_one_column():
    assert conduct_year(term1="T", term2="D") == "K"
    assert conduct_year(term1="D", term2="T") == "K"
    assert conduct_year(term1="CD", term2="K") == "D"
    assert conduct_year(term1="K", term2="CD") == "CD"
    assert explain_conduct_year("CD", "K").result == "D"


SIX_NINES = dict.fromkeys(["NV", "TOAN", "NN1", "GDCD", "LSDL", "KHTN"], Decimal("9.0"))


@pytest.mark.parametrize(
    ("conduct", "learning", "year_scores", "expected"),
    [
        ("T", "T", {**SIX_NINES, "CN": Decimal("7.0")}, "excellent"),
        ("T", "T", {**SIX_NINES, "KHTN": Decimal("8.9")}, "good"),
        ("K", "T", SIX_NINES, None),
        ("T", "K", SIX_NINES, None),
        ("T", "T", dict(list(SIX_NINES.items())[:5]), "excellent"),  # 5 subjects, all ≥ 9
    ],
)
def test_award(conduct, learning, year_scores, expected):
    assert award(conduct, learning, year_scores) == expected
    assert explain_award(conduct, learning, year_scores).result == expected


def test_award_with_few_subjects_under_literal_policy_is_only_good():
    literal = RulesOptions(few_scored_subjects=FewSubjectsPolicy.LITERAL_SIX)
    five = dict(list(SIX_NINES.items())[:5])
    assert award("T", "T", five, options=literal) == "good"


@pytest.mark.parametrize(
    ("conduct", "learning", "absences", "flags", "reasons", "next_step"),
    [
        ("D", "D", 45, {}, (), None),
        ("T", "T", 46, {}, ("absences",), "retained"),
        ("CD", "T", 0, {}, ("conduct",), "summer_training"),
        ("CD", "T", 0, {"after_summer_training": True}, ("conduct",), "retained"),
        ("D", "CD", 20, {}, ("learning",), "reassessment"),
        ("D", "CD", 20, {"after_reassessment": True}, ("learning",), "retained"),
        ("CD", "CD", 3, {}, ("conduct", "learning"), "summer_training"),
        ("D", "CD", 3, {"after_summer_training": True}, ("learning",), "reassessment"),
        ("CD", "CD", 50, {}, ("conduct", "learning", "absences"), "retained"),
    ],
)
def test_promotion(conduct, learning, absences, flags, reasons, next_step):
    decision = promotion(conduct, learning, absences, **flags)
    assert decision.promoted is (reasons == ())
    assert decision.reasons == reasons
    assert decision.next_step == next_step
    assert decision.explanation.result == next_step


def test_promotion_rejects_negative_absences():
    with pytest.raises(ValueError):
        promotion("T", "T", -1)


def test_term_average_explanation_matches_the_spec_layout():
    explanation = explain_term_average(
        [Decimal("8"), Decimal("7.5"), Decimal("9"), Decimal("6")], Decimal("7"), Decimal("8.5")
    )
    assert f"(8 + 7.5 + 9 + 6 + 2{X}7 + 3{X}8.5) / 9 = 70 / 9 ≈ 7.78 → 7.8" in explanation.text(
        "en"
    )
    assert f"(8 + 7,5 + 9 + 6 + 2{X}7 + 3{X}8,5) / 9 = 70 / 9 ≈ 7,78 → 7,8" in explanation.text(
        "vi"
    )
    assert explanation.result == Decimal("7.8")


def test_exact_quotients_are_shown_with_equals():
    tie = explain_term_average([Decimal(6), Decimal(6), Decimal("6.4")], Decimal(6), Decimal(6))
    assert "48.4 / 8 = 6.05 → 6.1" in tie.text("en")
    year = explain_year_average(Decimal("7.8"), Decimal("8.3"))
    assert f"(7.8 + 2{X}8.3) / 3 = 24.4 / 3 ≈ 8.13 → 8.1" in year.text("en")
    assert f"(7,8 + 2{X}8,3) / 3 = 24,4 / 3 ≈ 8,13 → 8,1" in year.text("vi")


def test_rules_options_round_trip_through_stored_settings():
    options = RulesOptions(adjustment="scored_subjects_only")
    assert options.adjustment is AdjustmentPolicy.SCORED_SUBJECTS_ONLY
    assert RulesOptions.from_mapping(options.as_mapping()) == options
    assert RulesOptions.from_mapping({}) == RulesOptions()


@pytest.mark.parametrize("stored", [{"adjustment": "sometimes"}, {"rounding": "half_even"}])
def test_rules_options_reject_unknown_settings(stored):
    with pytest.raises(ValueError):
        RulesOptions.from_mapping(stored)
