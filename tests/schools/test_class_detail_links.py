"""The class page leads on: to each subject book of the class, its homeroom book, its summary
and its transcripts — only those the viewer may open (schools/access.py decides)."""

import re

import pytest
from django.urls import reverse

SCHOOL = "SCHOOLA"


def links(client, class_a) -> set[str]:
    html = client.get(reverse("schools:class_detail", args=[SCHOOL, class_a.pk])).content.decode()
    return set(re.findall(r'class="[^"]*\bclass-book-link\b[^"]*" href="([^"]+)"', html))


def subject_book(class_a, code: str) -> str:
    subject = class_a.year.school.subjects.get(code=code)
    return reverse("gradebook:grid_current", args=[SCHOOL, class_a.pk, subject.pk])


def whole_class(class_a) -> set[str]:
    curriculum = class_a.year.curriculum.filter(grade=class_a.grade).select_related("subject")
    return {subject_book(class_a, entry.subject.code) for entry in curriculum} | {
        reverse("gradebook:homeroom_current", args=[SCHOOL, class_a.pk]),
        reverse("gradebook:class_summary", args=[SCHOOL, class_a.pk]),
        reverse("hocba:class", args=[SCHOOL, class_a.pk]),
    }


def test_a_subject_teacher_sees_only_the_book_they_teach(client, world, class_a):
    client.force_login(world["users"]["teacher"])
    assert links(client, class_a) == {subject_book(class_a, "TOAN")}


@pytest.mark.parametrize("role", ["homeroom", "principal", "admin"])
def test_the_homeroom_teacher_and_the_school_see_every_book_summary_and_transcripts(
    client, world, class_a, role
):
    client.force_login(world["users"][role])
    found = links(client, class_a)
    assert found == whole_class(class_a)
    assert len(found) == 12 + 3  # grade 6's twelve subjects


@pytest.mark.parametrize("role", ["teacher", "homeroom", "principal", "admin"])
def test_every_link_shown_opens(client, world, class_a, role):
    client.force_login(world["users"][role])
    for url in links(client, class_a):
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
