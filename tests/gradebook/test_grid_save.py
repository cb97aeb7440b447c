"""Saving one cell from the grid (200 / 409 / 422 / 423), its bounded cost, who may save, and the
poll that shows other people's saves."""

import json

import pytest
from django.urls import reverse

from gradebook import locks
from gradebook.models import Lock, Mark, MarkEvent


@pytest.fixture
def maths(class_a):
    return class_a.year.school.subjects.get(code="TOAN")


@pytest.fixture
def students(class_a):
    return [e.student for e in class_a.enrollments.order_by("roll_number")]


@pytest.fixture
def save_url(class_a, maths):
    return reverse("gradebook:cell_save", args=["SCHOOLA", class_a.pk, maths.pk])


def post(client, url, student, column, value, version, **extra):
    body = {"student": student.pk, "column": column, "value": value, "version": version}
    return client.post(url, json.dumps(body), content_type="application/json", **extra)


@pytest.fixture
def teacher_client(client, teacher):
    client.force_login(teacher)
    return client


def fill_row(client, url, student, marks):
    for column, value in marks.items():
        assert post(client, url, student, column, value, 0).status_code == 200


def test_save_returns_the_canonical_value_its_display_and_version(
    teacher_client, save_url, students
):
    response = post(
        teacher_client, save_url, students[0], "1:tx:1", "7,5", 0, REMOTE_ADDR="10.0.0.9"
    )
    assert response.status_code == 200
    data = response.json()
    assert (data["value"], data["display"], data["version"]) == ("7.5", "7,5", 1)
    assert data["changed"] is True
    event = MarkEvent.objects.get()
    assert (event.source, event.client_ip, event.new_value) == ("grid", "10.0.0.9", "7.5")


def test_form_encoded_save_works_too(teacher_client, save_url, students):
    body = {"student": students[0].pk, "column": "1:gk:", "value": "8", "version": "0"}
    assert teacher_client.post(save_url, body).json()["value"] == "8"


def test_the_last_mark_of_a_row_brings_back_its_term_average(teacher_client, save_url, students):
    marks = {"1:tx:1": "8", "1:tx:2": "7.5", "1:tx:3": "9", "1:tx:4": "6", "1:gk:": "7"}
    fill_row(teacher_client, save_url, students[0], marks)
    data = post(teacher_client, save_url, students[0], "1:ck:", "8,5", 0).json()
    assert data["row"] == {"term_average": {"value": "7.8", "display": "7,8"}}


def test_an_incomplete_row_has_no_average_yet(teacher_client, save_url, students):
    data = post(teacher_client, save_url, students[0], "1:ck:", "9", 0).json()
    assert data["row"] == {"term_average": {"value": "", "display": ""}}


def test_stale_version_is_a_409_with_the_current_value(teacher_client, save_url, students):
    post(teacher_client, save_url, students[1], "1:tx:2", "6", 0)
    response = post(teacher_client, save_url, students[1], "1:tx:2", "9", 0)
    assert response.status_code == 409
    data = response.json()
    assert (data["value"], data["display"], data["version"]) == ("6", "6", 1)
    assert data["conflict"] is True and data["message"]
    assert Mark.objects.get().value == "6"


def test_keep_mine_after_a_conflict_saves_with_the_new_version(teacher_client, save_url, students):
    post(teacher_client, save_url, students[1], "1:tx:2", "6", 0)
    conflict = post(teacher_client, save_url, students[1], "1:tx:2", "9", 0).json()
    data = post(teacher_client, save_url, students[1], "1:tx:2", "9", conflict["version"]).json()
    assert (data["value"], data["version"]) == ("9", 2)


@pytest.mark.parametrize("text", ["7.25", "11", "-1", "abc", "7,55"])
def test_invalid_value_is_a_422_with_a_reason_and_nothing_saved(
    teacher_client, save_url, students, text
):
    response = post(teacher_client, save_url, students[0], "1:ck:", text, 0)
    assert response.status_code == 422
    assert response.json()["error"]
    assert not MarkEvent.objects.exists()


def test_reason_is_translated_into_english_when_chosen(
    client, teacher, settings, save_url, students
):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(teacher)
    error = post(client, save_url, students[0], "1:ck:", "7.25", 0).json()["error"]
    assert "more than one decimal place" in error


def test_locked_cell_is_a_423(teacher_client, save_url, students, class_a, principal):
    Lock.objects.create(school=class_a.year.school, year=class_a.year, term=1, kind="locked",
                        reason="Khóa sổ HK I", created_by=principal)  # fmt: skip
    response = post(teacher_client, save_url, students[0], "1:tx:1", "7", 0)
    assert response.status_code == 423
    assert response.json()["locked"] is True
    assert "Khóa sổ HK I" in response.json()["message"]


def test_student_who_left_cannot_be_given_marks(teacher_client, save_url, class_a, students):
    class_a.enrollments.filter(student=students[2]).update(left_on="2025-11-01")
    assert post(teacher_client, save_url, students[2], "1:tx:1", "7", 0).status_code == 422


def test_unknown_column_or_missing_version_is_a_400(teacher_client, save_url, students):
    assert post(teacher_client, save_url, students[0], "1:reassess:", "7", 0).status_code == 400
    assert post(teacher_client, save_url, students[0], "1:tx:5", "7", 0).status_code == 400
    body = {"student": students[0].pk, "column": "1:tx:1", "value": "7"}
    assert teacher_client.post(save_url, body).status_code == 400


def test_a_student_of_another_class_is_a_404(teacher_client, save_url, class_a2):
    other = class_a2.enrollments.get().student
    assert post(teacher_client, save_url, other, "1:tx:1", "7", 0).status_code == 404


@pytest.mark.parametrize("persona", ["homeroom", "principal", "admin"])
def test_readers_cannot_save(client, world, save_url, students, persona):
    client.force_login(world["users"][persona])
    assert post(client, save_url, students[0], "1:tx:1", "7", 0).status_code == 403
    assert not Mark.objects.exists()


def test_homeroom_teacher_saves_conduct_but_not_the_subject_teacher(
    client, world, class_a, students
):
    url = reverse("gradebook:cell_save", args=["SCHOOLA", class_a.pk])
    client.force_login(world["users"]["teacher"])
    assert post(client, url, students[0], "1:conduct:", "T", 0).status_code == 403
    client.force_login(world["users"]["homeroom"])
    data = post(client, url, students[0], "1:conduct:", "đ", 0).json()
    assert (data["value"], data["display"], data["row"]) == ("D", "Đ", {})


def test_a_save_costs_a_bounded_number_of_queries(
    teacher_client, save_url, students, django_assert_max_num_queries
):
    """Access (session, user, roles, school, class, curriculum, assignment, enrollment), then
    save_mark (settings, lock, the cell, the ledger) and the row's marks: no more than 25 queries
    (savepoints included), whatever the class size."""
    post(teacher_client, save_url, students[0], "1:tx:1", "5", 0)  # the ledger head exists
    with django_assert_max_num_queries(25) as captured:
        assert post(teacher_client, save_url, students[1], "1:tx:1", "7", 0).status_code == 200
    first_save = len(captured)
    with django_assert_max_num_queries(first_save):
        assert post(teacher_client, save_url, students[1], "1:tx:1", "8", 1).status_code == 200
    print(f"cell save: {first_save} queries")


def test_poll_returns_cells_changed_since_the_cursor(
    client, world, save_url, students, class_a, maths
):
    changes = reverse("gradebook:grid_changes", args=["SCHOOLA", class_a.pk, maths.pk, 1])
    client.force_login(world["users"]["homeroom"])
    cursor = client.get(changes).json()["cursor"]
    client.force_login(world["users"]["teacher"])
    post(client, save_url, students[0], "1:tx:1", "6,5", 0)
    client.force_login(world["users"]["homeroom"])
    data = client.get(changes, {"since": cursor}).json()
    cell = {"student": students[0].pk, "column": "1:tx:1", "value": "6.5", "display": "6,5"}
    assert data["cells"] == [{**cell, "version": 1}]
    assert data["rows"] == {str(students[0].pk): {"term_average": {"value": "", "display": ""}}}
    assert data["locked"] is False
    assert client.get(changes, {"since": data["cursor"]}).json()["cells"] == []


def test_poll_says_a_lock_that_came_meanwhile_with_its_kind_and_reason(
    teacher_client, class_a, maths, principal
):
    """The grid shows a lock at once: its panel and the reason, without a reload (issue 17)."""
    changes = reverse("gradebook:grid_changes", args=["SCHOOLA", class_a.pk, maths.pk, 1])
    locks.lock(actor=principal, school=class_a.year.school, year=class_a.year,
               class_group=class_a, subject=maths, term=1, reason="Hết hạn nhập điểm")  # fmt: skip
    data = teacher_client.get(changes, {"since": "0"}).json()
    assert (data["locked"], data["lock_kind"]) == (True, "locked")
    assert "Hết hạn nhập điểm" in data["lock_message"]


def test_poll_accepts_an_iso_timestamp(teacher_client, save_url, students, class_a, maths):
    changes = reverse("gradebook:grid_changes", args=["SCHOOLA", class_a.pk, maths.pk, 1])
    post(teacher_client, save_url, students[0], "1:tx:1", "9", 0)
    data = teacher_client.get(changes, {"since": "2020-01-01T00:00:00+07:00"}).json()
    assert [c["value"] for c in data["cells"]] == ["9"]
    assert teacher_client.get(changes, {"since": "yesterday"}).status_code == 400


def test_poll_does_not_return_other_terms_or_subjects(
    teacher_client, save_url, students, class_a, maths
):
    changes = reverse("gradebook:grid_changes", args=["SCHOOLA", class_a.pk, maths.pk, 2])
    post(teacher_client, save_url, students[0], "1:tx:1", "9", 0)
    assert teacher_client.get(changes, {"since": "0"}).json()["cells"] == []


def test_poll_with_nothing_new_reads_no_marks(
    teacher_client, save_url, students, class_a, maths, django_assert_num_queries
):
    changes = reverse("gradebook:grid_changes", args=["SCHOOLA", class_a.pk, maths.pk, 1])
    post(teacher_client, save_url, students[0], "1:tx:1", "9", 0)
    cursor = teacher_client.get(changes).json()["cursor"]
    # session, user, memberships, book, ledger cursor, covering lock: no marks, no events
    with django_assert_num_queries(6):
        data = teacher_client.get(changes, {"since": cursor}).json()
    assert data == {
        "cursor": cursor,
        "cells": [],
        "rows": {},
        "locked": False,
        "lock_kind": "",
        "lock_message": "",
    }


def test_a_new_cell_costs_two_statements_more_than_a_changed_one(
    teacher_client, save_url, students, django_assert_num_queries
):
    """A changed cell: session, user, roles + school, the book with the student, BEGIN, the
    student's exemption, the row with its lock, the transcript's state, the update, the ledger
    (head, event, head), COMMIT. A new cell of a row: its insert and its lock, found missing
    once, not twice."""
    post(teacher_client, save_url, students[0], "1:tx:1", "5", 0)  # the ledger head exists
    with django_assert_num_queries(13):
        assert post(teacher_client, save_url, students[0], "1:tx:1", "6", 1).status_code == 200
    with django_assert_num_queries(15):
        assert post(teacher_client, save_url, students[0], "1:tx:2", "7", 0).status_code == 200


@pytest.mark.parametrize("text", ["Ngoan\x00", "Ngoan\x07 ngoan", "Ngoan \ud800", "\x1b[31mĐỏ"])
def test_a_comment_with_a_control_character_is_refused_with_a_reason_and_nothing_saved(
    client, english, teacher, save_url, students, text
):
    client.force_login(teacher)
    response = post(client, save_url, students[0], "1:comment:", text, 0)
    assert response.status_code == 422
    assert "cannot be stored" in response.json()["error"]
    assert not Mark.objects.exists()
