"""Malformed numbers in the grid's poll, its saves and the correction request's cell: a clear,
translated 400 or 422 and nothing saved, never a server error (issue 18, low findings)."""

import json

import pytest
from django.urls import reverse

from gradebook.models import Mark

HUGE = 10**30  # past every database integer


@pytest.fixture
def maths(class_a):
    return class_a.year.school.subjects.get(code="TOAN")


@pytest.fixture
def changes_url(class_a, maths):
    return reverse("gradebook:grid_changes", args=["SCHOOLA", class_a.pk, maths.pk, 1])


@pytest.fixture
def save_url(class_a, maths):
    return reverse("gradebook:cell_save", args=["SCHOOLA", class_a.pk, maths.pk])


def post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    "since",
    [
        "²",  # a digit to str.isdigit, not to int()
        "2026-13-45T10:00:00+07:00",  # the shape of a date-time, no such date
        "2026-02-30T10:00:00+07:00",
        "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
        "9999-12-31T23:59:59-12:00",  # after year 9999 in UTC
        str(HUGE),
        "1" * 5000,  # past Python's digit limit for int()
    ],
)
def test_a_malformed_since_is_a_translated_400(english, teacher, changes_url, since):
    english.force_login(teacher)
    response = english.get(changes_url, {"since": since})
    assert response.status_code == 400
    assert "event number or an ISO date-time" in response.json()["error"]


def test_the_poll_error_is_in_vietnamese_by_default(client, teacher, changes_url):
    client.force_login(teacher)
    assert "thời điểm" in client.get(changes_url, {"since": "²"}).json()["error"]


@pytest.mark.parametrize("student", [HUGE, -HUGE, str(HUGE), "1" * 5000, 1e300, "²", True, 1.5])
def test_a_student_id_out_of_range_or_not_whole_is_a_400_and_nothing_saved(
    english, teacher, save_url, student
):
    english.force_login(teacher)
    body = {"student": student, "column": "1:tx:1", "value": "7", "version": 0}
    response = post_json(english, save_url, body)
    assert response.status_code == 400
    assert "must be whole numbers in range" in response.json()["error"]
    assert not Mark.objects.exists()


def test_infinity_as_a_student_id_is_a_400(english, teacher, save_url):
    english.force_login(teacher)
    body = '{"student": Infinity, "column": "1:tx:1", "value": "7", "version": 0}'
    response = english.post(save_url, body, content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize("version", [HUGE, -1, "1" * 5000])
def test_a_version_out_of_range_is_refused_and_nothing_saved(
    english, teacher, save_url, class_a, version
):
    english.force_login(teacher)
    student = class_a.enrollments.first().student_id
    body = {"student": student, "column": "1:tx:1", "value": "7", "version": version}
    assert post_json(english, save_url, body).status_code == 400
    assert not Mark.objects.exists()


def test_a_homeroom_save_with_a_huge_student_id_is_a_400(english, homeroom, class_a):
    english.force_login(homeroom)
    url = reverse("gradebook:cell_save", args=["SCHOOLA", class_a.pk])
    body = {"student": HUGE, "column": "1:conduct:", "value": "T", "version": 0}
    assert post_json(english, url, body).status_code == 400
    assert not Mark.objects.exists()


@pytest.mark.parametrize("name", ["class", "subject", "student"])
@pytest.mark.parametrize("value", [str(HUGE), "²"])
def test_a_correction_request_for_an_impossible_cell_is_a_404(
    teacher, client, class_a, maths, name, value
):
    student = class_a.enrollments.first().student
    params = {"class": class_a.pk, "subject": maths.pk, "student": student.pk, "column": "1:tx:1"}
    client.force_login(teacher)
    response = client.get(
        reverse("gradebook:correction_new", args=["SCHOOLA"]), {**params, name: value}
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "name", ["gradebook:grid", "gradebook:grid_changes", "gradebook:excel_export",
             "gradebook:excel_import"],
)  # fmt: skip
def test_a_huge_class_or_subject_in_the_address_is_a_404(teacher, client, class_a, maths, name):
    client.force_login(teacher)
    for args in (["SCHOOLA", HUGE, maths.pk, 1], ["SCHOOLA", class_a.pk, HUGE, 1]):
        assert client.get(reverse(name, args=args)).status_code == 404


def test_a_huge_class_or_subject_of_a_save_is_a_404(teacher, client, class_a, maths):
    client.force_login(teacher)
    student = class_a.enrollments.first().student_id
    body = {"student": student, "column": "1:tx:1", "value": "7", "version": 0}
    for args in (["SCHOOLA", HUGE, maths.pk], ["SCHOOLA", class_a.pk, HUGE], ["SCHOOLA", HUGE]):
        assert post_json(client, reverse("gradebook:cell_save", args=args), body).status_code == 404
    assert not Mark.objects.exists()


def test_a_huge_student_in_the_address_is_a_404(teacher, client, class_a, maths):
    client.force_login(teacher)
    for name, args in [
        ("gradebook:explain", ["SCHOOLA", class_a.pk, maths.pk, HUGE]),
        ("gradebook:cell_history", ["SCHOOLA", class_a.pk, maths.pk, HUGE]),
        ("gradebook:row_edit", ["SCHOOLA", class_a.pk, maths.pk, 1, HUGE]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 404, name
