"""Excel round-trip of one class × subject × term gradebook.

- `export_workbook` writes an .xlsx keyed by student code: a title row, a hidden row holding the
  book's identity and each column's key (so the import maps columns exactly, whatever the
  headers say after translation or editing), the header row, then one row per student. The
  sheet is protected: only the mark cells are unlocked.
- `preview_import` reads a filled-in file with the roster import's safe reader (size limit,
  .xlsx signature, zip-bomb guard, formulas kept as formulas) and compares every cell with the
  gradebook: the differences, each with the cell version it was compared with, and every
  problem per cell. A blank cell never changes anything. Nothing is written.
- `apply_import` writes a preview's differences in one transaction through `save_mark`
  (source "import", `base_version` = the version the preview saw): a cell changed since the
  preview, a lock or an invalid value refuses the whole import.
"""

from __future__ import annotations

import io
import re
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from functools import cached_property

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from accounts.models import User
from config.xlsx import write_cell
from gradebook.columns import Column, canonical_value, subject_columns
from gradebook.messages import invalid_mark_message
from gradebook.models import EventSource, Mark
from gradebook.rules import InvalidMark
from gradebook.services import (
    GradebookError,
    cell_lock,
    lock_message,
    save_mark,
    settings_for,
)
from gradebook.study_plan import is_elective_book, takers
from schools.models import ClassGroup, CurriculumEntry, Enrollment, Student, SubjectChoice
from schools.programme import is_upper_secondary
from schools.roster_import.errors import ImportFileError
from schools.roster_import.reading import BLANK, Cell, CellKind, RawRow, read_rows

FORMAT = "sodiem-gradebook/1"
CODE_KEY = "student_code"
NAME_KEY = "full_name"
TITLE_ROW, KEY_ROW, HEADER_ROW, FIRST_ROW = 1, 2, 3, 4
FIXED_COLUMNS = 3  # No., student code, full name


@dataclass(frozen=True)
class TermBook:
    """One class × subject × term gradebook."""

    class_group: ClassGroup
    entry: CurriculumEntry
    term: int

    @cached_property
    def columns(self) -> list[Column]:
        return subject_columns(self.entry, self.term, with_topics=self.has_topic_students)

    @cached_property
    def has_topic_students(self) -> bool:
        """Grades 10-12: whether a student of the class takes the subject's learning-topic
        clusters, which add a regular mark (docs/regulations.md#learning-topic-clusters)."""
        if not is_upper_secondary(self.class_group.grade):
            return False
        return SubjectChoice.objects.filter(
            year_id=self.class_group.year_id, subject_id=self.entry.subject_id, with_topics=True,
            student__enrollments__class_group=self.class_group,
        ).exists()  # fmt: skip

    @property
    def identity(self) -> str:
        return (
            f"{FORMAT};class={self.class_group.pk};subject={self.entry.subject_id};term={self.term}"
        )

    def enrollments(self) -> list[Enrollment]:
        """The students in the class now, in class-list order (those who left are not in the
        file: their cells cannot be edited)."""
        current: QuerySet[Enrollment] = self.class_group.enrollments.filter(left_on__isnull=True)
        if is_elective_book(self.class_group, self.entry.subject.code):  # those who chose it
            current = takers(
                current, year_id=self.class_group.year_id, subject_id=self.entry.subject_id
            )
        return list(current.select_related("student").order_by("roll_number", "student__pk"))

    def marks(self, student_ids: list[int]) -> dict[tuple[int, str, str], Mark]:
        """(student id, kind, slot) → the cell, for this book's term."""
        marks = Mark.objects.filter(
            year_id=self.class_group.year_id,
            term=self.term,
            subject_id=self.entry.subject_id,
            student_id__in=student_ids,
        ).only("student_id", "kind", "slot", "value", "version")
        return {(m.student_id, m.kind, m.slot): m for m in marks}


# --- Export -----------------------------------------------------------------------------------


def export_filename(book: TermBook) -> str:
    parts = ("so-diem", book.class_group.name, book.entry.subject.code, f"HK{book.term}")
    return "_".join(re.sub(r"[^A-Za-z0-9-]+", "-", p) for p in parts) + ".xlsx"


def _typed(value: str, column: Column) -> object:
    """What goes into the spreadsheet cell: numbers as numbers (Excel shows them in the user's
    locale, 7,5 in Vietnamese), everything else as text."""
    if not value or not column.numeric:
        return value or None
    number = Decimal(value)
    return int(number) if number == number.to_integral_value() else float(number)


def export_workbook(book: TermBook) -> bytes:
    """The gradebook as an .xlsx, keyed by student code, ready to fill in and import."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"HK{book.term}"
    _write_heading(sheet, book)
    enrollments = book.enrollments()
    marks = book.marks([e.student_id for e in enrollments])
    unlocked = Protection(locked=False)
    for offset, enrollment in enumerate(enrollments):
        row = FIRST_ROW + offset
        student = enrollment.student
        write_cell(sheet, row=row, column=1, value=enrollment.roll_number or offset + 1)
        write_cell(sheet, row=row, column=2, value=student.student_code).number_format = "@"
        write_cell(sheet, row=row, column=3, value=student.full_name)
        for index, column in enumerate(book.columns, start=FIXED_COLUMNS + 1):
            mark = marks.get((student.pk, column.kind, column.slot))
            cell = write_cell(
                sheet, row=row, column=index, value=_typed(mark.value if mark else "", column)
            )
            cell.protection = unlocked
            if column.value_type == "text":
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    _validations(sheet, book, last_row=FIRST_ROW + len(enrollments) - 1)
    sheet.freeze_panes = sheet.cell(row=FIRST_ROW, column=FIXED_COLUMNS + 1)
    sheet.protection.sheet = True  # no password: a guard against slips, not a security control
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False
    _instructions(workbook.create_sheet(_("Instructions")))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_heading(sheet: Worksheet, book: TermBook) -> None:
    class_group, subject = book.class_group, book.entry.subject
    title = _("%(school)s · class %(class)s · %(subject)s · term %(term)s · %(year)s") % {
        "school": class_group.year.school.name,
        "class": class_group.name,
        "subject": subject.name,
        "term": "I" if book.term == 1 else "II",
        "year": class_group.year.name,
    }
    write_cell(sheet, row=TITLE_ROW, column=1, value=title).font = Font(bold=True, size=13)
    keys = [book.identity, CODE_KEY, NAME_KEY, *(c.key for c in book.columns)]
    headers = [_("No."), _("Student code"), _("Full name"), *(str(c.label) for c in book.columns)]
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for index, (key, header) in enumerate(zip(keys, headers, strict=True), start=1):
        write_cell(sheet, row=KEY_ROW, column=index, value=key)
        head = write_cell(sheet, row=HEADER_ROW, column=index, value=header)
        head.font, head.fill = bold, fill
        width = 40 if index > FIXED_COLUMNS and book.columns[index - 4].value_type == "text" else 9
        sheet.column_dimensions[get_column_letter(index)].width = {2: 14, 3: 26}.get(index, width)
    sheet.row_dimensions[KEY_ROW].hidden = True


def _validations(sheet: Worksheet, book: TermBook, *, last_row: int) -> None:
    """Excel refuses an out-of-range number as it is typed (the import checks again)."""
    if last_row < FIRST_ROW:
        return
    rules = {
        "score": ("decimal", _("A score is a number from 0 to 10 with at most one decimal.")),
        "test": ("whole", _("A test score is a whole number from 0 to 10.")),
    }
    for index, column in enumerate(book.columns, start=FIXED_COLUMNS + 1):
        if column.value_type not in rules:
            continue
        kind, message = rules[column.value_type]
        validation = DataValidation(
            type=kind, operator="between", formula1="0", formula2="10", allow_blank=True
        )
        validation.error, validation.showErrorMessage = message, True
        letter = get_column_letter(index)
        validation.add(f"{letter}{FIRST_ROW}:{letter}{last_row}")
        sheet.add_data_validation(validation)


def _instructions(sheet: Worksheet) -> None:
    lines = [
        _("How to fill in this gradebook"),
        _("Type marks in the white cells of the first sheet only."),
        _("A blank cell changes nothing: it never clears a mark. Clear marks in the grid."),
        _("Scores: 0 to 10 with at most one decimal; 7,5 and 7.5 are both accepted."),
        _("Comment-assessed subjects: Đ or CĐ. Formulas are refused: type the values."),
        _("Do not change student codes, and do not delete the hidden row 2."),
        _("Upload the file on the gradebook's import page: you will see every difference "
          "before anything is saved."),
    ]  # fmt: skip
    for row, line in enumerate(lines, start=1):
        write_cell(sheet, row=row, column=1, value=line).font = Font(bold=row == 1)
    sheet.column_dimensions["A"].width = 100


# --- Import: preview --------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One cell whose value the file changes. `version` is the cell's version when compared."""

    row: int
    student_id: int
    student_code: str
    student_name: str
    column_key: str
    column_label: str
    value_type: str
    old: str
    new: str
    version: int


@dataclass(frozen=True)
class CellProblem:
    """Something in the file that stops the import: a cell, or a whole row (no column)."""

    row: int
    student_code: str
    column: str
    value: str
    message: str


@dataclass
class Preview:
    """What importing the file would do. `lock` is the lock's message if the book is locked."""

    changes: list[Change] = field(default_factory=list)
    problems: list[CellProblem] = field(default_factory=list)
    unchanged: int = 0
    students: int = 0
    lock: str = ""

    @property
    def can_apply(self) -> bool:
        return bool(self.changes) and not self.problems and not self.lock


def preview_import(book: TermBook, *, data: bytes, filename: str) -> Preview:
    """Compare an uploaded file with the gradebook. Raises ImportFileError when the file as a
    whole is unusable (not an .xlsx, too large, not this gradebook's export)."""
    if not filename.lower().endswith(".xlsx"):
        raise ImportFileError(_("Upload the .xlsx file exported from this gradebook."))
    rows = read_rows(data, "upload.xlsx")
    key_row = _key_row(rows, book)
    mapping = _column_map(key_row, book)
    code_index = _find(key_row, CODE_KEY)
    enrollments = book.enrollments()
    by_code = {e.student.student_code: e.student for e in enrollments}
    marks = book.marks([e.student_id for e in enrollments])
    max_length = settings_for(book.class_group.year.school_id).comment_max_length
    preview = Preview()
    seen: dict[str, int] = {}
    data_rows = [r for r in rows if r.number > key_row.number + 1]
    outsiders = _outsiders(book, data_rows, code_index, by_code)
    for row in data_rows:
        code = _cell(row, code_index).text
        cells = [(column, _cell(row, index)) for index, column in mapping.items()]
        if not code:
            if any(not cell.is_blank for _, cell in cells):
                message = _("This row has marks but no student code.")
                preview.problems.append(CellProblem(row.number, "", _("Student code"), "", message))
            continue
        student = by_code.get(code)
        if student is None or code in seen:
            message = (
                _("This student is already on row %(row)s.") % {"row": seen[code]}
                if code in seen
                else outsiders.get(code, _("No student of the school has this code."))
            )
            preview.problems.append(CellProblem(row.number, code, _("Student code"), code, message))
            continue
        seen[code] = row.number
        preview.students += 1
        for column, cell in cells:
            _compare(preview, row, student, column, cell, marks, max_length)
    if lock := cell_lock(class_group=book.class_group, column=book.columns[0]):
        preview.lock = lock_message(lock)
    return preview


def _cell(row: RawRow, index: int) -> Cell:
    return row.cells[index] if index < len(row.cells) else BLANK


def _find(row: RawRow, key: str) -> int:
    for index, cell in enumerate(row.cells):
        if cell.text == key:
            return index
    raise ImportFileError(_not_this_book())


def _not_this_book() -> str:
    return _(
        "This file is not an export of this gradebook (its hidden row 2 is missing or was "
        "changed). Export the gradebook, fill that file in and upload it."
    )


def _key_row(rows: list[RawRow], book: TermBook) -> RawRow:
    for row in rows:
        first = row.cells[0].text if row.cells else ""
        if first.startswith(FORMAT):
            if first != book.identity:
                raise ImportFileError(
                    _(
                        "This file was exported from another gradebook (another class, subject "
                        "or term). Export this gradebook and use that file."
                    )
                )
            return row
    raise ImportFileError(_not_this_book())


def _column_map(key_row: RawRow, book: TermBook) -> dict[int, Column]:
    """Spreadsheet column index → the gradebook column its hidden key names."""
    by_key = {c.key: c for c in book.columns}
    mapping: dict[int, Column] = {}
    unknown = []
    for index, cell in enumerate(key_row.cells[FIXED_COLUMNS:], start=FIXED_COLUMNS):
        if not cell.text:
            continue
        if cell.text in by_key and index not in mapping:
            mapping[index] = by_key[cell.text]
        else:
            unknown.append(cell.text)
    if unknown:
        raise ImportFileError(
            _(
                "The file's columns (%(columns)s) no longer match this gradebook, whose "
                "curriculum has changed. Export the gradebook again."
            )
            % {"columns": ", ".join(unknown)}
        )
    return mapping


def _outsiders(
    book: TermBook, rows: list[RawRow], code_index: int, by_code: dict[str, Student]
) -> dict[str, str]:
    """Messages for codes of school students who are not (or no longer) in this class."""
    codes = {_cell(r, code_index).text for r in rows} - set(by_code) - {""}
    school_id = book.class_group.year.school_id
    found = Student.objects.filter(school_id=school_id, student_code__in=codes)
    left = set(
        book.class_group.enrollments.filter(
            left_on__isnull=False, student__student_code__in=codes
        ).values_list("student__student_code", flat=True)
    )
    name = book.class_group.name
    return {
        s.student_code: (
            _("%(student)s has left class %(class)s.")
            if s.student_code in left
            else _("%(student)s is not in class %(class)s.")
        )
        % {"student": s.full_name, "class": name}
        for s in found
    }


def _compare(
    preview: Preview,
    row: RawRow,
    student: Student,
    column: Column,
    cell: Cell,
    marks: dict[tuple[int, str, str], Mark],
    max_length: int,
) -> None:
    if cell.is_blank:
        return
    label, code = str(column.label), student.student_code
    if cell.kind is CellKind.FORMULA:
        message = _("Formulas are not imported: type the value itself.")
        preview.problems.append(CellProblem(row.number, code, label, cell.raw, message))
        return
    try:
        value = canonical_value(cell.text, value_type=column.value_type, max_length=max_length)
    except InvalidMark as error:
        message = invalid_mark_message(error)
        preview.problems.append(CellProblem(row.number, code, label, cell.text, message))
        return
    mark = marks.get((student.pk, column.kind, column.slot))
    old, version = (mark.value, mark.version) if mark else ("", 0)
    if value == old:
        preview.unchanged += 1
        return
    preview.changes.append(
        Change(
            row=row.number,
            student_id=student.pk,
            student_code=student.student_code,
            student_name=student.full_name,
            column_key=column.key,
            column_label=label,
            value_type=column.value_type,
            old=old,
            new=value,
            version=version,
        )
    )


# --- Import: apply ----------------------------------------------------------------------------


class ImportRefused(Exception):
    """The import was refused and nothing was written; `message` is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def changes_to_data(changes: list[Change]) -> list[dict]:
    """Changes as plain data (to keep a preview in the session until it is confirmed)."""
    return [asdict(change) for change in changes]


def changes_from_data(data: list[dict]) -> list[Change]:
    return [Change(**item) for item in data]


def apply_import(
    book: TermBook,
    *,
    changes: list[Change],
    actor: User,
    client_ip: str | None,
    reason: str,
) -> int:
    """Write every change in one transaction, or none: a cell changed since the preview
    (conflict), a lock or a value that is no longer valid refuses the whole import."""
    by_key = {c.key: c for c in book.columns}
    school_id = book.class_group.year.school_id
    max_length = settings_for(school_id).comment_max_length
    students = Student.objects.in_bulk({c.student_id for c in changes})
    written = 0
    with transaction.atomic():
        for change in changes:
            column, student = by_key.get(change.column_key), students.get(change.student_id)
            if column is None or student is None or student.school_id != school_id:
                raise ImportRefused(_("The gradebook changed since the preview. Upload again."))
            try:
                result = save_mark(
                    actor=actor,
                    class_group=book.class_group,
                    student=student,
                    column=column,
                    text=change.new,
                    base_version=change.version,
                    source=EventSource.IMPORT,
                    reason=reason,
                    client_ip=client_ip,
                    max_length=max_length,
                )
            except GradebookError as error:
                raise ImportRefused(_refusal(change, error)) from error
            written += result.changed
    return written


def _refusal(change: Change, error: GradebookError) -> str:
    where = {"student": change.student_name, "column": change.column_label, "row": change.row}
    if error.code == "conflict":
        message = _(
            "Nothing was imported: %(column)s of %(student)s (row %(row)s) was changed by "
            "someone else after your preview. Upload the file again to see the new differences."
        )
    elif error.code == "locked":
        message = _("Nothing was imported: %(column)s of %(student)s (row %(row)s) is locked.")
    else:
        message = _("Nothing was imported: %(column)s of %(student)s (row %(row)s) was refused.")
    return f"{message % where} {error.message}"
