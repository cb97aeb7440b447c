"""The Department's dashboard (docs/department.md): a Department member reads, read-only, the
aggregates of every school of its province; other provinces' schools are 404; no mark and no
student's name ever reaches its pages; the queries are bounded whatever the number of schools."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import Membership, Role, User
from department.overview import schools_progress
from gradebook.models import Exemption, ExemptionState, Lock, Mark
from schools.demo import DEPARTMENT_USERNAME, PRIMARY_CODE, SECONDARY_CODE, seed_demo
from schools.models import ClassGroup, Department, DepartmentMembership
from schools.signers import needs_mfa
from tests.conftest import add_students, make_school, make_user
from tests.gradebook.marks import subject_marks
from tests.gradebook.test_upper_secondary import upper_class  # noqa: F401 (a fixture)
from transcripts.models import State, Transcript, TranscriptPackage, UploadStatus


@pytest.fixture
def department(db) -> Department:
    return Department.objects.create(code="01", name="Sở GD&ĐT Hà Nội", province="Hà Nội")


@pytest.fixture
def officer(department):
    """A Department member with two-factor authentication (the middleware requires it)."""
    user = make_user("officer", None, totp=True)
    DepartmentMembership.objects.create(user=user, department=department)
    return user


@pytest.fixture
def school_c(db):
    """A school of another province (Department 79)."""
    school = make_school("SCHOOLC", "Trường THCS Sài Gòn")
    school.department_code = "79"
    school.save()
    return school


def dashboard_url(code="01", **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("department:dashboard", kwargs={"code": code}) + (f"?{query}" if query else "")


def school_url(school, code="01", term=1):
    kwargs = {"code": code, "school_code": school.code}
    return reverse("department:school", kwargs=kwargs) + f"?term={term}"


def fill_maths(class_group, count, term=1):
    for enrollment in class_group.enrollments.order_by("roll_number")[:count]:
        Mark.objects.bulk_create(subject_marks(class_group, enrollment.student, "TOAN", term, "7"))


def test_the_dashboard_lists_every_school_of_the_province_and_no_other(
    client, officer, school_a, school_b, school_c
):
    client.force_login(officer)
    page = client.get(dashboard_url(term=1)).content.decode()
    assert school_a.name in page and school_b.name in page
    assert school_c.name not in page


def test_another_provinces_school_is_404(client, officer, school_a, school_c):
    client.force_login(officer)
    assert client.get(school_url(school_a)).status_code == 200
    assert client.get(school_url(school_c)).status_code == 404


def test_another_department_is_404(client, officer, school_c):
    Department.objects.create(code="79", name="Sở GD&ĐT TP.HCM")
    client.force_login(officer)
    assert client.get(dashboard_url("79")).status_code == 404


def test_a_school_principal_is_not_a_department_member(client, department, principal):
    client.force_login(principal)
    assert client.get(dashboard_url()).status_code == 404


def test_an_inactive_membership_opens_nothing(client, officer):
    DepartmentMembership.objects.filter(user=officer).update(is_active=False)
    client.force_login(officer)
    assert client.get(dashboard_url()).status_code == 404


def test_the_department_opens_no_school_page(client, officer, class_a):
    """No Membership: the school's own pages, its books and its completion are 404."""
    client.force_login(officer)
    code = class_a.year.school.code
    assert client.get(reverse("schools:dashboard", kwargs={"code": code})).status_code == 404
    completion = reverse("gradebook:completion", kwargs={"code": code})
    assert client.get(completion).status_code == 404


def test_the_pages_are_read_only(client, officer, school_a):
    client.force_login(officer)
    assert client.post(dashboard_url()).status_code == 405
    assert client.post(school_url(school_a)).status_code == 405


def test_books_are_counted_as_the_schools_completion_page_counts_them(class_a, teacher):
    """3 students × 6 required Maths cells; two students filled; Literature submitted."""
    fill_maths(class_a, count=2)
    Lock.objects.create(school=class_a.year.school, year=class_a.year, term=1, class_group=class_a,
                        subject=class_a.year.school.subjects.get(code="NV"), kind="submitted",
                        created_by=teacher)  # fmt: skip
    [row] = schools_progress([class_a.year.school], term=1)
    [class_row] = row.class_rows
    books = class_a.year.curriculum.filter(grade=6).count()
    assert (class_row.students, class_row.books, class_row.books_submitted) == (3, books, 1)
    assert class_row.cells_filled == 12
    assert row.cells_filled == 12 and row.classes == 1
    assert class_row.books_complete == 0


def test_a_filled_book_is_complete(class_a):
    fill_maths(class_a, count=3)
    [row] = schools_progress([class_a.year.school], term=1)
    assert row.books_complete == 1


def test_a_mark_of_a_student_who_left_is_not_counted(class_a):
    fill_maths(class_a, count=3)
    class_a.enrollments.filter(roll_number=1).update(left_on=timezone.localdate())
    [row] = schools_progress([class_a.year.school], term=1)
    assert (row.students, row.cells_filled, row.books_complete) == (2, 12, 1)


def test_an_exempt_student_is_not_required(class_a, principal):
    fill_maths(class_a, count=2)
    student = class_a.enrollments.order_by("roll_number").last().student
    Exemption.objects.create(school=class_a.year.school, year=class_a.year, class_group=class_a,
                             student=student, subject=class_a.year.school.subjects.get(code="TOAN"),
                             term=1, state=ExemptionState.APPROVED, reason="y tế",
                             requested_by=principal, decided_by=principal)  # fmt: skip
    [row] = schools_progress([class_a.year.school], term=1)
    assert row.books_complete == 1


def test_transcripts_signing_and_packages_are_counted(class_a, admin):
    school, year = class_a.year.school, class_a.year
    states = [State.FINAL, State.SIGNED_HOMEROOM]
    for enrollment, state in zip(class_a.enrollments.order_by("roll_number"), states, strict=False):
        Transcript.objects.create(school=school, year=year, student=enrollment.student,
                                  class_group=class_a, state=state)  # fmt: skip
    TranscriptPackage.objects.create(school=school, year=year, kind="full", status="finished",
                                     upload_status=UploadStatus.ACCEPTED,
                                     accepted_at=timezone.now(), created_by=admin)  # fmt: skip
    TranscriptPackage.objects.create(school=school, year=year, kind="full", status="failed")
    [row] = schools_progress([school], term=1)
    assert row.state_counts() == [0, 0, 1, 0, 1]
    assert row.without_transcript == 1
    assert row.signing_percent == round(100 * 4 / 9)  # 3 + 1 signatures of 3 × 3
    assert (row.packages_exported, row.packages_uploaded) == (1, 1)
    assert row.last_upload_at is not None


def test_no_mark_and_no_students_name_reaches_the_department(client, officer, class_a):
    Mark.objects.bulk_create(
        subject_marks(class_a, class_a.enrollments.first().student, "TOAN", 1, "9.25")
    )
    class_a.homeroom_teacher.full_name = "Vũ Thị Chủ Nhiệm"
    class_a.homeroom_teacher.save()
    client.force_login(officer)
    pages = [
        client.get(dashboard_url(term=1)).content.decode(),
        client.get(school_url(class_a.year.school)).content.decode(),
    ]
    workbook = load_workbook(io.BytesIO(client.get(xlsx_url(term=1)).content))
    cells = [str(c) for sheet in workbook for r in sheet.iter_rows(values_only=True) for c in r]
    for text in [*pages, " ".join(cells)]:
        assert "9.25" not in text and "9,25" not in text
        for enrollment in class_a.enrollments.select_related("student"):
            assert enrollment.student.full_name not in text
        assert class_a.homeroom_teacher.display_name not in text


def xlsx_url(code="01", **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    url = reverse("department:dashboard_xlsx", kwargs={"code": code})
    return url + (f"?{query}" if query else "")


def test_the_excel_export_has_a_row_per_school_and_the_classes(client, officer, class_a, class_b):
    fill_maths(class_a, count=3)
    client.force_login(officer)
    response = client.get(xlsx_url(term=1))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    schools, classes = load_workbook(io.BytesIO(response.content)).worksheets
    codes = [row[0] for row in schools.iter_rows(min_row=3, values_only=True)]
    assert codes == [class_a.year.school.code, class_b.year.school.code, None]
    assert [(r[0], r[2]) for r in classes.iter_rows(min_row=2, values_only=True)] == [
        (class_a.year.school.code, "6A1"),
        (class_b.year.school.code, "6B1"),
    ]
    students = [row[5] for row in schools.iter_rows(min_row=3, values_only=True)]
    assert students == [3, 1, 4]


def test_filters_by_district_and_level(client, officer, school_a, school_b):
    school_a.district = "Cầu Giấy"
    school_a.save()
    school_b.district = "Đống Đa"
    school_b.level = "primary"
    school_b.save()
    client.force_login(officer)
    by_district = client.get(dashboard_url(district="Cầu Giấy", term=1)).content.decode()
    assert school_a.name in by_district and school_b.name not in by_district
    by_level = client.get(dashboard_url(level="primary", term=1)).content.decode()
    assert school_b.name in by_level and school_a.name not in by_level


def test_an_unknown_filter_says_so_and_shows_every_school(english, officer, school_a, school_b):
    english.force_login(officer)
    page = english.get(dashboard_url(level="university")).content.decode()
    assert "A filter was not understood" in page
    assert school_a.name in page and school_b.name in page


def test_the_excel_export_follows_the_filters(client, officer, school_a, school_b):
    school_b.level = "primary"
    school_b.save()
    client.force_login(officer)
    content = client.get(xlsx_url(level="primary", term=1)).content
    schools = load_workbook(io.BytesIO(content)).worksheets[0]
    assert [r[0] for r in schools.iter_rows(min_row=3, values_only=True)] == [school_b.code, None]


def _school_with_a_class(code: str, n: int):
    school = make_school(code, f"Trường THCS {code}")
    class_group = ClassGroup.objects.create(year=school.current_year(), name="6A1", grade=6)
    add_students(class_group, [("Học Sinh", "M")], start=1000 + n * 10)
    fill_maths(class_group, count=1)
    Transcript.objects.create(school=school, year=class_group.year, class_group=class_group,
                              student=class_group.enrollments.first().student)  # fmt: skip
    TranscriptPackage.objects.create(school=school, year=class_group.year, kind="full")
    return school


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("name", ["department:dashboard", "department:dashboard_xlsx"])
def test_the_dashboard_costs_the_same_queries_for_2_or_5_schools(
    client, officer, name, django_assert_num_queries
):
    url = reverse(name, kwargs={"code": "01"}) + "?term=1"
    client.force_login(officer)
    for n in range(2):
        _school_with_a_class(f"S{n:07d}", n)
    client.get(url)  # the session's first request decides the MFA check
    two = _queries(client, url)
    for n in range(2, 5):
        _school_with_a_class(f"S{n:07d}", n)
    with django_assert_num_queries(two):
        response = client.get(url)
    assert response.status_code == 200
    if name == "department:dashboard":
        assert response.content.decode().count("Trường THCS S") >= 5


def test_a_department_member_must_use_two_factor_authentication(client, department, settings):
    settings.MFA_REQUIRED_FOR_SIGNERS = True
    user = make_user("officer2", None)
    assert not needs_mfa(user)
    DepartmentMembership.objects.create(user=user, department=department)
    assert needs_mfa(user)
    client.force_login(user)
    response = client.get(dashboard_url())
    assert response.status_code == 302 and response.url == reverse("mfa_activate_totp")


def test_home_goes_to_the_departments_dashboard(client, officer):
    client.force_login(officer)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url == dashboard_url()


def test_home_lists_the_department_beside_the_schools(client, officer, school_a, school_b):
    for school in (school_a, school_b):
        Membership.objects.create(user=officer, school=school, role=Role.TEACHER)
    client.force_login(officer)
    page = client.get(reverse("home")).content.decode()
    assert dashboard_url() in page and school_a.name in page


@pytest.mark.parametrize(
    ("name", "extra"),
    [("department:dashboard", {}), ("department:dashboard_xlsx", {}), ("department:school", None)],
)
def test_the_member_reads_every_page_of_its_department(client, officer, school_a, name, extra):
    kwargs = {"code": "01"} if extra is not None else {"code": "01", "school_code": school_a.code}
    client.force_login(officer)
    assert client.get(reverse(name, kwargs=kwargs)).status_code == 200


def test_the_demo_has_a_department_account_over_its_schools(db):
    result = seed_demo(today=timezone.localdate(), password="demo-pass-123")
    [login] = [one for one in result.logins if one.username == DEPARTMENT_USERNAME]
    assert login.totp_secret and login.role == "department"
    user = User.objects.get(username=DEPARTMENT_USERNAME)
    department = Department.objects.get(memberships__user=user)
    codes = set(department.schools().values_list("code", flat=True))
    assert {SECONDARY_CODE, PRIMARY_CODE} <= codes
    assert needs_mfa(user)
    assert not seed_demo(today=timezone.localdate()).password  # idempotent: no new account


def test_the_school_page_costs_the_same_queries_for_1_or_3_classes(
    client, officer, class_a, django_assert_num_queries
):
    school = class_a.year.school
    client.force_login(officer)
    client.get(school_url(school))
    one = _queries(client, school_url(school))
    for name in ("6A3", "6A4"):
        extra = ClassGroup.objects.create(year=class_a.year, name=name, grade=6)
        add_students(extra, [("Học Sinh", "F")], start=2000 + len(name) * 10 + int(name[-1]))
        fill_maths(extra, count=1)
    with django_assert_num_queries(one):
        page = client.get(school_url(school)).content.decode()
    assert "6A4" in page


def test_the_dashboard_draws_its_charts(client, officer, class_a):
    fill_maths(class_a, count=3)
    client.force_login(officer)
    page = client.get(dashboard_url(term=1)).content.decode()
    for chart in ("chart-books", "chart-states", "chart-signing"):
        assert f'id="{chart}"' in page
    [row] = schools_progress([class_a.year.school], term=1)
    assert 0 < row.completion_percent < 100  # Maths filled, the other books empty
    assert f"{class_a.year.school.name}: {row.completion_percent}%" in page
    school_page = client.get(school_url(class_a.year.school)).content.decode()
    assert 'id="chart-books"' in school_page and "6A1" in school_page


def test_an_upper_secondary_class_counts_only_each_electives_students(upper_class):  # noqa: F811
    """Grades 10-12: an elective's book asks only its students, and the clusters' extra regular
    mark only of those who take them, exactly as the school's completion page counts."""
    from gradebook.completeness import book_status

    [row] = schools_progress([upper_class.year.school], term=1)
    entries = upper_class.year.curriculum.filter(grade=10).select_related("subject")
    statuses = [book_status(upper_class, entry, 1) for entry in entries]
    assert row.cells_required == sum(status.required for status in statuses)
    assert row.books_complete == sum(not status.missing for status in statuses)
