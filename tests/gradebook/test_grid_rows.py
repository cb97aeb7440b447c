"""The row form (no JavaScript): the whole row in one transaction, all or nothing. The per-cell
history. "Show the calculation"."""

import pytest
from django.urls import reverse

from gradebook.columns import subject_columns
from gradebook.models import Lock, Mark, MarkEvent
from gradebook.services import save_mark


@pytest.fixture
def maths(class_a):
    return class_a.year.school.subjects.get(code="TOAN")


@pytest.fixture
def student(class_a):
    return class_a.enrollments.order_by("roll_number").first().student


@pytest.fixture
def columns(class_a):
    entry = class_a.year.curriculum.get(grade=class_a.grade, subject__code="TOAN")
    return {c.key: c for c in subject_columns(entry, 1)}


@pytest.fixture
def row_url(class_a, maths, student):
    return reverse("gradebook:row_edit", args=["SCHOOLA", class_a.pk, maths.pk, 1, student.pk])


def form_data(response) -> dict:
    """What the browser would send back untouched: every field's text, version and original."""
    data = {}
    for field in response.context["fields"]:
        data[field.name] = field.text
        data[field.version_name] = str(field.version)
        data[field.original_name] = field.original
    return data


def write(class_a, user, student, column, text, version):
    save_mark(actor=user, class_group=class_a, student=student, column=column, text=text,
              base_version=version)  # fmt: skip


def test_row_form_saves_every_changed_cell_in_one_go(client, teacher, row_url, student):
    client.force_login(teacher)
    data = form_data(client.get(row_url))
    data.update(
        {
            "cell-1:tx:1": "8",
            "cell-1:tx:2": "7,5",
            "cell-1:gk:": "7",
            "cell-1:comment:": "Chăm chỉ.",
        }
    )
    response = client.post(row_url, data)
    assert response.status_code == 302
    values = dict(Mark.objects.filter(student=student).values_list("kind", "value"))
    assert values["gk"] == "7" and values["comment"] == "Chăm chỉ."
    assert set(MarkEvent.objects.values_list("source", flat=True)) == {"row_form"}
    assert MarkEvent.objects.count() == 4


def test_one_invalid_cell_saves_nothing_and_shows_the_reason(client, teacher, row_url):
    client.force_login(teacher)
    data = form_data(client.get(row_url))
    data.update({"cell-1:tx:1": "8", "cell-1:tx:2": "7.25", "cell-1:ck:": "9"})
    response = client.post(row_url, data)
    assert response.status_code == 200
    errors = {f.column.key: f.error for f in response.context["fields"] if f.error}
    assert list(errors) == ["1:tx:2"]
    assert not MarkEvent.objects.exists()
    assert 'value="8"' in response.content.decode()  # what the user typed is kept


def test_a_conflicting_cell_saves_nothing_then_saving_again_keeps_mine(
    client, teacher, row_url, class_a, student, columns
):
    client.force_login(teacher)
    data = form_data(client.get(row_url))
    write(class_a, teacher, student, columns["1:ck:"], "5", 0)  # someone else, meanwhile
    data.update({"cell-1:tx:1": "8", "cell-1:ck:": "9"})
    response = client.post(row_url, data)
    assert response.status_code == 200
    assert Mark.objects.get(kind="ck").value == "5"
    assert not Mark.objects.filter(kind="tx").exclude(value="").exists()
    [field] = [f for f in response.context["fields"] if f.error]
    assert field.column.key == "1:ck:" and "5" in field.error

    assert client.post(row_url, form_data(response)).status_code == 302
    assert Mark.objects.get(kind="ck").value == "9"
    assert Mark.objects.get(kind="tx", slot="1").value == "8"


def test_a_cell_left_untouched_does_not_overwrite_a_concurrent_change(
    client, teacher, row_url, class_a, student, columns
):
    client.force_login(teacher)
    data = form_data(client.get(row_url))
    write(class_a, teacher, student, columns["1:ck:"], "5", 0)
    data["cell-1:tx:1"] = "8"
    assert client.post(row_url, data).status_code == 302
    assert Mark.objects.get(kind="ck").value == "5"


def test_locked_row_cannot_be_saved(client, teacher, principal, row_url, class_a):
    Lock.objects.create(school=class_a.year.school, year=class_a.year, term=1, kind="locked",
                        reason="Khóa sổ", created_by=principal)  # fmt: skip
    client.force_login(teacher)
    response = client.get(row_url)
    assert response.context["read_only"]
    data = {"cell-1:tx:1": "8", "version-1:tx:1": "0", "original-1:tx:1": ""}
    response = client.post(row_url, data)
    assert response.status_code == 200 and response.context["problem"]
    assert not MarkEvent.objects.exists()


def test_save_and_next_goes_to_the_next_student(client, teacher, row_url, class_a, maths):
    client.force_login(teacher)
    data = {**form_data(client.get(row_url)), "next": "1"}
    second = class_a.enrollments.order_by("roll_number")[1].student
    response = client.post(row_url, data)
    assert response.url == reverse(
        "gradebook:row_edit", args=["SCHOOLA", class_a.pk, maths.pk, 1, second.pk]
    )


def test_grid_links_each_name_to_the_row_form(client, teacher, row_url, class_a, maths):
    client.force_login(teacher)
    html = client.get(reverse("gradebook:grid", args=["SCHOOLA", class_a.pk, maths.pk, 1]))
    assert f'href="{row_url}"' in html.content.decode()


def test_history_lists_every_event_of_a_cell(
    client, teacher, principal, class_a, maths, student, columns, settings
):
    write(class_a, teacher, student, columns["1:tx:1"], "7", 0)
    write(class_a, teacher, student, columns["1:tx:1"], "7,5", 1)
    write(class_a, teacher, student, columns["1:gk:"], "6", 0)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(principal)
    url = reverse("gradebook:cell_history", args=["SCHOOLA", class_a.pk, maths.pk, student.pk])
    response = client.get(url, {"column": "1:tx:1"})
    lines = response.context["lines"]
    changes = [(line["old"], line["new"]) for line in lines]
    assert changes == [("", "7"), ("7", "7.5")]  # in English: a decimal point
    assert [line["event"].seq for line in lines] == [1, 2]
    html = response.content.decode()
    assert "<td>teacher</td>" in html and "<td>Gradebook grid</td>" in html  # who, and how
    assert len(client.get(url).context["lines"]) == 3  # the whole row


def test_history_shows_vietnam_time(client, teacher, class_a, maths, student, columns):
    write(class_a, teacher, student, columns["1:tx:1"], "7", 0)
    event = MarkEvent.objects.get()
    client.force_login(teacher)
    url = reverse("gradebook:cell_history", args=["SCHOOLA", class_a.pk, maths.pk, student.pk])
    html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in html  # a fragment for the dialog
    shown = event.at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Ho_Chi_Minh"))
    assert shown.strftime("%d/%m/%Y %H:%M:%S") in html


def test_explain_shows_the_term_average_calculation_in_vietnamese(
    client, teacher, class_a, maths, student, columns
):
    marks = {
        "1:tx:1": "8",
        "1:tx:2": "7.5",
        "1:tx:3": "9",
        "1:tx:4": "6",
        "1:gk:": "7",
        "1:ck:": "8.5",
    }
    for key, text in marks.items():
        write(class_a, teacher, student, columns[key], text, 0)
    client.force_login(teacher)
    url = reverse("gradebook:explain", args=["SCHOOLA", class_a.pk, maths.pk, student.pk])
    html = client.get(url, {"term": "1"}, HTTP_HX_REQUEST="true").content.decode()
    assert "(8 + 7,5 + 9 + 6 + 2×7 + 3×8,5) / 9" in html
    assert "7,8" in html


def test_explain_names_the_missing_marks(
    client, teacher, class_a, maths, student, columns, settings
):
    write(class_a, teacher, student, columns["1:tx:1"], "8", 0)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(teacher)
    url = reverse("gradebook:explain", args=["SCHOOLA", class_a.pk, maths.pk, student.pk])
    html = client.get(url, {"term": "1"}).content.decode()
    assert "TX2, TX3, TX4, GK, CK" in html


def test_explain_the_year_average(client, teacher, class_a, maths, student):
    entry = class_a.year.curriculum.get(grade=6, subject__code="TOAN")
    for term, ck in ((1, "8.5"), (2, "10")):
        cols = {c.key: c for c in subject_columns(entry, term)}
        marks = {"tx:1": "8", "tx:2": "7.5", "tx:3": "9", "tx:4": "6", "gk:": "7", "ck:": ck}
        for key, text in marks.items():
            write(class_a, teacher, student, cols[f"{term}:{key}"], text, 0)
    client.force_login(teacher)
    url = reverse("gradebook:explain", args=["SCHOOLA", class_a.pk, maths.pk, student.pk])
    html = client.get(url, {"term": "year"}).content.decode()
    assert "(7,8 + 2×8,3) / 3" in html
