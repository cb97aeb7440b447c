"""The principal's year-end decision lists (promoted, summer re-assessment, summer conduct
training, retained), read from gradebook.results, printable as the lists schools file."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gradebook.models import YEAR_TERM, Kind, Mark
from schools.models import ClassGroup
from tests.conftest import add_students
from tests.gradebook.marks import REASSESSMENT_CASE, all_scored, cell, homeroom_marks, year_of


def url(code="SCHOOLA"):
    return reverse("gradebook:year_end", args=[code])


def listed(client, outcome):
    page = client.get(url(), {"outcome": outcome})
    assert page.status_code == 200
    html = page.content.decode()
    return html, {int(pk) for pk in _student_ids(html)}


def _student_ids(html):
    marker = 'data-student="'
    return [part.split('"', 1)[0] for part in html.split(marker)[1:]]


@pytest.fixture
def mixed(class_a, class_a2):
    """Re-assessment due, summer training due, retained (absences) in 6A1; promoted in 6A2."""
    first, second, third = (e.student for e in class_a.enrollments.order_by("roll_number"))
    year_of(class_a, first, REASSESSMENT_CASE)
    homeroom_marks(first, conduct=("D", "D"))
    year_of(class_a, second, all_scored("7"))
    homeroom_marks(second, conduct=("K", "CD"))
    year_of(class_a, third, all_scored("7"))
    homeroom_marks(third, absences=(30, 20))
    fourth = class_a2.enrollments.get().student
    year_of(class_a2, fourth, all_scored("8"))
    homeroom_marks(fourth)
    return first, second, third, fourth


def test_each_list_holds_the_right_students(english, principal, mixed):
    first, second, third, fourth = mixed
    english.force_login(principal)
    assert listed(english, "reassessment")[1] == {first.pk}
    assert listed(english, "summer_training")[1] == {second.pk}
    assert listed(english, "retained")[1] == {third.pk}
    assert listed(english, "promoted")[1] == {fourth.pk}
    html, everyone = listed(english, "all")
    assert everyone == {s.pk for s in mixed}
    assert (
        "TOAN" in html and "at most 45: not met" in html
    )  # the subjects due; the rules' explanation


def test_marks_after_the_summer_move_students_to_their_final_list(english, principal, mixed):
    first, second, _third, fourth = mixed
    subjects = {s.code: s for s in first.school.subjects.all()}
    Mark.objects.bulk_create([
        cell(first, YEAR_TERM, Kind.REASSESSMENT, "5.5", subjects["TOAN"]),
        cell(first, YEAR_TERM, Kind.REASSESSMENT, "4", subjects["NN1"]),
        cell(second, YEAR_TERM, Kind.CONDUCT_REASSESSED, "CD"),
    ])  # fmt: skip
    english.force_login(principal)
    assert listed(english, "promoted")[1] == {first.pk, fourth.pk}
    assert listed(english, "retained")[1] >= {second.pk}
    assert listed(english, "reassessment")[1] == set()


def test_print_layout_names_school_year_list_and_principal(english, principal, mixed):
    english.force_login(principal)
    html, _ = listed(english, "reassessment")
    assert "List of students due for summer re-assessment" in html
    assert 'class="print-only year-end-print-header"' in html
    assert mixed[0].school.name in html and mixed[0].school.current_year().name in html
    assert "year-end-signature" in html and "css/year_end.css" in html
    assert "<script>" not in html and "style=" not in html


def test_unknown_outcome_is_a_clear_error(english, principal, mixed):
    english.force_login(principal)
    response = english.get(url(), {"outcome": "nonsense"})
    assert response.status_code == 400
    assert "Unknown list" in response.content.decode()


def test_teachers_get_403_and_other_schools_404(client, teacher, homeroom, outsider, mixed):
    for user in (teacher, homeroom):
        client.force_login(user)
        assert client.get(url()).status_code == 403
    client.force_login(outsider)
    assert client.get(url()).status_code == 404


def test_queries_do_not_grow_with_classes_or_students(client, principal, mixed, class_a):
    client.force_login(principal)
    client.get(url())  # warm the session and memberships
    with CaptureQueriesContext(connection) as before:
        assert client.get(url()).status_code == 200
    extra = ClassGroup.objects.create(year=class_a.year, name="6A3", grade=6)
    for student in add_students(extra, [("Lê Văn An", "M"), ("Trần Thị Bình", "F")], start=90):
        year_of(extra, student, all_scored("6"))
        homeroom_marks(student)
    with CaptureQueriesContext(connection) as after:
        page = client.get(url())
    assert "Lê Văn An" in page.content.decode()
    assert len(after) == len(before)


def test_leadership_dashboard_links_the_lists(client, principal, admin, school_a):
    dashboard = reverse("schools:dashboard", args=[school_a.code])
    client.force_login(principal)
    assert url() in client.get(dashboard).content.decode()
    client.force_login(admin)  # sees the whole school but does not lead it
    assert url() not in client.get(dashboard).content.decode()
