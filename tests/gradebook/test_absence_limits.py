"""Issue 17, item 2: an absence count above the term's school days is refused; a term's absences
above the 45 sessions a year allows for promotion are saved with a warning the grid shows."""

from __future__ import annotations

import datetime
import json

import pytest
from django.urls import reverse


@pytest.fixture
def save(client, class_a, homeroom):
    client.force_login(homeroom)
    student = class_a.enrollments.order_by("roll_number").first().student
    url = reverse("gradebook:cell_save", args=["SCHOOLA", class_a.pk])

    def post(column: str, value: str):
        body = {"student": student.pk, "column": column, "value": value, "version": 0}
        body["version"] = versions.get(column, 0)
        response = client.post(url, json.dumps(body), content_type="application/json")
        if response.status_code == 200:
            versions[column] = response.json()["version"]
        return response

    versions: dict[str, int] = {}
    return post


def school_days(term) -> int:
    """Monday to Saturday from the term's first to its last day, counted one by one."""
    days = (term.ends_on - term.starts_on).days + 1
    every = (term.starts_on + datetime.timedelta(days=n) for n in range(days))
    return sum(1 for day in every if day.weekday() != 6)


def test_300_unexcused_absences_in_a_term_are_refused(save, class_a):
    most = school_days(class_a.year.terms.get(number=1))
    refused = save("1:abs_no:", "300")
    assert refused.status_code == 422
    assert "300" in refused.json()["error"] and str(most) in refused.json()["error"]
    assert save("1:abs_no:", str(most + 1)).status_code == 422
    assert save("1:abs_no:", str(most)).status_code == 200


def test_a_term_past_the_years_45_sessions_saves_with_a_warning(save):
    assert save("1:abs_ok:", "30").json()["warning"] == ""
    saved = save("1:abs_no:", "20")
    assert saved.status_code == 200 and saved.json()["value"] == "20"
    assert "50" in saved.json()["warning"] and "45" in saved.json()["warning"]
    assert save("1:abs_no:", "5").json()["warning"] == ""
