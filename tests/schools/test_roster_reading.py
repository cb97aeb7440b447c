"""Reading uploaded files: formats, limits, headers and single cells (no database)."""

import datetime
import io
import zipfile

import openpyxl
import pytest

from schools.roster_import import values
from schools.roster_import.columns import STUDENTS, TEACHERS, find_header, normalize_header
from schools.roster_import.errors import ImportFileError
from schools.roster_import.reading import CellKind, read_rows, text_cell

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512


pytestmark = pytest.mark.usefixtures("english")  # tests/conftest.py


def xlsx(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def texts(data: bytes, name: str) -> list[tuple[int, list[str]]]:
    return [(r.number, [c.text for c in r.cells]) for r in read_rows(data, name)]


def test_xlsx_rows_keep_spreadsheet_row_numbers_and_skip_blank_rows():
    data = xlsx([["Họ và tên", "Lớp"], [], ["Nguyễn Văn An", "6A1"]])
    assert texts(data, "list.xlsx") == [(1, ["Họ và tên", "Lớp"]), (3, ["Nguyễn Văn An", "6A1"])]


def test_xlsx_cells_keep_their_kind():
    data = xlsx([["=1+2", 1234567890, datetime.date(2014, 3, 1), "0012"]])
    cells = read_rows(data, "list.xlsx")[0].cells
    assert [c.kind for c in cells] == [
        CellKind.FORMULA,
        CellKind.NUMBER,
        CellKind.DATE,
        CellKind.TEXT,
    ]
    assert cells[2].value == datetime.date(2014, 3, 1)


def test_csv_with_bom_and_semicolons_is_read():
    data = "\ufeffHọ và tên;Lớp\r\nNguyễn Văn An;6A1\r\n".encode()
    assert texts(data, "list.csv") == [(1, ["Họ và tên", "Lớp"]), (2, ["Nguyễn Văn An", "6A1"])]


def test_csv_delimiter_is_sniffed_among_comma_semicolon_and_tab():
    assert texts(b"a\tb\n1\t2\n", "x.csv")[1] == (2, ["1", "2"])
    assert texts(b'a,b\n"1;2",3\n', "x.csv")[1] == (2, ["1;2", "3"])


def test_decomposed_vietnamese_text_is_normalised():
    assert text_cell(" Nguye\u0302\u0303n ").text == "Nguyễn"


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (PNG, "photo.xlsx", "not a spreadsheet"),
        (PNG, "photo.png", "not a spreadsheet"),
        (b"PK\x03\x04garbage", "broken.xlsx", "not a spreadsheet"),
        (OLE2, "old.xls", ".xls"),
        (OLE2, "renamed.xlsx", ".xls"),
        ("Họ tên\nAn\n".encode("utf-16"), "list.csv", "UTF-8"),
    ],
)
def test_files_that_are_not_readable_spreadsheets_get_a_clear_error(data, name, expected):
    with pytest.raises(ImportFileError, match=expected):
        read_rows(data, name)


def test_too_large_file_is_refused_before_parsing(settings):
    settings.ROSTER_IMPORT_MAX_BYTES = 2048
    with pytest.raises(ImportFileError, match="too large"):
        read_rows(b"a;b\n" * 1000, "list.csv")


def test_reading_stops_once_there_are_too_many_rows(settings):
    settings.ROSTER_IMPORT_MAX_ROWS = 3
    with pytest.raises(ImportFileError, match="more than 3 rows"):
        read_rows(xlsx([["Họ và tên"], *[[f"HS {n}"] for n in range(20)]]), "list.xlsx")


def test_zip_bomb_is_refused(settings):
    settings.ROSTER_IMPORT_MAX_BYTES = 100_000
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * 2_000_000)
    assert len(buffer.getvalue()) < 100_000
    with pytest.raises(ImportFileError, match="expands"):
        read_rows(buffer.getvalue(), "bomb.xlsx")


@pytest.mark.parametrize(
    "header", ["Họ và tên", "HỌ VÀ TÊN", "ho va ten", "Họ  và tên (*)", "Full Name", "Họ tên"]
)
def test_headers_match_without_case_diacritics_or_notes(header):
    rows = read_rows(xlsx([[header, "Email", "Tên đăng nhập"]]), "t.xlsx")
    found, errors = find_header(rows, TEACHERS)
    assert errors == []
    assert found.positions == {"full_name": 0, "email": 1, "username": 2}


def test_title_rows_above_the_header_are_skipped():
    rows = read_rows(
        xlsx([["DANH SÁCH GIÁO VIÊN"], [], ["Tài khoản", "Họ tên", "E-mail"]]), "t.xlsx"
    )
    found, _ = find_header(rows, TEACHERS)
    assert found.row == 3


def test_missing_required_columns_are_reported_by_their_vietnamese_header():
    rows = read_rows(xlsx([["Họ và tên", "Lớp", "Ghi chú"]]), "s.xlsx")
    found, errors = find_header(rows, STUDENTS)
    assert found is None
    assert {e.column for e in errors} == {
        "Giới tính",
        "Ngày sinh",
        "Số định danh cá nhân",
        "Mã học sinh",
    }


def test_two_columns_with_the_same_meaning_are_an_error():
    rows = read_rows(xlsx([["Tài khoản", "Tên đăng nhập", "Họ tên", "Email"]]), "t.xlsx")
    found, errors = find_header(rows, TEACHERS)
    assert found is None
    assert [(e.column, e.column_index) for e in errors] == [("Tên đăng nhập", 1)]


def test_normalize_header_handles_d_with_stroke():
    assert normalize_header("Số định danh cá nhân") == "so dinh danh ca nhan"


@pytest.mark.parametrize(
    "raw", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", " =1+1"]
)
def test_formula_like_text_is_refused(raw):
    with pytest.raises(values.Invalid, match="may not begin"):
        values.check_safe(text_cell(raw))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("05/09/2014", datetime.date(2014, 9, 5)),
        ("5/9/2014", datetime.date(2014, 9, 5)),
        ("2014-09-05", datetime.date(2014, 9, 5)),
        ("05-09-2014", datetime.date(2014, 9, 5)),
    ],
)
def test_dates_are_read_day_first_or_iso(raw, expected):
    assert values.date_of_birth(text_cell(raw)) == expected


@pytest.mark.parametrize("raw", ["09/05/14", "31/02/2014", "ngày 5", "01/01/2999"])
def test_bad_dates_are_refused(raw):
    with pytest.raises(values.Invalid):
        values.date_of_birth(text_cell(raw))


@pytest.mark.parametrize(
    ("raw", "expected"), [("Nam", "M"), ("NỮ", "F"), ("nu", "F"), ("male", "M"), ("F", "F")]
)
def test_sex_accepts_vietnamese_and_english(raw, expected):
    assert values.sex(text_cell(raw)) == expected


def test_personal_id_typed_as_a_number_is_refused_with_the_text_format_hint():
    number = read_rows(xlsx([[1214000123]]), "s.xlsx")[0].cells[0]
    with pytest.raises(values.Invalid, match="Format the column as Text"):
        values.personal_id(number)
