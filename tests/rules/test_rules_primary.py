"""Primary rules (Circular 27/2020) against docs/regulations.md#primary-school."""

from __future__ import annotations

import pytest

from gradebook.rules import InvalidMark
from gradebook.rules.primary import award, explain_year_result, year_result

SUBJECTS = dict.fromkeys(["TV", "TOAN", "NN1", "DD", "LSDL", "KH", "THCN", "GDTC", "AN", "MT",
                          "HDTN"], "HTT")  # fmt: skip
QUALITIES = dict.fromkeys(["patriotism", "kindness", "diligence", "honesty", "responsibility"], "T")
COMPETENCIES = dict.fromkeys(
    ["autonomy", "communication", "problem_solving", "language", "mathematics", "science",
     "technology", "informatics", "aesthetics", "physical"], "T",
)  # fmt: skip
TESTS = dict.fromkeys(["TV", "TOAN", "NN1", "LSDL", "KH", "THCN"], 9)


def result(subjects=None, qualities=None, competencies=None, tests=None) -> str:
    return year_result(
        {**SUBJECTS, **(subjects or {})},
        {**QUALITIES, **(qualities or {})},
        {**COMPETENCIES, **(competencies or {})},
        {**TESTS, **(tests or {})},
    )


def test_section_23_example_one_ht_subject_gives_ht():
    tests = dict(zip(TESTS, [10, 9, 9, 10, 9, 9], strict=True))
    assert result(subjects={"AN": "HT"}, tests=tests) == "HT"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, "HTXS"),  # everything at the top, every test ≥ 9
        ({"tests": {"TOAN": 8}}, "HTT"),
        ({"tests": {"TOAN": 7}}, "HTT"),
        ({"tests": {"TOAN": 6}}, "HT"),
        ({"tests": {"TOAN": 5}}, "HT"),
        ({"tests": {"TOAN": 4}}, "CHT"),
        ({"qualities": {"honesty": "D"}}, "HT"),
        ({"competencies": {"physical": "D"}}, "HT"),
        ({"competencies": {"physical": "CCG"}}, "CHT"),
        ({"subjects": {"MT": "CHT"}}, "CHT"),
        ({"subjects": {"MT": "HT"}, "qualities": {"kindness": "Đ"}}, "HT"),
    ],
)
def test_year_result_table(changes, expected):
    assert result(**changes) == expected


def test_grades_without_tests_use_subjects_and_qualities_only():
    assert year_result(SUBJECTS, QUALITIES, COMPETENCIES, {}) == "HTXS"


def test_year_result_rejects_invalid_levels_and_scores():
    with pytest.raises(InvalidMark):
        result(subjects={"TV": "HTX"})
    with pytest.raises(InvalidMark):
        result(tests={"TV": 11})
    with pytest.raises(TypeError):
        result(tests={"TV": 9.5})


@pytest.mark.parametrize(
    ("overall", "recognised", "expected"),
    [
        ("HTXS", False, "excellent"),
        ("HTXS", True, "excellent"),
        ("HTT", True, "exemplary"),
        ("HTT", False, None),
        ("HT", True, None),
        ("CHT", True, None),
    ],
)
def test_award(overall, recognised, expected):
    assert award(overall, recognised) == expected


def test_explanation_names_the_subject_that_rules_out_the_top_levels():
    explanation = explain_year_result({**SUBJECTS, "AN": "HT"}, QUALITIES, COMPETENCIES, TESTS)
    assert explanation.result == "HT"
    assert "subjects not at HTT: AN HT" in explanation.text("en")
    assert "môn học, hoạt động không ở mức HTT: AN HT" in explanation.text("vi")
