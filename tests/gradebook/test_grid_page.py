"""The grid page: columns follow the curriculum, results are computed, reading costs a constant
number of queries whatever the class size, locks and departures make cells read-only."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from gradebook.columns import subject_columns
from gradebook.models import CommentPhrase, Lock, Mark
from schools.models import ClassGroup, School, TeachingAssignment
from schools.services import create_school_year
from tests.conftest import add_students, make_user

FULL_MARKS = {"1": "8", "2": "7.5", "3": "9", "4": "6", "gk": "7", "ck": "8.5"}  # → 7.8


def grid_url(class_group, subject, term=1):
    kwargs = {"class_pk": class_group.pk, "subject_pk": subject.pk, "term": term}
    return reverse("gradebook:grid", kwargs={"code": class_group.year.school.code, **kwargs})


def subject(class_group, code):
    return class_group.year.school.subjects.get(code=code)


def fill_term(class_group, code, term=1, marks=FULL_MARKS):
    """Every assessment cell of the class for one subject and term (test data, no ledger)."""
    entry = class_group.year.curriculum.get(grade=class_group.grade, subject__code=code)
    cells = []
    for enrollment in class_group.enrollments.all():
        for column in subject_columns(entry, term):
            value = marks.get(column.slot or column.kind, "Tốt")
            cells.append(
                Mark(school=class_group.year.school, year=class_group.year, term=term,
                     student_id=enrollment.student_id, subject_id=entry.subject_id,
                     kind=column.kind, slot=column.slot, value=value, version=1)
            )  # fmt: skip
    Mark.objects.bulk_create(cells)


def headers(response) -> list[str]:
    html = response.content.decode()
    head = html[html.index("<thead>") : html.index("</thead>")]
    return [re.sub(r"\s+", " ", h).strip() for h in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]


def test_maths_has_four_regular_marks_and_a_term_average(client, english, class_a, teacher):
    client.force_login(teacher)
    response = client.get(grid_url(class_a, subject(class_a, "TOAN")))
    assert response.status_code == 200
    assert headers(response)[2:] == ["TX1", "TX2", "TX3", "TX4", "GK", "CK", "Term avg.", "Comment"]


def test_a_35_period_subject_has_two_regular_marks(client, english, class_a, principal):
    client.force_login(principal)
    response = client.get(grid_url(class_a, subject(class_a, "GDCD")))
    assert headers(response)[2:] == ["TX1", "TX2", "GK", "CK", "Term avg.", "Comment"]


def test_comment_subject_has_pass_cells_and_a_term_result(client, english, class_a, principal):
    client.force_login(principal)
    response = client.get(grid_url(class_a, subject(class_a, "GDTC")))
    assert headers(response)[2:] == ["TX1", "TX2", "GK", "CK", "Result", "Comment"]
    assert b'data-type="pass"' in response.content


@pytest.fixture
def primary_class(db):
    school = School.objects.create(code="TIEUHOC", name="Trường Tiểu học Hoa Sen",
                                   department_code="01", level="primary")  # fmt: skip
    create_school_year(
        school=school, start_year=2025,
        term1=(datetime.date(2025, 9, 5), datetime.date(2026, 1, 15)),
        term2=(datetime.date(2026, 1, 19), datetime.date(2026, 5, 25)),
    )  # fmt: skip
    teacher = make_user("primary_teacher", school, Role.TEACHER, totp=True)
    class_group = ClassGroup.objects.create(
        year=school.current_year(), name="4A", grade=4, homeroom_teacher=teacher
    )
    TeachingAssignment.objects.create(
        teacher=teacher, class_group=class_group, subject=subject(class_group, "TV")
    )
    add_students(class_group, [("Võ Minh Khang", "M")], start=300)
    return class_group


def test_primary_subject_has_levels_tests_and_a_comment(client, english, primary_class):
    client.force_login(primary_class.homeroom_teacher)
    response = client.get(grid_url(primary_class, subject(primary_class, "TV")))
    assert headers(response)[2:] == [
        "Mid-term level", "Mid-term test", "End-of-term level", "End-of-term test", "Comment"
    ]  # fmt: skip
    assert b'data-type="primary_level"' in response.content
    assert b'data-type="test"' in response.content


def test_primary_homeroom_book_has_qualities_and_competencies(client, primary_class):
    client.force_login(primary_class.homeroom_teacher)
    url = reverse("gradebook:homeroom", args=["TIEUHOC", primary_class.pk, 1])
    response = client.get(url)
    assert len(headers(response)[2:]) == 5 + 10 + 1
    assert response.content.count(b'data-type="quality"') == 15


def test_secondary_homeroom_book_has_conduct_absences_and_comment(
    client, english, class_a, homeroom
):
    client.force_login(homeroom)
    response = client.get(reverse("gradebook:homeroom", args=["SCHOOLA", class_a.pk, 1]))
    assert headers(response)[2:] == [
        "Conduct", "Absent, excused", "Absent, unexcused", "Homeroom comment"
    ]  # fmt: skip
    assert b'data-writable="1"' in response.content


def test_term_average_is_computed_when_every_mark_is_present(client, class_a, teacher):
    fill_term(class_a, "TOAN")
    client.force_login(teacher)
    html = client.get(grid_url(class_a, subject(class_a, "TOAN"))).content.decode()
    assert html.count('data-computed="term_average" data-value="7.8"') == 3
    assert ">7,8</a>" in html  # Vietnamese decimal comma


def test_term_average_is_blank_while_a_mark_is_missing(client, class_a, teacher):
    fill_term(class_a, "TOAN", marks={**FULL_MARKS, "ck": ""})
    client.force_login(teacher)
    html = client.get(grid_url(class_a, subject(class_a, "TOAN"))).content.decode()
    assert html.count('data-computed="term_average" data-value=""') == 3


def test_reader_sees_the_grid_read_only(client, class_a, homeroom):
    client.force_login(homeroom)
    html = client.get(grid_url(class_a, subject(class_a, "TOAN"))).content.decode()
    assert 'data-writable="0"' in html
    assert 'data-editable="1"' not in html
    assert "gb-row-link" not in html


def test_locked_book_shows_lock_and_correction_link(client, class_a, teacher, principal):
    Lock.objects.create(school=class_a.year.school, year=class_a.year, term=1, kind="locked",
                        reason="Khóa sổ", created_by=principal)  # fmt: skip
    client.force_login(teacher)
    html = client.get(grid_url(class_a, subject(class_a, "TOAN"))).content.decode()
    assert 'data-editable="1"' not in html
    assert html.count('data-locked="1"') == 3 * 7
    if "/corrections/new/" in html:  # the correction form exists: every locked cell links to it
        assert re.search(r"corrections/new/\?class=\d+&amp;student=\d+&amp;column=1%3Atx%3A1", html)


def test_student_who_left_is_greyed_and_read_only(client, class_a, teacher):
    enrollment = class_a.enrollments.order_by("roll_number").last()
    enrollment.left_on = datetime.date(2025, 11, 1)
    enrollment.save()
    client.force_login(teacher)
    html = client.get(grid_url(class_a, subject(class_a, "TOAN"))).content.decode()
    row = html[html.index(f'data-student="{enrollment.student_id}"') :]
    row = row[: row.index("</tr>")]
    assert 'data-editable="1"' not in row
    assert html.count('data-editable="1"') == 2 * 7


def test_comment_bank_phrases_of_the_subject_are_in_the_page(client, class_a, teacher):
    school = class_a.year.school
    CommentPhrase.objects.create(school=school, subject=subject(class_a, "TOAN"), level="T",
                                 text="{name} tính toán nhanh.")  # fmt: skip
    CommentPhrase.objects.create(school=school, subject=subject(class_a, "NV"), text="Văn hay.")
    client.force_login(teacher)
    response = client.get(grid_url(class_a, subject(class_a, "TOAN")))
    assert response.context["phrases"] == [{"level": "T", "text": "{name} tính toán nhanh."}]
    assert b'id="gb-phrases"' in response.content
    assert b'data-given-name="B\xc3\xacnh"' in response.content  # Nguyễn Văn Bình → Bình


def grid_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_grid_reads_a_constant_number_of_queries_for_3_or_45_students(client, class_a, teacher):
    maths = subject(class_a, "TOAN")
    fill_term(class_a, "TOAN")
    client.force_login(teacher)
    client.get(grid_url(class_a, maths))  # warm the session and the caches
    small = grid_queries(client, grid_url(class_a, maths))

    for batch in (0, 1):  # add_students dates births within one month: 21 at a time
        names = [(f"Học Sinh Số{batch}{n:02d}", "M" if n % 2 else "F") for n in range(21)]
        add_students(class_a, names, start=1000 + 100 * batch)
    Mark.objects.filter(subject=maths).delete()
    fill_term(class_a, "TOAN")
    assert class_a.enrollments.count() == 45
    assert Mark.objects.filter(subject=maths).count() == 45 * 7  # 6 marks and a comment

    assert grid_queries(client, grid_url(class_a, maths)) == small
    print(f"grid GET: {small} queries for 3 and for 45 students")


def test_year_view_shows_both_terms_and_the_year_average(client, class_a, principal):
    fill_term(class_a, "TOAN", term=1)  # 7.8
    fill_term(class_a, "TOAN", term=2, marks={**FULL_MARKS, "ck": "10"})  # 74.5/9 → 8.3
    client.force_login(principal)
    url = reverse("gradebook:grid_year", args=["SCHOOLA", class_a.pk, subject(class_a, "TOAN").pk])
    html = client.get(url).content.decode()
    assert html.count('data-computed="term_average" data-term="1" data-value="7.8"') == 3
    assert html.count('data-computed="term_average" data-term="2" data-value="8.3"') == 3
    assert html.count('data-computed="year_average" data-term="year" data-value="8.1"') == 3


def test_year_view_of_a_comment_subject_takes_the_term_two_result(client, class_a, principal):
    fill_term(class_a, "GDTC", term=1, marks={"1": "D", "2": "CD", "gk": "D", "ck": "D"})
    fill_term(class_a, "GDTC", term=2, marks={"1": "D", "2": "D", "gk": "D", "ck": "D"})
    client.force_login(principal)
    url = reverse("gradebook:grid_year", args=["SCHOOLA", class_a.pk, subject(class_a, "GDTC").pk])
    html = client.get(url).content.decode()
    assert html.count('data-term="1" data-value="CD"') == 3
    assert html.count('data-computed="year_result" data-term="year" data-value="D"') == 3


def test_current_term_entry_point_redirects_to_a_term(client, class_a, teacher):
    client.force_login(teacher)
    maths = subject(class_a, "TOAN")
    response = client.get(reverse("gradebook:grid_current", args=["SCHOOLA", class_a.pk, maths.pk]))
    assert response.status_code == 302
    assert response.url in {grid_url(class_a, maths, 1), grid_url(class_a, maths, 2)}


def test_dashboard_links_each_assignment_to_its_gradebook(client, class_a, teacher):
    client.force_login(teacher)
    html = client.get(reverse("schools:dashboard", args=["SCHOOLA"])).content.decode()
    maths = subject(class_a, "TOAN")
    assert reverse("gradebook:grid_current", args=["SCHOOLA", class_a.pk, maths.pk]) in html


def test_dashboard_links_the_homeroom_teacher_to_the_homeroom_book(client, class_a, homeroom):
    client.force_login(homeroom)
    html = client.get(reverse("schools:dashboard", args=["SCHOOLA"])).content.decode()
    assert reverse("gradebook:homeroom_current", args=["SCHOOLA", class_a.pk]) in html


def test_the_grid_reaches_the_excel_round_trip(client, class_a, teacher, homeroom, principal):
    """Issue 17: the Excel export and import are on the grid, the import for its writers."""
    maths = subject(class_a, "TOAN")
    kwargs = {"code": "SCHOOLA", "class_pk": class_a.pk, "subject_pk": maths.pk, "term": 2}
    export = reverse("gradebook:excel_export", kwargs=kwargs)
    upload = reverse("gradebook:excel_import", kwargs=kwargs)
    client.force_login(teacher)
    html = client.get(grid_url(class_a, maths, term=2)).content.decode()
    assert f'href="{export}"' in html and f'href="{upload}"' in html
    assert client.get(export).status_code == 200 and client.get(upload).status_code == 200
    client.force_login(homeroom)  # reads the maths book, does not write it
    html = client.get(grid_url(class_a, maths, term=2)).content.decode()
    assert f'href="{export}"' in html and f'href="{upload}"' not in html
    homeroom_book = client.get(reverse("gradebook:homeroom", args=["SCHOOLA", class_a.pk, 1]))
    assert "gb-excel-export" not in homeroom_book.content.decode()
    Lock.objects.create(school=class_a.year.school, year=class_a.year, term=2, kind="locked",
                        reason="Hết hạn", created_by=principal)  # fmt: skip
    client.force_login(teacher)  # a locked book: the download stays, the import goes
    html = client.get(grid_url(class_a, maths, term=2)).content.decode()
    assert f'href="{export}"' in html and f'href="{upload}"' not in html
