"""Importing students with their class: all or nothing, idempotent, every error reported."""

import datetime
import io

import openpyxl
import pytest

from accounts.models import Membership, User
from schools.models import Enrollment, Student, TeachingAssignment
from schools.roster_import.errors import ImportFileError
from schools.roster_import.service import import_roster

HEADER = [
    "STT",
    "Họ và tên",
    "Giới tính",
    "Ngày sinh",
    "Số định danh cá nhân",
    "Mã học sinh",
    "Lớp",
]
MAI = ["Nguyễn Thị Mai", "Nữ", "12/05/2014", "001314000201", "HS000201", "6A1"]
BAO = ["Trần Văn Bảo", "Nam", datetime.date(2014, 1, 20), "001214000202", "HS000202", "6A1"]
CUC = ["Lê Thu Cúc", "Nữ", "2014-07-03", "001314000203", "HS000203", "6A2"]


pytestmark = pytest.mark.usefixtures("english")  # tests/conftest.py


@pytest.fixture
def school(world):
    return world["school_a"]


@pytest.fixture
def binh(world):
    """In 6A1: Nguyễn Văn Bình, male, born 01/03/2014, 001214000001, HS000001."""
    return Student.objects.get(full_name="Nguyễn Văn Bình")


def xlsx(rows: list[list], header: list = HEADER) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.append(header)
    for number, row in enumerate(rows, start=1):
        workbook.active.append([number, *row] if header[0] == "STT" else row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run(school, data: bytes, name: str = "list.xlsx", **kwargs):
    return import_roster(
        school=school,
        year=school.current_year(),
        kind="students",
        data=data,
        filename=name,
        **kwargs,
    )


def table_counts() -> tuple[int, ...]:
    models = (Student, Enrollment, User, Membership, TeachingAssignment)
    return tuple(model.objects.count() for model in models)


def snapshot() -> list[tuple]:
    students = list(Student.objects.order_by("pk").values_list())
    enrollments = list(Enrollment.objects.order_by("pk").values_list())
    return students + enrollments


def counts(outcome) -> dict[str, tuple[int, int, int]]:
    return {c.label: (c.created, c.updated, c.unchanged) for c in outcome.counts}


def roll(class_group) -> list[tuple[int, str]]:
    enrollments = class_group.enrollments.select_related("student").order_by("roll_number")
    return [(e.roll_number, e.student.full_name) for e in enrollments]


def test_good_file_imports_students_into_their_classes_with_roll_numbers(school, world):
    outcome = run(school, xlsx([MAI, BAO, CUC]))
    assert outcome.ok, outcome.errors
    assert counts(outcome) == {"Students": (3, 0, 0), "Class enrollments": (3, 0, 0)}
    assert roll(world["class_a"]) == [
        (1, "Trần Thị An"),
        (2, "Trần Văn Bảo"),
        (3, "Nguyễn Văn Bình"),
        (4, "Nguyễn Thị Mai"),
        (5, "Lê Hoàng Yến"),
    ]
    assert roll(world["class_a2"]) == [(1, "Lê Thu Cúc"), (2, "Phạm Minh Đức")]
    mai = Student.objects.get(personal_id="001314000201")
    assert (mai.sex, mai.date_of_birth, mai.ethnicity, mai.school) == (
        "F",
        datetime.date(2014, 5, 12),
        "Kinh",
        school,
    )


def test_reimporting_the_same_file_changes_nothing(school):
    data = xlsx([MAI, BAO, CUC])
    run(school, data)
    before = snapshot()
    outcome = run(school, data)
    assert counts(outcome) == {"Students": (0, 0, 3), "Class enrollments": (0, 0, 3)}
    assert snapshot() == before


def test_matched_student_gets_the_changed_values(school):
    run(school, xlsx([MAI]))
    outcome = run(
        school, xlsx([["Nguyễn Thị Mai", "Nữ", "12/05/2014", "001314000201", "HS9", "6A1"]])
    )
    assert counts(outcome)["Students"] == (0, 1, 0)
    assert Student.objects.get(personal_id="001314000201").student_code == "HS9"


def test_blank_optional_cell_does_not_erase_stored_data(school):
    header = [*HEADER, "Nơi sinh"]
    run(school, xlsx([[*MAI, "Hà Nội"]], header=header))
    outcome = run(school, xlsx([[*MAI, ""]], header=header))
    assert counts(outcome)["Students"] == (0, 0, 1)
    assert Student.objects.get(student_code="HS000201").place_of_birth == "Hà Nội"


def test_student_code_match_corrects_a_mistyped_personal_id(school, binh):
    row = [binh.full_name, "Nam", "01/03/2014", "001214000999", binh.student_code, "6A1"]
    outcome = run(school, xlsx([row]))
    assert counts(outcome)["Students"] == (0, 1, 0)
    binh.refresh_from_db()
    assert binh.personal_id == "001214000999"


def test_student_code_of_a_different_person_is_an_error(school, binh):
    code = binh.student_code
    before = snapshot()
    outcome = run(
        school, xlsx([["Hoàng Văn Nam", "Nam", "01/03/2014", "001214000999", code, "6A1"]])
    )
    assert [(e.row, e.column) for e in outcome.errors] == [(2, "Mã học sinh")]
    assert "another personal ID" in outcome.errors[0].message
    assert snapshot() == before


def test_personal_id_and_student_code_of_two_different_students_is_an_error(school, binh):
    other = Student.objects.get(full_name="Trần Thị An")
    row = [binh.full_name, "Nam", "01/03/2014", binh.personal_id, other.student_code, "6A1"]
    outcome = run(school, xlsx([row]))
    assert [e.column for e in outcome.errors] == ["Mã học sinh"]


def test_three_bad_rows_are_all_reported_and_nothing_is_written(school):
    before, rows_before = table_counts(), snapshot()
    bad_sex = ["Phan Văn Dũng", "X", "01/02/2014", "001214000301", "HS000301", "6A1"]
    bad_date = ["Vũ Thị Hà", "Nữ", "31/02/2014", "001314000302", "HS000302", "6A1"]
    unknown_class = ["Đỗ Văn Khoa", "Nam", "01/02/2014", "001214000303", "HS000303", "9Z9"]
    outcome = run(school, xlsx([MAI, bad_sex, bad_date, BAO, unknown_class]))
    assert [(e.row, e.column) for e in outcome.errors] == [
        (3, "Giới tính"),
        (4, "Ngày sinh"),
        (6, "Lớp"),
    ]
    assert "9Z9" in outcome.errors[2].message
    assert outcome.counts == []
    assert table_counts() == before
    assert snapshot() == rows_before


def test_all_errors_of_one_row_are_reported_in_column_order(school):
    row = ['=HYPERLINK("http://x")', "?", "hôm qua", "12", "", "6A1"]
    outcome = run(school, xlsx([row]))
    columns = [e.column for e in outcome.errors]
    assert columns == ["Họ và tên", "Giới tính", "Ngày sinh", "Số định danh cá nhân", "Mã học sinh"]


def test_formula_cell_is_refused(school):
    outcome = run(school, xlsx([['=A1&"x"', "Nam", "01/02/2014", "001214000301", "HS1", "6A1"]]))
    assert [(e.row, e.column, e.value) for e in outcome.errors] == [(2, "Họ và tên", '=A1&"x"')]
    assert "formula" in outcome.errors[0].message


def test_formula_like_csv_text_is_refused(school):
    data = (
        "Họ và tên,Giới tính,Ngày sinh,Số định danh cá nhân,Mã học sinh,Lớp\n"
        "=cmd|' /C calc'!A0,Nam,01/02/2014,001214000301,HS1,6A1\n"
        "Lê Văn Tú,Nam,01/02/2014,001214000302,-2+3,6A1\n"
    ).encode()
    outcome = run(school, data, name="list.csv")
    assert [(e.row, e.column) for e in outcome.errors] == [(2, "Họ và tên"), (3, "Mã học sinh")]
    assert Student.objects.filter(student_code="HS1").count() == 0


def test_personal_id_typed_as_a_number_is_refused(school):
    outcome = run(school, xlsx([["Lê Văn Tú", "Nam", "01/02/2014", 1214000301, "HS1", "6A1"]]))
    assert [e.column for e in outcome.errors] == ["Số định danh cá nhân"]
    assert "leading zero" in outcome.errors[0].message
    assert "Text" in outcome.errors[0].message


def test_personal_id_must_agree_with_sex_and_year_of_birth(school):
    outcome = run(school, xlsx([["Lê Văn Tú", "Nam", "01/02/2014", "001314000301", "HS1", "6A1"]]))
    assert [e.column for e in outcome.errors] == ["Số định danh cá nhân"]
    assert "Digit 4" in outcome.errors[0].message


def test_duplicate_rows_in_the_file_name_both_rows(school):
    twin = ["Nguyễn Thị Mai", "Nữ", "12/05/2014", "001314000201", "HS000299", "6A1"]
    outcome = run(school, xlsx([MAI, BAO, twin, [*BAO[:5], "6A2"]]))
    assert [(e.row, e.column, e.message) for e in outcome.errors] == [
        (4, "Số định danh cá nhân", "The value 001314000201 is also on row 2."),
        (5, "Số định danh cá nhân", "The value 001214000202 is also on row 3."),
        (5, "Mã học sinh", "The value HS000202 is also on row 3."),
    ]
    assert not Student.objects.filter(student_code="HS000201").exists()


def test_student_already_in_another_class_of_the_year_is_an_error(school, binh):
    row = [binh.full_name, "Nam", "01/03/2014", binh.personal_id, binh.student_code, "6A2"]
    outcome = run(school, xlsx([row]))
    assert [e.column for e in outcome.errors] == ["Lớp"]
    assert "already in class 6A1" in outcome.errors[0].message


def test_csv_with_bom_semicolons_and_unaccented_headers_imports(school, world):
    data = (
        "\ufeffHO VA TEN;gioi tinh;NGÀY SINH;Mã định danh;ma hoc sinh;lop\r\n"
        "Nguyễn Thị Mai;nữ;12/05/2014;001314000201;HS000201;6a1\r\n"
    ).encode()
    outcome = run(school, data, name="danh-sach.csv")
    assert outcome.ok, outcome.errors
    assert Enrollment.objects.filter(
        class_group=world["class_a"], student__full_name="Nguyễn Thị Mai"
    ).exists()


def test_english_headers_are_accepted(school):
    header = ["full name", "sex", "date of birth", "personal id", "student code", "class"]
    outcome = run(
        school, xlsx([["Lê Văn Tú", "male", "2014-02-01", "001214000301", "HS1", "6A1"]], header)
    )
    assert outcome.ok, outcome.errors


def test_unknown_columns_are_ignored_and_listed(school):
    outcome = run(school, xlsx([[*MAI, "ghi chú"]], header=[*HEADER, "Ghi chú"]))
    assert outcome.ok
    assert outcome.ignored_columns == ("STT", "Ghi chú")


def test_dry_run_reports_counts_and_writes_nothing(school):
    before = table_counts()
    outcome = run(school, xlsx([MAI, BAO]), dry_run=True)
    assert counts(outcome)["Students"] == (2, 0, 0)
    assert table_counts() == before


def test_header_without_data_rows_is_an_error(school):
    outcome = run(school, xlsx([]))
    assert not outcome.ok
    assert "no data" in outcome.errors[0].message


def test_two_rows_for_the_same_stored_student_are_an_error(school, binh):
    by_code = [binh.full_name, "Nam", "01/03/2014", "001214000999", binh.student_code, "6A1"]
    by_id = [binh.full_name, "Nam", "01/03/2014", binh.personal_id, "HS777", "6A1"]
    outcome = run(school, xlsx([by_code, by_id]))
    assert [(e.row, e.column) for e in outcome.errors] == [(3, "Số định danh cá nhân")]
    assert "row 2" in outcome.errors[0].message


def test_student_who_left_the_class_is_not_readmitted_by_import(school, binh):
    binh.enrollments.update(left_on=datetime.date(2025, 11, 1))
    row = [binh.full_name, "Nam", "01/03/2014", binh.personal_id, binh.student_code, "6A1"]
    outcome = run(school, xlsx([row]))
    assert [e.column for e in outcome.errors] == ["Lớp"]
    assert "01/11/2025" in outcome.errors[0].message


def test_students_of_another_school_are_never_matched(school, world):
    ha = world["class_b"].enrollments.get().student  # school B, HS000100
    row = [
        ha.full_name,
        "Nữ",
        ha.date_of_birth.strftime("%d/%m/%Y"),
        ha.personal_id,
        ha.student_code,
        "6A1",
    ]
    before = Student.objects.filter(pk=ha.pk).values_list().get()
    outcome = run(school, xlsx([row]))
    assert counts(outcome)["Students"] == (1, 0, 0)
    assert Student.objects.filter(pk=ha.pk).values_list().get() == before
    assert Student.objects.get(school=school, personal_id=ha.personal_id).pk != ha.pk


def test_more_data_rows_than_the_limit_are_refused(school, settings):
    settings.ROSTER_IMPORT_MAX_ROWS = 2
    with pytest.raises(ImportFileError, match="more than 2 rows"):
        run(school, xlsx([MAI, BAO, CUC]))


# Registration number (số đăng bộ) and date of admission (ngày nhập học) ------------------------

REGISTER = [*HEADER, "Số đăng bộ", "Ngày nhập học/chuyển đến"]


def test_registration_number_and_admission_date_are_imported(school):
    outcome = run(school, xlsx([[*MAI, "125/2025", "05/09/2025"]], header=REGISTER))
    assert outcome.ok, outcome.errors
    mai = Student.objects.get(student_code="HS000201")
    assert (mai.registration_number, mai.admission_date) == ("125/2025", datetime.date(2025, 9, 5))
    again = run(school, xlsx([[*MAI, "", ""]], header=REGISTER))  # blank cells erase nothing
    assert counts(again)["Students"] == (0, 0, 1)


@pytest.mark.parametrize(
    "header", [("So dang bo", "Ngay nhap hoc"), ("Số ĐB", "Ngày vào trường"),
               ("registration number", "admission date")]
)  # fmt: skip
def test_register_columns_accept_their_aliases(school, header):
    outcome = run(
        school, xlsx([[*MAI, "0125", datetime.date(2025, 9, 5)]], header=[*HEADER, *header])
    )
    assert outcome.ok, outcome.errors
    assert Student.objects.get(student_code="HS000201").registration_number == "0125"


def test_a_registration_number_twice_in_the_file_names_the_first_row(school):
    outcome = run(school, xlsx([[*MAI, "125", ""], [*BAO, "125", ""]], header=REGISTER))
    assert [(e.row, e.column, e.message) for e in outcome.errors] == [
        (3, "Số đăng bộ", "The value 125 is also on row 2."),
    ]


def test_a_registration_number_of_another_student_is_an_error(school, binh):
    binh.registration_number = "125"
    binh.save()
    outcome = run(school, xlsx([[*MAI, "125", ""]], header=REGISTER))
    assert [e.column for e in outcome.errors] == ["Số đăng bộ"]
    assert "Nguyễn Văn Bình" in outcome.errors[0].message
    row = [binh.full_name, "Nam", "01/03/2014", binh.personal_id, binh.student_code, "6A1", "125"]
    assert run(school, xlsx([[*row, ""]], header=REGISTER)).ok  # their own number


def test_bad_register_values_are_refused(school):
    rows = [
        [*MAI, 125, "01/01/2014"],  # a number cell lost any leading zero; admitted before birth
        [*BAO, "12 5", "05/09/2099"],  # a space; not plausible
    ]
    outcome = run(school, xlsx(rows, header=REGISTER))
    assert [(e.row, e.column) for e in outcome.errors] == [
        (2, "Số đăng bộ"),
        (2, "Ngày nhập học/chuyển đến"),
        (3, "Số đăng bộ"),
        (3, "Ngày nhập học/chuyển đến"),
    ]
    assert "after the date of birth" in outcome.errors[1].message
    assert "not plausible" in outcome.errors[3].message


def test_a_control_character_in_a_cell_is_refused(school):
    data = (
        "Họ và tên,Giới tính,Ngày sinh,Số định danh cá nhân,Mã học sinh,Lớp\n"
        "Lê Văn Tú,Nam,01/02/2014,001214000302,HS\x1b2,6A1\n"
    ).encode()
    outcome = run(school, data, name="list.csv")
    assert [(e.row, e.column) for e in outcome.errors] == [(2, "Mã học sinh")]
    assert "cannot be stored" in outcome.errors[0].message
    assert not Student.objects.filter(full_name="Lê Văn Tú").exists()
