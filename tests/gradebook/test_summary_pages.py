"""The class summary page and its .xlsx: what the homeroom teacher and leadership see."""

from __future__ import annotations

import io
from xml.etree import ElementTree

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from schools.models import ClassGroup
from tests.conftest import add_students
from tests.gradebook.marks import REASSESSMENT_CASE, SCORED, all_scored, homeroom_marks, year_of


def summary(client, class_group, term="year", name="gradebook:class_summary"):
    url = reverse(name, kwargs={"code": class_group.year.school.code, "class_pk": class_group.pk})
    return client.get(url, {"term": term})


def students(class_group):
    return [e.student for e in class_group.enrollments.order_by("roll_number")]


def test_homeroom_teacher_sees_every_student_and_subject(english, class_a, homeroom):
    english.force_login(homeroom)
    page = summary(english, class_a, term="1").content.decode()
    assert all(s.full_name in page for s in students(class_a))
    subjects = class_a.year.school.subjects.filter(code__in=SCORED)
    assert all(f">{subject.name}</th>" in page for subject in subjects)


def test_term_average_and_missing_marks_are_shown(english, class_a, principal):
    first, _second, _third = students(class_a)
    year_of(class_a, first, all_scored("7.8"), terms=(1,))
    english.force_login(principal)
    page = summary(english, class_a, term="1").content.decode()
    assert ">7.8</td>" in page  # English locale: decimal point
    assert "Required marks missing: TX1, TX2" in page  # the second student's tooltip


def test_vietnamese_page_uses_decimal_comma_and_abbreviations(client, class_a, principal):
    first = students(class_a)[0]
    year_of(class_a, first, all_scored("7.8"), terms=(1,), comments="CD")
    client.force_login(principal)
    page = summary(client, class_a, term="1").content.decode()
    assert ">7,8</td>" in page
    assert ">CĐ</td>" in page


def test_adjusted_level_shows_where_it_comes_from(english, class_a, homeroom):
    first = students(class_a)[0]
    scores = dict(zip(SCORED, ["9", "8.5", "8.2", "8", "8.1", "8.7", "7", "4.9"], strict=True))
    year_of(class_a, first, scores)
    english.force_login(homeroom)
    page = summary(english, class_a).content.decode()
    assert "K ↑ (from Đ, TIN)" in page
    assert "Article 9, clause 3" in page  # the calculation, in the tooltip


def test_year_view_shows_reassessment_award_and_promotion(english, class_a, homeroom):
    first, second, third = students(class_a)
    year_of(class_a, first, REASSESSMENT_CASE)
    for student, conduct in [(first, ("D", "D")), (second, ("T", "T")), (third, ("T", "T"))]:
        homeroom_marks(student, conduct=conduct)
    year_of(class_a, second, all_scored("9.5"))
    year_of(class_a, third, all_scored("7"))
    english.force_login(homeroom)
    page = summary(english, class_a).content.decode()
    assert "Summer re-assessment: NN1, TOAN" in page
    assert "Excellent student" in page
    assert page.count(">Promoted</td>") == 2


def test_grade_nine_reads_completed_the_programme(english, class_a, homeroom):
    ClassGroup.objects.filter(pk=class_a.pk).update(grade=9)
    class_a.refresh_from_db()
    # grade 9 has the same subjects as grade 6 in the default curriculum
    first = students(class_a)[0]
    year_of(class_a, first, all_scored("7"))
    homeroom_marks(first)
    english.force_login(homeroom)
    assert "Completed lower secondary" in summary(english, class_a).content.decode()


def test_charts_are_inline_svg(english, class_a, homeroom):
    year_of(class_a, students(class_a)[0], all_scored("7"))
    english.force_login(homeroom)
    page = summary(english, class_a, term="2").content.decode()
    svgs = page.count("<svg ")
    assert svgs == 2 + len(SCORED)  # learning, conduct, one histogram per scored subject
    start = page.index("<svg ")
    ElementTree.fromstring(page[start : page.index("</svg>", start) + 6])  # noqa: S314


def test_page_queries_do_not_grow_with_students(client, class_a, principal):
    def count(class_group) -> int:
        for student in students(class_group):
            year_of(class_group, student, all_scored("7"))
            homeroom_marks(student)
        with CaptureQueriesContext(connection) as queries:
            assert summary(client, class_group).status_code == 200
        return len(queries)

    client.force_login(principal)
    summary(client, class_a)  # the first request of a session does its own bookkeeping
    big = ClassGroup.objects.create(year=class_a.year, name="6A9", grade=6)
    add_students(big, [(f"Học sinh {i}", "MF"[i % 2]) for i in range(15)], start=200)
    assert count(class_a) == count(big)


def test_xlsx_has_the_same_table_with_numbers(client, class_a, homeroom):
    first = students(class_a)[0]
    year_of(class_a, first, all_scored("7.8"), terms=(1,))
    client.force_login(homeroom)
    response = summary(client, class_a, term="1", name="gradebook:class_summary_xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    assert header[2:4] == ["Ngữ văn", "Toán"]  # the subjects by name, as on the page
    row = [c.value for c in sheet[2]]
    assert (row[1], float(row[3])) == (first.full_name, 7.8)
    assert sheet.max_row == 4


def test_bad_term_falls_back_to_a_period(client, class_a, homeroom):
    client.force_login(homeroom)
    response = summary(client, class_a, term="7")
    assert response.status_code == 200
    assert response.content.decode().count('aria-current="page" href="?term=') == 1


def test_dashboard_links_the_homeroom_class_summary(client, class_a, homeroom):
    client.force_login(homeroom)
    page = client.get(reverse("schools:dashboard", kwargs={"code": class_a.year.school.code}))
    url = reverse("gradebook:class_summary", kwargs={"code": "SCHOOLA", "class_pk": class_a.pk})
    assert url in page.content.decode()


def test_xlsx_writes_a_formula_like_name_as_text(client, class_a, homeroom):
    first = students(class_a)[0]
    first.full_name = '=HYPERLINK("http://x","y")'
    first.save()
    client.force_login(homeroom)
    response = summary(client, class_a, term="1", name="gradebook:class_summary_xlsx")
    name = load_workbook(io.BytesIO(response.content)).active.cell(row=2, column=2)
    assert (name.data_type, name.value) == ("s", first.full_name)


def test_headers_are_subject_names_and_a_long_one_is_abbreviated(client, class_a, principal):
    client.force_login(principal)
    page = summary(client, class_a, term="1").content.decode()
    assert ">Toán</th>" in page and ">TOAN</th>" not in page
    assert ">Giáo dục thể chất</th>" in page
    local = "Nội dung giáo dục của địa phương"
    assert f'title="{local}"' in page and ">GDDP</abbr>" in page
    assert f"GDDP: {local}" in page  # the key, printed under the table


def test_the_page_prints_the_school_header_and_signature_block(english, class_a, principal):
    english.force_login(principal)
    page = summary(english, class_a, term="1").content.decode()
    header = page[page.index('class="print-only summary-print-header"') :]
    header = header[: header.index("</header>")]
    school = class_a.year.school
    assert school.name in header and "6A1" in header and class_a.year.name in header
    assert "Term I" in header
    signatures = page[page.index('class="print-only summary-signatures"') :]
    assert "Homeroom teacher" in signatures and "Principal" in signatures
    assert class_a.homeroom_teacher.display_name in signatures


def test_the_hint_is_not_printed_and_the_table_is_no_box_of_its_own(english, class_a, principal):
    english.force_login(principal)
    page = summary(english, class_a, term="1").content.decode()
    assert 'class="small text-body-secondary mb-2 no-print" id="summary-legend"' in page
    assert "summary-scroll" not in page  # the page scrolls, not a box inside it
