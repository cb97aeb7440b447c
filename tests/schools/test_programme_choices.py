"""The programme's rules for a student's choices in grades 10-12 (schools/programme.py,
docs/curriculum.md#subject-choices-in-grades-10-to-12)."""

from __future__ import annotations

import pytest

from schools.programme import choice_errors, takes

GOOD_ELECTIVES = {"VL", "HH", "SH", "TIN"}
GOOD_TOPICS = {"VL", "HH", "TOAN"}


def test_four_electives_and_three_clusters_of_studied_subjects_pass():
    assert choice_errors(GOOD_ELECTIVES, GOOD_TOPICS) == []


def test_an_empty_choice_is_not_chosen_yet():
    assert choice_errors(set(), set()) == []


@pytest.mark.parametrize(
    ("electives", "topics", "words"),
    [
        ({"VL", "HH", "SH"}, GOOD_TOPICS, "exactly four"),
        ({"VL", "HH", "SH", "TIN", "DL"}, GOOD_TOPICS, "exactly four"),
        ({"VL", "HH", "SH", "TOAN"}, GOOD_TOPICS, "TOAN is not one of the nine"),
        (GOOD_ELECTIVES, {"VL", "HH"}, "exactly three"),
        (GOOD_ELECTIVES, {"VL", "HH", "DL"}, "clusters of DL need the subject"),
        (GOOD_ELECTIVES, {"VL", "HH", "NN1"}, "NN1 has no learning-topic clusters"),
        (GOOD_ELECTIVES, {"VL", "HH", "GDTC"}, "GDTC has no learning-topic clusters"),
    ],
)
def test_a_broken_rule_is_named(english, electives, topics, words):
    errors = choice_errors(electives, topics)
    assert any(words in message for message in errors), errors


def test_only_the_chosen_electives_are_studied():
    assert takes("VL", {"VL"}) and not takes("HH", {"VL"})
    assert takes("TOAN", set())  # compulsory
    assert takes("GDDP", set())
