"""The downloadable .xlsx templates: the Vietnamese header row and one example row per kind.
Identifier columns are formatted as Text so that Excel keeps their leading zeros."""

from __future__ import annotations

import datetime
import io

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from config.xlsx import write_cell
from schools.roster_import.columns import KINDS

TEMPLATE_COLUMNS = {
    "students": (
        "full_name", "sex", "date_of_birth", "place_of_birth", "ethnicity", "nationality",
        "personal_id", "student_code", "class_name", "residence", "father_name", "mother_name",
        "guardian_name", "guardian_phone", "registration_number", "admission_date",
    ),
    "assignments": ("class_name", "subject_code", "teacher_username"),
    "teachers": ("username", "full_name", "email", "phone"),
}  # fmt: skip
FILENAMES = {
    "students": "mau-nhap-hoc-sinh.xlsx",
    "assignments": "mau-nhap-phan-cong.xlsx",
    "teachers": "mau-nhap-giao-vien.xlsx",
}
TEXT_FORMAT_ROWS = 2000  # rows pre-formatted as Text below the header


def _examples(class_name: str, subject_code: str) -> dict[str, dict[str, object]]:
    return {
        "students": {
            "full_name": "Nguyễn Văn An",
            "sex": "Nam",
            "date_of_birth": datetime.date(2014, 9, 5),
            "place_of_birth": "Hà Nội",
            "ethnicity": "Kinh",
            "nationality": "Việt Nam",
            "personal_id": "001214000123",
            "student_code": "0120140123",
            "class_name": class_name,
            "residence": "Số 1, phường Cầu Giấy, Hà Nội",
            "father_name": "Nguyễn Văn Bình",
            "mother_name": "Trần Thị Hoa",
            "guardian_name": "",
            "guardian_phone": "0912345678",
            "registration_number": "125/2025",
            "admission_date": datetime.date(2025, 9, 5),
        },
        "assignments": {
            "class_name": class_name,
            "subject_code": subject_code,
            "teacher_username": "nguyenthilan",
        },
        "teachers": {
            "username": "nguyenthilan",
            "full_name": "Nguyễn Thị Lan",
            "email": "nguyenthilan@example.edu.vn",
            "phone": "0987654321",
        },
    }


def template_workbook(kind: str, *, class_name: str = "6A1", subject_code: str = "TOAN") -> bytes:
    """An .xlsx with the header row, one example row and Text-formatted identifier columns."""
    spec = KINDS[kind]
    example = _examples(class_name, subject_code)[kind]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Danh sách"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for index, key in enumerate(TEMPLATE_COLUMNS[kind], start=1):
        column = spec.column(key)
        letter = get_column_letter(index)
        head = write_cell(sheet, row=1, column=index, value=column.header)
        head.font, head.fill = bold, fill
        cell = write_cell(sheet, row=2, column=index, value=example[key] or None)
        sheet.column_dimensions[letter].width = max(14, len(column.header) + 4)
        if column.text_format:
            for row in range(2, TEXT_FORMAT_ROWS + 2):
                sheet.cell(row=row, column=index).number_format = "@"
        elif isinstance(example[key], datetime.date):
            cell.number_format = "DD/MM/YYYY"
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
