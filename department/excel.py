"""The Department dashboard as an .xlsx: one row per school (numbers as numbers), the
province's total last, and a second sheet with one row per class. The same aggregates as the
page: no mark, no student's name."""

from __future__ import annotations

import io
from collections.abc import Sequence

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from config.xlsx import append_row
from department.charts import state_names
from department.overview import Progress, SchoolProgress
from schools.models import Department


def _progress_headers() -> list[str]:
    return [
        _("Students"),
        _("Classes"),
        _("Gradebooks"),
        _("Complete"),
        _("Submitted"),
        _("Locked"),
        _("Cells filled"),
        _("Cells required"),
        _("Completion (%)"),
        *(name for _key, name in state_names()),
        _("Signing progress (%)"),
    ]


def _progress_values(row: Progress) -> list[object]:
    return [
        row.students,
        row.classes,
        row.books,
        row.books_complete,
        row.books_submitted,
        row.books_locked,
        row.cells_filled,
        row.cells_required,
        row.completion_percent,
        row.without_transcript,
        *row.state_counts(),
        row.signing_percent,
    ]


def _header(sheet: Worksheet, values: list[str]) -> None:
    append_row(sheet, list(values))
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)


def dashboard_workbook(
    *, department: Department, rows: Sequence[SchoolProgress], total: SchoolProgress, term: int
) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Schools")[:31]
    append_row(sheet, [f"{department.name} · " + _("Term %(term)s") % {"term": term}])
    sheet["A1"].font = Font(bold=True)
    _header(
        sheet,
        [
            _("School code"),
            _("School"),
            _("District"),
            _("School level"),
            _("School year"),
            *_progress_headers(),
            _("Packages exported"),
            _("Packages accepted"),
            _("Last accepted upload"),
        ],
    )
    for row in rows:
        assert row.school is not None
        append_row(
            sheet,
            [
                row.school.code,
                row.school.name,
                row.school.district,
                str(row.school.get_level_display()),
                row.year.name if row.year else "",
                *_progress_values(row),
                row.packages_exported,
                row.packages_uploaded,
                row.last_upload_at.replace(tzinfo=None) if row.last_upload_at else "",
            ],
        )
    append_row(
        sheet,
        ["", _("Total"), "", "", "", *_progress_values(total), total.packages_exported,
         total.packages_uploaded, ""],
    )  # fmt: skip
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "C3"
    classes = workbook.create_sheet(_("Classes")[:31])
    _header(classes, [_("School code"), _("School"), _("Class"), _("Grade"), *_progress_headers()])
    for row in rows:
        assert row.school is not None
        for class_row in row.class_rows:
            assert class_row.class_group is not None
            append_row(
                classes,
                [
                    row.school.code,
                    row.school.name,
                    class_row.class_group.name,
                    class_row.class_group.grade,
                    *_progress_values(class_row),
                ],
            )
    classes.freeze_panes = "D2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
