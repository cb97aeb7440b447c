"""Completion dashboards: counts, states, missing cells, and bounded queries."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gradebook.completeness import class_book_statuses, school_book_statuses
from gradebook.models import Lock, Mark
from schools.models import ClassGroup
from tests.conftest import add_students
from tests.gradebook.marks import subject_marks


def school_url(school, term=1):
    return reverse("gradebook:completion", kwargs={"code": school.code}) + f"?term={term}"


def class_url(class_group, term=1):
    kwargs = {"code": class_group.year.school.code, "class_pk": class_group.pk}
    return reverse("gradebook:class_completion", kwargs=kwargs) + f"?term={term}"


def fill_maths(class_group, count=1, term=1):
    for enrollment in class_group.enrollments.order_by("roll_number")[:count]:
        Mark.objects.bulk_create(subject_marks(class_group, enrollment.student, "TOAN", term, "7"))


def submit(class_group, code, user, kind="submitted", term=1):
    Lock.objects.create(school=class_group.year.school, year=class_group.year, term=term,
                        class_group=class_group, kind=kind, created_by=user,
                        subject=class_group.year.school.subjects.get(code=code))  # fmt: skip


def test_class_view_counts_teachers_and_states(english, class_a, homeroom, teacher):
    fill_maths(class_a)
    submit(class_a, "NV", homeroom)
    english.force_login(homeroom)
    page = english.get(class_url(class_a)).content.decode()
    assert "6/18" in page  # 3 students × (4 TX + GK + CK), one student done
    assert "teacher" in page  # the Maths teacher's name
    assert page.count("Submitted") >= 1


def test_class_view_lists_missing_cells_per_student(english, class_a, homeroom):
    fill_maths(class_a, count=2)
    Mark.objects.filter(subject__code="TOAN", kind="gk").first().delete()
    english.force_login(homeroom)
    page = english.get(class_url(class_a)).content.decode()
    last = class_a.enrollments.order_by("roll_number").last().student
    assert f"{last.full_name}: TX1, TX2, TX3, TX4, GK, CK" in page


def test_complete_book_waits_for_submission(class_a, homeroom):
    fill_maths(class_a, count=3)
    maths = next(s for s in class_book_statuses(class_a, 1) if s.entry.subject.code == "TOAN")
    assert (maths.complete, maths.state, maths.filled) == (True, "open", 18)


def test_school_view_matrix_and_totals(english, class_a, class_a2, principal):
    fill_maths(class_a, count=3)
    submit(class_a, "TOAN", principal)
    submit(class_a2, "NV", principal, kind="locked")
    english.force_login(principal)
    page = english.get(school_url(class_a.year.school)).content.decode()
    assert "1 of 24 gradebooks complete · 1 submitted · 1 locked by the school" in page
    assert "18/18" in page and "0/6" in page  # 6A2 has one student
    assert class_url(class_a) in page


def test_school_batch_equals_the_per_class_statuses(class_a, class_a2, principal):
    fill_maths(class_a, count=2, term=2)
    submit(class_a, "TOAN", principal, term=2)
    batch = school_book_statuses(class_a.year, [class_a, class_a2], 2)
    for class_group in (class_a, class_a2):
        expected = class_book_statuses(class_group, 2)
        got = batch[class_group.pk]
        assert [(s.entry.pk, s.state, s.required, s.missing) for s in got] == [
            (s.entry.pk, s.state, s.required, s.missing) for s in expected
        ]


def school_page_queries(client, school) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(school_url(school)).status_code == 200
    return len(queries)


def test_school_view_queries_do_not_grow_with_students_or_classes(client, class_a, principal):
    client.force_login(principal)
    school = class_a.year.school
    school_page_queries(client, school)  # the session's first request does its own bookkeeping
    few = school_page_queries(client, school)
    add_students(class_a, [(f"Học sinh {i}", "MF"[i % 2]) for i in range(20)], start=400)
    fill_maths(class_a, count=23)
    for n in range(8):
        ClassGroup.objects.create(year=class_a.year, name=f"7A{n}", grade=7)
    assert school_page_queries(client, school) == few


def test_class_view_queries_do_not_grow_with_students(client, class_a, homeroom):
    client.force_login(homeroom)
    with CaptureQueriesContext(connection):
        client.get(class_url(class_a))
    with CaptureQueriesContext(connection) as before:
        client.get(class_url(class_a))
    add_students(class_a, [(f"Học sinh {i}", "MF"[i % 2]) for i in range(20)], start=400)
    fill_maths(class_a, count=23)
    with CaptureQueriesContext(connection) as after:
        client.get(class_url(class_a))
    assert len(after) == len(before)


def test_dashboard_links_completion_for_leadership_only(client, class_a, principal, teacher):
    dashboard = reverse("schools:dashboard", kwargs={"code": "SCHOOLA"})
    url = reverse("gradebook:completion", kwargs={"code": "SCHOOLA"})
    client.force_login(principal)
    assert url in client.get(dashboard).content.decode()
    client.force_login(teacher)
    assert url not in client.get(dashboard).content.decode()
