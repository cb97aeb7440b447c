"""Typed input: every parser returns a valid value or raises InvalidMark, nothing else."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradebook.rules import InvalidMark, gettext_noop
from gradebook.rules.codes import (
    parse_comment_result,
    parse_level,
    parse_primary_result,
    parse_quality_level,
    parse_subject_level,
)
from gradebook.rules.primary import parse_test_score
from gradebook.rules.secondary import parse_score

# Text that looks like a number, to reach the parsers' interesting branches often.
NUMBERISH = st.from_regex(r"\s?[+-]?[0-9]{0,3}([.,][0-9]{0,3})?\s?", fullmatch=True)
ANY_TEXT = st.one_of(st.text(max_size=12), NUMBERISH)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7", "7.0"),
        ("7.5", "7.5"),
        ("7,5", "7.5"),
        (" 10 ", "10.0"),
        ("10.0", "10.0"),
        ("10,0", "10.0"),
        ("7.0", "7.0"),
        ("0", "0.0"),
        ("0,5", "0.5"),
    ],
)
def test_parse_score_accepts(text, expected):
    assert str(parse_score(text)) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("7.25", "too_precise"),
        ("7.50", "too_precise"),
        ("11", "out_of_range"),
        ("10.5", "out_of_range"),
        ("-1", "out_of_range"),
        ("9" * 5000, "out_of_range"),
        ("abc", "not_a_score"),
        ("NaN", "not_a_score"),
        ("Infinity", "not_a_score"),
        ("1e1", "not_a_score"),
        ("+7", "not_a_score"),
        ("-0", "not_a_score"),
        ("7.", "not_a_score"),
        (".5", "not_a_score"),
        ("1_0", "not_a_score"),
        ("07", "not_a_score"),
        ("7 5", "not_a_score"),
        ("\uff11\uff10", "not_a_score"),  # full-width "10"
        ("\u0667", "not_a_score"),  # Arabic-Indic seven
        ("", "empty"),
        ("   ", "empty"),
        (None, "empty"),
        (7, "not_a_score"),  # not text: no silent coercion
        (Decimal("7"), "not_a_score"),
    ],
)
def test_parse_score_rejects(text, code):
    with pytest.raises(InvalidMark) as caught:
        parse_score(text)
    assert caught.value.code == code


@pytest.mark.parametrize(("text", "expected"), [("0", 0), (" 7 ", 7), ("10", 10)])
def test_parse_test_score_accepts(text, expected):
    assert parse_test_score(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("7.5", "not_whole"),
        ("7,0", "not_whole"),  # decided: no decimal part at all, even .0
        ("7.0", "not_whole"),
        ("11", "out_of_range"),
        ("-1", "out_of_range"),
        ("", "empty"),
        ("07", "not_a_score"),
        ("+7", "not_a_score"),
        ("seven", "not_a_score"),
        ("\uff11", "not_a_score"),  # full-width "1"
    ],
)
def test_parse_test_score_rejects(text, code):
    with pytest.raises(InvalidMark) as caught:
        parse_test_score(text)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("parser", "text", "expected"),
    [
        (parse_level, "t", "T"),
        (parse_level, " K ", "K"),
        (parse_level, "Đ", "D"),
        (parse_level, "cđ", "CD"),
        (parse_comment_result, "CĐ", "CD"),
        (parse_comment_result, "đ", "D"),
        (parse_comment_result, "cd", "CD"),
        (parse_subject_level, "htt", "HTT"),
        (parse_subject_level, "CHT", "CHT"),
        (parse_quality_level, "ccg", "CCG"),
        (parse_quality_level, "Đ", "D"),
        (parse_primary_result, "htxs", "HTXS"),
    ],
)
def test_level_parsers_accept_codes_and_d_aliases(parser, text, expected):
    assert parser(text) == expected


@pytest.mark.parametrize(
    ("parser", "text", "expected"),
    [
        (parse_quality_level, "d", "D"),
        (parse_quality_level, "đ", "D"),
        (parse_quality_level, "Đạt", "D"),
        (parse_quality_level, "dat", "D"),
        (parse_quality_level, "Tốt", "T"),
        (parse_quality_level, "tot", "T"),
        (parse_quality_level, "Cần cố gắng", "CCG"),
        (parse_quality_level, "can  co gang", "CCG"),
        (parse_level, "Khá", "K"),
        (parse_level, "KHA", "K"),
        (parse_level, "Đạt", "D"),
        (parse_level, "Chưa đạt", "CD"),
        (parse_level, "chua dat", "CD"),
        (parse_level, "CHƯA ĐẠT", "CD"),
        (parse_level, "Cd", "CD"),
        (parse_comment_result, "Đạt", "D"),
        (parse_comment_result, "chưa đạt", "CD"),
        (parse_subject_level, "Hoàn thành tốt", "HTT"),
        (parse_subject_level, "chua hoan thanh", "CHT"),
        (parse_primary_result, "Hoàn thành xuất sắc", "HTXS"),
        (parse_level, "Chưa đạt", "CD"),  # decomposed (NFD) input
    ],
)
def test_level_parsers_accept_the_words_without_regard_to_case_or_diacritics(
    parser, text, expected
):
    assert parser(text) == expected


@pytest.mark.parametrize(
    ("parser", "text"),
    [
        (parse_level, "H"),
        (parse_level, "CCG"),
        (parse_level, "ĐĐ"),
        (parse_level, "Cần cố gắng"),
        (parse_level, "Tốtt"),
        (parse_comment_result, "K"),
        (parse_comment_result, "Tốt"),
        (parse_quality_level, "Khá"),
        (parse_subject_level, "Đạt"),
        (parse_subject_level, "H"),
        (parse_subject_level, "C"),
        (parse_quality_level, "K"),
        (parse_primary_result, "htx\u017f"),  # long s, which upper-cases to S
        (parse_level, None),
        (parse_level, ""),
        (parse_level, 3),
    ],
)
def test_level_parsers_reject(parser, text):
    with pytest.raises(InvalidMark):
        parser(text)


def test_invalid_mark_carries_msgid_params_and_english_text():
    with pytest.raises(InvalidMark) as caught:
        parse_score("11")
    exc = caught.value
    assert isinstance(exc, ValueError)
    assert "%(value)s" in exc.message
    assert exc.params == {"value": "11"}
    assert str(exc) == "“11” is outside the scale: a score is from 0 to 10."
    assert gettext_noop(exc.message) is exc.message


@pytest.mark.parametrize(
    ("parser", "allowed"),
    [
        (parse_subject_level, "HTT (Hoàn thành tốt), HT (Hoàn thành), CHT (Chưa hoàn thành)"),
        (parse_quality_level, "T (Tốt), Đ (Đạt), CCG (Cần cố gắng)"),
        (parse_level, "T (Tốt), K (Khá), Đ (Đạt), CĐ (Chưa đạt)"),
        (parse_comment_result, "Đ (Đạt), CĐ (Chưa đạt)"),
    ],
)
def test_invalid_mark_lists_the_allowed_levels_with_their_vietnamese_letters(parser, allowed):
    with pytest.raises(InvalidMark) as caught:
        parser("X")
    assert caught.value.params["allowed"] == allowed


def _documented_score(text: str) -> Decimal | None:
    """The grammar docs/regulations.md promises, written independently of the parser."""
    stripped = text.strip()
    if not re.fullmatch(r"(?:[0-9]|10)(?:[.,][0-9])?", stripped, flags=re.ASCII):
        return None
    value = Decimal(stripped.replace(",", "."))
    return value if value <= 10 else None


@given(ANY_TEXT)
def test_parse_score_accepts_exactly_the_documented_grammar(text):
    expected = _documented_score(text)
    try:
        result = parse_score(text)
    except InvalidMark:
        assert expected is None
        return
    assert result == expected
    assert result.as_tuple().exponent == -1
    assert Decimal(0) <= result <= Decimal(10)


@given(ANY_TEXT)
def test_parse_test_score_accepts_exactly_whole_numbers_to_ten(text):
    accepted = re.fullmatch(r"[0-9]|10", text.strip(), flags=re.ASCII) is not None
    try:
        result = parse_test_score(text)
    except InvalidMark:
        assert not accepted
        return
    assert accepted and result == int(text.strip())


@given(st.integers(0, 100), st.sampled_from([".", ","]), st.sampled_from(["", " ", "\t"]))
def test_every_valid_score_round_trips(tenths, separator, padding):
    whole, tenth = divmod(tenths, 10)
    text = f"{padding}{whole}{separator}{tenth}{padding}"
    assert parse_score(text) == Decimal(tenths) / 10


LEVEL_PARSERS = [
    parse_level,
    parse_comment_result,
    parse_subject_level,
    parse_quality_level,
    parse_primary_result,
]


@given(
    st.sampled_from(LEVEL_PARSERS),
    st.one_of(st.text(max_size=5), st.text(alphabet="TKDCHGXSđĐtkdc ", max_size=5)),
)
def test_level_parsers_return_a_code_or_raise_invalid_mark(parser, text):
    try:
        result = parser(text)
    except InvalidMark:
        return
    letters = text.strip().upper().replace("Đ", "D")
    assert letters == result.value or letters in {"TOT", "KHA", "DAT"}  # a code, or a word
