"""Issue 17, item 1: every level shows its Vietnamese letter (Đ, CĐ) in the grid and its errors,
and the teachers' ways of typing it are accepted; the stored codes stay ASCII."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils import translation

from gradebook.columns import canonical_value
from gradebook.grid.display import display_value
from gradebook.messages import invalid_mark_message
from gradebook.rules import InvalidMark


@pytest.mark.parametrize(
    ("value", "value_type", "shown"),
    [
        ("D", "quality", "Đ"),
        ("T", "quality", "T"),
        ("CCG", "quality", "CCG"),
        ("D", "level", "Đ"),
        ("CD", "level", "CĐ"),
        ("CD", "pass", "CĐ"),
        ("HTT", "primary_level", "HTT"),
    ],
)
def test_the_grid_shows_each_level_with_its_vietnamese_letter(value, value_type, shown):
    assert display_value(value, value_type, "vi") == shown


@pytest.mark.parametrize("typed", ["Đ", "D", "đ", "d", "Đạt", "dat"])
def test_a_quality_is_stored_as_its_ascii_code(typed):
    assert canonical_value(typed, value_type="quality") == "D"


def test_a_quality_error_lists_the_vietnamese_letters_and_words():
    with pytest.raises(InvalidMark) as caught:
        canonical_value("X", value_type="quality")
    with translation.override("vi"):
        message = invalid_mark_message(caught.value)
    assert "T (Tốt), Đ (Đạt), CCG (Cần cố gắng)" in message
    assert "T, D, CCG" not in message


def test_a_refused_conduct_says_the_levels_with_diacritics(client, class_a, homeroom):
    client.force_login(homeroom)
    student = class_a.enrollments.order_by("roll_number").first().student
    url = reverse("gradebook:cell_save", args=["SCHOOLA", class_a.pk])
    body = {"student": student.pk, "column": "1:conduct:", "value": "X", "version": 0}
    response = client.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 422
    assert "T (Tốt), K (Khá), Đ (Đạt), CĐ (Chưa đạt)" in response.json()["error"]
    body["value"] = "chưa đạt"
    saved = client.post(url, json.dumps(body), content_type="application/json").json()
    assert (saved["value"], saved["display"]) == ("CD", "CĐ")
