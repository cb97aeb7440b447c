"""The import page: upload, report, summary, templates, limits and language."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import User
from schools.models import Student, TeachingAssignment

HEADER = ["Họ và tên", "Giới tính", "Ngày sinh", "Số định danh cá nhân", "Mã học sinh", "Lớp"]
MAI = ["Nguyễn Thị Mai", "Nữ", "12/05/2014", "001314000201", "HS000201", "6A1"]
BAD_ID = ["Lê Văn Tú", "Nam", "01/02/2014", "00121400030", "HS000202", "6A1"]


@pytest.fixture
def admin_client(client: Client, world: dict) -> Client:
    client.force_login(world["users"]["admin"])
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def page(world: dict) -> str:
    return reverse("schools:roster_import", kwargs={"code": world["school_a"].code})


def template_url(world: dict, kind: str) -> str:
    return reverse("schools:roster_template", kwargs={"code": world["school_a"].code, "kind": kind})


def xlsx(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in [HEADER, *rows]:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def post(client: Client, url: str, data: bytes, name: str = "list.xlsx", **fields):
    upload = SimpleUploadedFile(name, data)
    return client.post(url, {"kind": "students", "file": upload, **fields})


def test_page_offers_the_three_kinds_with_templates(admin_client, page, world):
    response = admin_client.get(page)
    html = response.content.decode()
    for kind in ("students", "assignments", "teachers"):
        assert template_url(world, kind) in html
    assert 'enctype="multipart/form-data"' in html
    assert "Số định danh cá nhân" in html


def test_good_upload_imports_and_shows_the_summary(admin_client, page):
    response = post(admin_client, page, xlsx([MAI]))
    assert response.status_code == 200
    assert 'id="import-done"' in response.content.decode()
    assert Student.objects.filter(student_code="HS000201").exists()


def test_bad_upload_shows_every_error_and_imports_nothing(admin_client, page):
    cuc = ["Lê Thu Cúc", "Nữ", "2014-07-03", "001314000203", "HS000203", "6A9"]
    response = post(admin_client, page, xlsx([MAI, BAD_ID, cuc]))
    html = response.content.decode()
    assert 'id="import-failed"' in html
    assert html.count('<tr><td class="text-end">') == 2
    assert "exactly 12 digits" in html
    assert "There is no class 6A9" in html
    assert not Student.objects.filter(student_code="HS000201").exists()


def test_validate_only_writes_nothing(admin_client, page):
    response = post(admin_client, page, xlsx([MAI]), dry_run="on")
    assert "validate only" in response.content.decode()
    assert not Student.objects.filter(student_code="HS000201").exists()


def test_too_large_file_is_a_form_error(admin_client, page, settings):
    settings.ROSTER_IMPORT_MAX_BYTES = 1024
    response = post(admin_client, page, b"x" * 2048, name="big.csv")
    assert response.status_code == 200
    assert 'id="file-error"' in response.content.decode()
    assert "too large" in response.content.decode()


def test_picture_renamed_xlsx_is_a_form_error(admin_client, page):
    response = post(admin_client, page, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, name="photo.xlsx")
    assert response.status_code == 200
    assert "not a spreadsheet" in response.content.decode()


def test_upload_needs_the_csrf_token(world, page):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["users"]["admin"])
    response = post(client, page, xlsx([MAI]))
    assert response.status_code == 403
    assert not Student.objects.filter(student_code="HS000201").exists()


def test_teacher_cannot_upload(client, world, page):
    client.force_login(world["users"]["teacher"])
    assert post(client, page, xlsx([MAI])).status_code == 403
    assert not Student.objects.filter(student_code="HS000201").exists()


def test_template_has_vietnamese_headers_and_text_formatted_ids(admin_client, world):
    response = admin_client.get(template_url(world, "students"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "mau-nhap-hoc-sinh.xlsx" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Họ và tên", "Giới tính", "Ngày sinh", "Nơi sinh"]
    id_column = header.index("Số định danh cá nhân") + 1
    assert sheet.cell(row=2, column=id_column).value == "001214000123"
    assert sheet.cell(row=50, column=id_column).number_format == "@"


def test_templates_import_as_they_are(admin_client, page, world):
    for kind in ("teachers", "assignments", "students"):
        data = admin_client.get(template_url(world, kind)).content
        upload = SimpleUploadedFile(f"{kind}.xlsx", data)
        response = admin_client.post(page, {"kind": kind, "file": upload})
        assert 'id="import-done"' in response.content.decode(), kind
    teacher = User.objects.get(username="nguyenthilan")
    assert TeachingAssignment.objects.filter(teacher=teacher, class_group=world["class_a"]).exists()
    assert Student.objects.filter(personal_id="001214000123").exists()


def test_errors_are_reported_in_vietnamese(client, world, page):
    client.force_login(world["users"]["admin"])
    client.cookies["django_language"] = "vi"
    html = post(client, page, xlsx([BAD_ID, [*MAI[:5], "6A9"]])).content.decode()
    assert "Số định danh cá nhân phải có đúng 12 chữ số." in html
    assert "Không có lớp 6A9 trong năm học 2025-2026." in html
    assert "exactly 12 digits" not in html


def test_year_of_another_school_is_refused(admin_client, page, world):
    other_year = world["school_b"].current_year()
    response = post(admin_client, page, xlsx([MAI]), year=other_year.pk)
    assert "import-done" not in response.content.decode()
    assert not Student.objects.filter(student_code="HS000201").exists()
