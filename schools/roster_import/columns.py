"""Which columns each kind of import reads, and how a header row is recognised.

Headers are matched without regard to case, diacritics, spacing, punctuation or a trailing
note in brackets: "HỌ VÀ TÊN", "Ho va ten", "Họ và tên (*)" and "full name" are the same column.
The first alias of each column is the Vietnamese header written in the downloadable templates.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext as _

from schools.roster_import.errors import RowError
from schools.roster_import.reading import BLANK, TITLE_ROWS, Cell, RawRow

HEADER_SEARCH_ROWS = TITLE_ROWS  # title lines above the header ("DANH SÁCH HỌC SINH") are skipped


@dataclass(frozen=True)
class Column:
    key: str
    aliases: tuple[str, ...]  # the first is the Vietnamese header of the template
    text_format: bool = False  # digits with meaningful leading zeros: format as Text

    @property
    def header(self) -> str:
        return self.aliases[0]


@dataclass(frozen=True)
class Kind:
    name: str
    columns: tuple[Column, ...]
    required: tuple[tuple[str, ...], ...]  # each group: at least one of these columns

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


FULL_NAME = ("Họ và tên", "Họ tên", "Họ và tên học sinh", "Họ tên học sinh", "Tên học sinh")
FULL_NAME_EN = ("full name", "name")  # the people's: a kind adds its own ("student name")
CLASS = ("Lớp", "Tên lớp", "Lớp học", "class", "class name")
PHONE = ("Điện thoại", "Số điện thoại", "SĐT", "ĐT", "Điện thoại liên hệ", "phone", "telephone")

STUDENTS = Kind(
    "students",
    (
        Column("full_name", (*FULL_NAME, *FULL_NAME_EN, "student name")),
        Column("sex", ("Giới tính", "Phái", "sex", "gender")),
        Column("date_of_birth", ("Ngày sinh", "Ngày tháng năm sinh", "date of birth", "birth date",
                                 "birthday", "dob")),
        Column("place_of_birth", ("Nơi sinh", "place of birth", "birthplace")),
        Column("ethnicity", ("Dân tộc", "ethnicity", "ethnic group")),
        Column("nationality", ("Quốc tịch", "nationality")),
        Column(
            "personal_id",
            ("Số định danh cá nhân", "Mã định danh", "Mã định danh cá nhân", "Số định danh",
             "Định danh cá nhân", "CCCD", "Số CCCD", "Căn cước", "Số căn cước",
             "Căn cước công dân", "Mã số định danh", "personal id", "personal id number",
             "national id", "id number"),
            text_format=True,
        ),
        Column("student_code", ("Mã học sinh", "Mã HS", "student code", "student id"),
               text_format=True),
        Column("class_name", CLASS),
        Column("residence", ("Nơi thường trú", "Địa chỉ thường trú", "Địa chỉ", "Thường trú",
                             "residence", "address", "permanent address")),
        Column("father_name", ("Họ tên cha", "Họ và tên cha", "Họ tên bố", "Họ và tên bố",
                               "father's name", "father name", "father")),
        Column("mother_name", ("Họ tên mẹ", "Họ và tên mẹ", "mother's name", "mother name",
                               "mother")),
        Column("guardian_name", ("Người giám hộ", "Họ tên người giám hộ",
                                 "Họ và tên người giám hộ", "guardian's name", "guardian name",
                                 "guardian")),
        Column("guardian_phone", (*PHONE, "guardian's phone", "guardian phone"), text_format=True),
        Column("registration_number", ("Số đăng bộ", "Số ĐB", "Số sổ đăng bộ", "Mã đăng bộ",
                                       "registration number", "register number"),
               text_format=True),
        Column("admission_date", ("Ngày nhập học", "Ngày nhập học/chuyển đến", "Ngày vào trường",
                                  "Ngày nhập trường", "Ngày chuyển đến", "date of admission",
                                  "admission date")),
        Column("subject_choices", ("Môn học lựa chọn", "Môn lựa chọn", "Tổ hợp môn",
                                   "Môn học lựa chọn và chuyên đề", "subject choices",
                                   "electives")),
    ),
    required=(("full_name",), ("sex",), ("date_of_birth",), ("personal_id",), ("student_code",),
              ("class_name",)),
)  # fmt: skip

ASSIGNMENTS = Kind(
    "assignments",
    (
        Column("class_name", CLASS),
        Column("subject_code", ("Mã môn học", "Mã môn", "subject code")),
        Column("subject_name", ("Môn học", "Môn", "Tên môn học", "Tên môn", "subject",
                                "subject name")),
        Column("teacher_username", ("Tên đăng nhập giáo viên", "Tên đăng nhập", "Tài khoản",
                                    "Tài khoản giáo viên", "username", "teacher username",
                                    "login")),
        Column("teacher_email", ("Email giáo viên", "Email", "Thư điện tử", "teacher email",
                                 "e-mail")),
    ),
    required=(("class_name",), ("subject_code", "subject_name"),
              ("teacher_username", "teacher_email")),
)  # fmt: skip

TEACHERS = Kind(
    "teachers",
    (
        Column("username", ("Tên đăng nhập", "Tài khoản", "username", "login")),
        Column("full_name", ("Họ và tên", "Họ tên", "Họ và tên giáo viên", "Họ tên giáo viên",
                             *FULL_NAME_EN, "teacher name")),
        Column("email", ("Email", "Thư điện tử", "e-mail", "email address")),
        Column("phone", PHONE, text_format=True),
    ),
    required=(("username",), ("full_name",), ("email",)),
)  # fmt: skip

KINDS: dict[str, Kind] = {k.name: k for k in (STUDENTS, ASSIGNMENTS, TEACHERS)}


def normalize_header(text: str) -> str:
    """'Họ và tên (*)' → 'ho va ten': no brackets, diacritics, case or punctuation."""
    text = re.sub(r"\(.*?\)|\[.*?\]", " ", text)
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", bare).split())


def _alias_index(kind: Kind) -> dict[str, str]:
    index: dict[str, str] = {}
    for column in kind.columns:
        for alias in column.aliases:
            index.setdefault(normalize_header(alias), column.key)
    return index


@dataclass(frozen=True)
class Header:
    row: int
    positions: dict[str, int]  # column key → index in the row
    labels: dict[str, str]  # column key → header as written in the file
    ignored: tuple[str, ...]  # headers we do not read (STT, notes, …)


@dataclass(frozen=True)
class Record:
    """A data row: cells by column key (blank for a column the file does not have)."""

    row: int
    cells: dict[str, Cell]


def _read_header(row: RawRow, kind: Kind) -> tuple[Header, list[RowError]]:
    index = _alias_index(kind)
    positions: dict[str, int] = {}
    labels: dict[str, str] = {}
    ignored: list[str] = []
    errors: list[RowError] = []
    for position, cell in enumerate(row.cells):
        key = index.get(normalize_header(cell.text)) if cell.text else None
        if key is None:
            if cell.text:
                ignored.append(cell.text)
        elif key in positions:
            errors.append(
                RowError(
                    row.number,
                    position,
                    cell.text,
                    _("This column means the same as the column “%(other)s”; keep only one.")
                    % {"other": labels[key]},
                )
            )
        else:
            positions[key], labels[key] = position, cell.text
    return Header(row.number, positions, labels, tuple(ignored)), errors


def _missing(header: Header, kind: Kind) -> list[tuple[str, ...]]:
    return [g for g in kind.required if not any(key in header.positions for key in g)]


def find_header(rows: list[RawRow], kind: Kind) -> tuple[Header | None, list[RowError]]:
    """The first of the first rows that has every required column; otherwise the errors of the
    row that came closest (the most recognised columns)."""
    if not rows:
        return None, [RowError(1, 0, "", _("The file is empty."))]
    best: tuple[Header, list[RowError]] | None = None
    for row in rows[:HEADER_SEARCH_ROWS]:
        header, errors = _read_header(row, kind)
        if not _missing(header, kind):
            return (header, errors) if not errors else (None, errors)
        if best is None or len(header.positions) > len(best[0].positions):
            best = (header, errors)
    assert best is not None
    header, errors = best
    for group in _missing(header, kind):
        names = " / ".join(f"“{kind.column(key).header}”" for key in group)
        errors.append(
            RowError(
                header.row,
                0,
                kind.column(group[0]).header,
                _("The column %(names)s is missing from the header row.") % {"names": names},
            )
        )
    return None, errors


def records(rows: list[RawRow], header: Header) -> list[Record]:
    """The rows below the header, as cells by column key."""
    result = []
    for row in rows:
        if row.number <= header.row:
            continue
        cells = {
            key: row.cells[position] if position < len(row.cells) else BLANK
            for key, position in header.positions.items()
        }
        if all(c.is_blank for c in cells.values()):
            continue  # a row with data only in columns we ignore (a note, a total)
        result.append(Record(row.number, cells))
    return result
