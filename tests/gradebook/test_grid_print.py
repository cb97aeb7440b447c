"""Issue 17: what the grid page prints (the book's header) and the history's numbering."""

import re

import pytest
from django.urls import reverse

from gradebook.columns import subject_columns
from gradebook.services import save_mark


@pytest.fixture
def maths(class_a):
    return class_a.year.school.subjects.get(code="TOAN")


@pytest.fixture
def columns(class_a):
    entry = class_a.year.curriculum.get(grade=class_a.grade, subject__code="TOAN")
    return {c.key: c for c in subject_columns(entry, 1)}


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_grid_has_a_print_header_with_the_books_particulars(client, teacher, class_a, maths):
    teacher.full_name = "Phạm Thu Trang"
    teacher.save()
    client.force_login(teacher)
    html = client.get(
        reverse("gradebook:grid", args=["SCHOOLA", class_a.pk, maths.pk, 2])
    ).content.decode()
    head = re.search(r'<header class="gb-print-head[^"]*"[^>]*>(.*?)</header>', html, re.S)
    assert head is not None
    words = text_of(head.group(1))
    for expected in (
        "Trường THCS Ánh Dương",
        "Lớp 6A1",
        "Toán",
        "Học kỳ II",
        "2025",
        "Phạm Thu Trang",
    ):
        assert expected in words, expected
    footer = re.search(r"<tfoot[^>]*>(.*?)</tfoot>", html, re.S)  # repeated on every sheet
    assert footer is not None and "Phạm Thu Trang" in text_of(footer.group(1))
    assert re.search(r"<button[^>]*data-print", html)


def test_the_homeroom_book_prints_the_homeroom_teacher(client, homeroom, class_a):
    homeroom.full_name = "Vũ Minh Hằng"
    homeroom.save()
    client.force_login(homeroom)
    html = client.get(reverse("gradebook:homeroom", args=["SCHOOLA", class_a.pk, 1])).content
    head = re.search(r'<header class="gb-print-head[^"]*"[^>]*>(.*?)</header>', html.decode(), re.S)
    assert head is not None and "Vũ Minh Hằng" in text_of(head.group(1))


def test_submitting_the_gradebook_asks_for_a_confirmation(client, teacher, class_a, maths):
    client.force_login(teacher)
    html = client.get(reverse("gradebook:grid", args=["SCHOOLA", class_a.pk, maths.pk, 1]))
    submit = reverse("gradebook:submit", args=["SCHOOLA", class_a.pk, maths.pk, 1])
    form = re.search(rf'<form[^>]*action="{re.escape(submit)}"[^>]*>', html.content.decode())
    assert form is not None and 'data-confirm="' in form.group(0)


def test_the_history_numbers_its_lines_from_one_not_by_ledger_ids(
    client, teacher, class_a, maths, columns
):
    first, second, _ = (e.student for e in class_a.enrollments.order_by("roll_number"))
    for text in ("5", "6", "7"):  # ledger events 1 to 3, of another student
        save_mark(actor=teacher, class_group=class_a, student=second,
                  column=columns["1:gk:"], text=text, base_version=None)  # fmt: skip
    for text in ("8", "9"):  # events 4 and 5
        save_mark(actor=teacher, class_group=class_a, student=first,
                  column=columns["1:tx:1"], text=text, base_version=None)  # fmt: skip
    client.force_login(teacher)
    url = reverse("gradebook:cell_history", args=["SCHOOLA", class_a.pk, maths.pk, first.pk])
    html = client.get(url, {"column": "1:tx:1"}, HTTP_HX_REQUEST="true").content.decode()
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S).group(1)
    numbers = re.findall(r"<tr[^>]*>\s*<td[^>]*>([^<]*)</td>", body)
    assert numbers == ["1", "2"]
