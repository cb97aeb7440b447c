"""The class's recognition for the primary award 'Học sinh Tiêu biểu' (docs/regulations.md,
awards): a yes/empty cell the homeroom teacher sets on the homeroom book, saved through the
ordinary save (ledger), read by the award and shown on the class summary."""

import json

import pytest
from django.urls import reverse

from accounts.models import Role
from gradebook.grid.book import Book
from gradebook.models import Kind, Mark, MarkEvent
from gradebook.results import class_results
from gradebook.rules.codes import PrimaryAward
from tests.conftest import make_user
from tests.gradebook.marks import primary_year

FLAG = f"2:{Kind.RECOGNISED}:"


@pytest.fixture
def form_teacher(grade4):
    user = make_user("gvcn4", grade4.year.school, Role.TEACHER, totp=True)
    grade4.homeroom_teacher = user
    grade4.save(update_fields=["homeroom_teacher"])
    return user


def save(client, grade4, student, value, version):
    url = reverse("gradebook:cell_save", args=[grade4.year.school.code, grade4.pk])
    body = {"student": student.pk, "column": FLAG, "value": value, "version": version}
    return client.post(url, json.dumps(body), content_type="application/json")


def test_primary_homeroom_book_has_the_recognition_flag_at_year_end(grade4, class_a):
    column = Book(grade4).column(FLAG)
    assert column is not None and column.value_type == "flag"
    assert Book(grade4).column(f"1:{Kind.RECOGNISED}:") is None  # a year-end decision
    assert Book(class_a).column(FLAG) is None  # secondary has no such award


def test_flag_saved_on_the_homeroom_book_makes_an_htt_pupil_exemplary(
    english, grade4, form_teacher
):
    pupil = grade4.enrollments.get().student
    primary_year(grade4, pupil, tests={"TV": "8"})  # HTT, not HTXS
    assert class_results(grade4).students[0].award.award is None
    english.force_login(form_teacher)
    response = save(english, grade4, pupil, "x", 0)
    assert response.status_code == 200, response.content
    assert response.json()["value"] == "1"
    event = MarkEvent.objects.get(mark__kind=Kind.RECOGNISED)
    assert (event.new_value, event.actor) == ("1", form_teacher)
    assert class_results(grade4).students[0].award.award == PrimaryAward.EXEMPLARY
    summary = reverse("gradebook:class_summary", args=[grade4.year.school.code, grade4.pk])
    assert "Exemplary student" in english.get(summary, {"term": "year"}).content.decode()
    assert save(english, grade4, pupil, "", 1).status_code == 200  # cleared: no award
    assert Mark.objects.get(kind=Kind.RECOGNISED).value == ""
    assert class_results(grade4).students[0].award.award is None


def test_flag_refuses_anything_but_yes_or_empty(english, grade4, form_teacher):
    english.force_login(form_teacher)
    response = save(english, grade4, grade4.enrollments.get().student, "maybe", 0)
    assert response.status_code == 422
    assert "Type 1 or x to mark it, or leave it empty." in response.content.decode()
    assert not Mark.objects.exclude(value="").exists()
