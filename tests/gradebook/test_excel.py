"""Excel round-trip: export keyed by student code, import with a preview of the differences,
confirmation in one transaction through save_mark (source "import"), all or nothing."""

import io

import openpyxl
import pytest
from django.urls import reverse

from gradebook.excel import CODE_KEY, FIRST_ROW, KEY_ROW
from gradebook.models import EventSource, Lock, LockKind, Mark, MarkEvent
from gradebook.services import save_mark

pytestmark = pytest.mark.usefixtures("english")  # tests/conftest.py


@pytest.fixture
def urls(class_a):
    maths = class_a.year.school.subjects.get(code="TOAN")
    kwargs = {"code": "SCHOOLA", "class_pk": class_a.pk, "subject_pk": maths.pk, "term": 1}
    return {
        name: reverse(f"gradebook:{name}", kwargs=kwargs)
        for name in ("excel_export", "excel_import", "excel_import_confirm")
    }


@pytest.fixture
def students(class_a):
    return [e.student for e in class_a.enrollments.order_by("roll_number")]


@pytest.fixture
def teacher_client(client, teacher):
    client.force_login(teacher)
    return client


def put(class_a, teacher, student, column, text):
    current = Mark.objects.filter(student=student, kind=column.kind, slot=column.slot).first()
    return save_mark(
        actor=teacher, class_group=class_a, student=student, column=column, text=text,
        base_version=current.version if current else 0,
    )  # fmt: skip


def exported(client, urls):
    response = client.get(urls["excel_export"])
    assert response.status_code == 200
    return openpyxl.load_workbook(io.BytesIO(response.content))


def cell(workbook, code, key):
    """The data cell of student `code` in the column whose hidden key is `key`."""
    sheet = workbook.worksheets[0]
    keys = [c.value for c in sheet[KEY_ROW]]
    code_column = keys.index(CODE_KEY) + 1
    row = next(
        r for r in range(FIRST_ROW, sheet.max_row + 1)
        if sheet.cell(row=r, column=code_column).value == code
    )  # fmt: skip
    return sheet.cell(row=row, column=keys.index(key) + 1)


def upload(client, urls, workbook, name="so-diem.xlsx"):
    buffer = io.BytesIO()
    workbook.save(buffer)
    file = io.BytesIO(buffer.getvalue())
    file.name = name
    return client.post(urls["excel_import"], {"file": file})


def confirm(client, urls, response):
    return client.post(urls["excel_import_confirm"], {"token": response.context["token"]})


@pytest.fixture
def marked(class_a, teacher, students, maths_columns):
    """Two marks already in the gradebook."""
    put(class_a, teacher, students[0], maths_columns["1:tx:1"], "7")
    put(class_a, teacher, students[1], maths_columns["1:gk:"], "6.5")


def test_export_is_keyed_by_student_code_and_protected(teacher_client, urls, students, marked):
    workbook = exported(teacher_client, urls)
    sheet = workbook.worksheets[0]
    assert sheet.protection.sheet
    assert sheet.row_dimensions[KEY_ROW].hidden
    code = students[0].student_code
    assert cell(workbook, code, "1:tx:1").value == 7
    assert cell(workbook, students[1].student_code, "1:gk:").value == 6.5
    assert not cell(workbook, code, "1:tx:1").protection.locked
    assert cell(workbook, code, CODE_KEY).protection.locked


def test_unchanged_export_imports_as_an_empty_diff(teacher_client, urls, marked):
    response = upload(teacher_client, urls, exported(teacher_client, urls))
    assert response.context["preview"].changes == []
    assert response.context["preview"].problems == []
    assert b"preview-no-changes" in response.content
    assert b"confirm-import" not in response.content


def test_changes_are_previewed_then_written_on_confirm_as_import_events(
    teacher_client, urls, students, marked, teacher
):
    workbook = exported(teacher_client, urls)
    cell(workbook, students[0].student_code, "1:tx:1").value = "8,5"
    cell(workbook, students[2].student_code, "1:ck:").value = 9
    cell(workbook, students[2].student_code, "1:comment:").value = "Tiến bộ rõ rệt."
    response = upload(teacher_client, urls, workbook)
    changes = [
        (c.student_id, c.column_key, c.old, c.new) for c in response.context["preview"].changes
    ]
    assert changes == [
        (students[0].pk, "1:tx:1", "7", "8.5"),
        (students[2].pk, "1:ck:", "", "9"),
        (students[2].pk, "1:comment:", "", "Tiến bộ rõ rệt."),
    ]
    assert MarkEvent.objects.count() == 2  # nothing written by the preview
    assert confirm(teacher_client, urls, response).status_code == 302
    events = MarkEvent.objects.filter(source=EventSource.IMPORT).order_by("seq")
    assert [(e.old_value, e.new_value, e.actor) for e in events] == [
        ("7", "8.5", teacher), ("", "9", teacher), ("", "Tiến bộ rõ rệt.", teacher),
    ]  # fmt: skip
    assert all("so-diem.xlsx" in e.reason for e in events)


def test_a_preview_is_confirmed_only_once(teacher_client, urls, students, marked):
    workbook = exported(teacher_client, urls)
    cell(workbook, students[0].student_code, "1:tx:1").value = 4
    response = upload(teacher_client, urls, workbook)
    confirm(teacher_client, urls, response)
    again = confirm(teacher_client, urls, response)
    assert again.status_code == 302
    assert MarkEvent.objects.filter(source=EventSource.IMPORT).count() == 1


def test_blank_cells_never_clear_marks(teacher_client, urls, students, marked):
    workbook = exported(teacher_client, urls)
    cell(workbook, students[0].student_code, "1:tx:1").value = None
    cell(workbook, students[1].student_code, "1:gk:").value = "   "
    response = upload(teacher_client, urls, workbook)
    assert response.context["preview"].changes == []
    assert Mark.objects.filter(value="7").exists()
    assert Mark.objects.filter(value="6.5").exists()


def test_invalid_cells_are_reported_one_by_one_and_nothing_is_written(
    teacher_client, urls, students, marked
):
    workbook = exported(teacher_client, urls)
    code = students[0].student_code
    cell(workbook, code, "1:tx:2").value = "7.25"
    cell(workbook, code, "1:tx:3").value = 11
    cell(workbook, code, "1:gk:").value = "tám"
    cell(workbook, students[1].student_code, "1:tx:1").value = 5  # a valid change
    response = upload(teacher_client, urls, workbook)
    preview = response.context["preview"]
    assert [(p.student_code, p.column, p.value) for p in preview.problems] == [
        (code, "TX2", "7.25"), (code, "TX3", "11"), (code, "GK", "tám"),
    ]  # fmt: skip
    assert all(p.row == preview.problems[0].row and p.message for p in preview.problems)
    assert not response.context["token"]
    assert b"confirm-import" not in response.content
    assert MarkEvent.objects.count() == 2


def test_a_cell_changed_after_the_preview_refuses_the_whole_import(
    teacher_client, urls, class_a, teacher, students, marked, maths_columns
):
    workbook = exported(teacher_client, urls)
    cell(workbook, students[0].student_code, "1:ck:").value = 8
    cell(workbook, students[1].student_code, "1:gk:").value = 9
    response = upload(teacher_client, urls, workbook)
    put(class_a, teacher, students[1], maths_columns["1:gk:"], "5")  # someone else, meanwhile
    refused = confirm(teacher_client, urls, response)
    page = teacher_client.get(refused.url)
    assert "changed by someone else" in page.content.decode()
    assert not Mark.objects.filter(student=students[0], kind="ck").exclude(value="").exists()
    assert not MarkEvent.objects.filter(source=EventSource.IMPORT).exists()


def test_a_locked_book_refuses_the_import(teacher_client, urls, class_a, students, principal):
    workbook = exported(teacher_client, urls)
    cell(workbook, students[0].student_code, "1:tx:1").value = 8
    Lock.objects.create(
        school=class_a.year.school, year=class_a.year, term=1, class_group=class_a,
        kind=LockKind.LOCKED, reason="Hết hạn nhập điểm", created_by=principal,
    )  # fmt: skip
    response = upload(teacher_client, urls, workbook)
    assert "Hết hạn nhập điểm" in response.context["preview"].lock
    assert b"confirm-import" not in response.content
    assert not MarkEvent.objects.exists()


def test_a_lock_set_between_preview_and_confirm_refuses_the_import(
    teacher_client, urls, class_a, students, principal
):
    workbook = exported(teacher_client, urls)
    cell(workbook, students[0].student_code, "1:tx:1").value = 8
    cell(workbook, students[1].student_code, "1:tx:1").value = 7
    response = upload(teacher_client, urls, workbook)
    Lock.objects.create(
        school=class_a.year.school, year=class_a.year, class_group=class_a,
        kind=LockKind.LOCKED, reason="Khóa sổ", created_by=principal,
    )  # fmt: skip
    refused = confirm(teacher_client, urls, response)
    assert "is locked" in teacher_client.get(refused.url).content.decode()
    assert not MarkEvent.objects.exists()


def test_a_formula_cell_is_refused(teacher_client, urls, students):
    workbook = exported(teacher_client, urls)
    cell(workbook, students[0].student_code, "1:ck:").value = "=5+3"
    problems = upload(teacher_client, urls, workbook).context["preview"].problems
    assert [(p.column, p.value) for p in problems] == [("CK", "=5+3")]
    assert "Formulas" in problems[0].message


def test_unknown_and_foreign_student_codes_are_reported(teacher_client, urls, students, class_a2):
    workbook = exported(teacher_client, urls)
    sheet = workbook.worksheets[0]
    other = class_a2.enrollments.get().student
    for code in ("HS999999", other.student_code):
        row = sheet.max_row + 1
        sheet.cell(row=row, column=2, value=code)
        sheet.cell(row=row, column=4, value=8)
    problems = upload(teacher_client, urls, workbook).context["preview"].problems
    assert [(p.student_code, p.message) for p in problems] == [
        ("HS999999", "No student of the school has this code."),
        (other.student_code, f"{other.full_name} is not in class 6A1."),
    ]


def test_a_file_of_another_term_is_refused(teacher_client, urls, students):
    workbook = exported(teacher_client, urls)
    other_term = urls["excel_import"].replace("/terms/1/", "/terms/2/")
    response = upload(teacher_client, {"excel_import": other_term}, workbook)
    assert "another gradebook" in response.content.decode()
    assert response.context["preview"] is None


def test_a_file_that_is_not_xlsx_is_refused(teacher_client, urls):
    file = io.BytesIO(b"student_code,TX1\nHS000001,8\n")
    file.name = "marks.csv"
    response = teacher_client.post(urls["excel_import"], {"file": file})
    assert response.context["form"].errors["file"]
    assert not MarkEvent.objects.exists()


def test_a_teacher_not_assigned_to_the_subject_may_export_but_not_import(client, homeroom, urls):
    client.force_login(homeroom)  # homeroom teacher of 6A1, teaches literature, not maths
    assert client.get(urls["excel_export"]).status_code == 200
    assert client.get(urls["excel_import"]).status_code == 403
    assert client.post(urls["excel_import_confirm"], {"token": "x"}).status_code == 403


def test_the_preview_shows_values_as_vietnamese_users_read_them(teacher_client, urls, students):
    workbook = exported(teacher_client, urls)
    cell(workbook, students[0].student_code, "1:ck:").value = 8.5
    teacher_client.cookies["django_language"] = "vi"
    page = upload(teacher_client, urls, workbook).content.decode()
    assert "<strong>8,5</strong>" in page


INJECTED = '=HYPERLINK("http://x","y")'


@pytest.mark.parametrize("comment", [INJECTED, "+1 bài tập", "-Chăm chỉ", "@mention"])
def test_a_comment_that_looks_like_a_formula_is_exported_as_text_and_imports_back(
    teacher_client, urls, class_a, teacher, students, maths_columns, comment
):
    put(class_a, teacher, students[0], maths_columns["1:comment:"], comment)
    workbook = exported(teacher_client, urls)
    exported_cell = cell(workbook, students[0].student_code, "1:comment:")
    assert (exported_cell.data_type, exported_cell.value) == ("s", comment)
    response = upload(teacher_client, urls, workbook)
    assert response.context["preview"].problems == []
    assert response.context["preview"].changes == []  # the same comment, not a formula


def test_marks_stay_numbers_beside_a_formula_like_comment(
    teacher_client, urls, class_a, teacher, students, maths_columns
):
    put(class_a, teacher, students[0], maths_columns["1:comment:"], "=1+1")
    put(class_a, teacher, students[0], maths_columns["1:tx:1"], "7")
    workbook = exported(teacher_client, urls)
    assert cell(workbook, students[0].student_code, "1:tx:1").data_type == "n"  # still a number
    changes = upload(teacher_client, urls, workbook).context["preview"].changes
    assert changes == []


def test_a_comment_with_a_control_character_in_the_file_is_refused(teacher_client, urls, students):
    workbook = exported(teacher_client, urls)
    cell(workbook, students[0].student_code, "1:comment:").value = "Ngo\x85an"  # C1: NEL
    problems = upload(teacher_client, urls, workbook).context["preview"].problems
    assert [p.column for p in problems] == ["Comment"]
    assert "cannot be stored" in problems[0].message


def test_a_book_with_a_stored_control_character_still_exports(
    teacher_client, urls, class_a, teacher, students, maths_columns
):
    put(class_a, teacher, students[0], maths_columns["1:comment:"], "Ngoan")
    # Stored before the check (PostgreSQL never stores NUL itself: BEL and ESC here).
    Mark.objects.filter(kind="comment").update(value="Ngoan\x07\x1b !")
    exported_cell = cell(exported(teacher_client, urls), students[0].student_code, "1:comment:")
    assert exported_cell.value == "Ngoan\ufffd\ufffd !"
