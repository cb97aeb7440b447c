"""Files the gradebook's reports are downloaded as: the class summary as an .xlsx workbook
(numbers as numbers). The round-trip of one term book (export, edit, import) is
:mod:`gradebook.excel`."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Font

from config.xlsx import append_row
from gradebook.summary import Cell, SummaryTable


def summary_workbook(table: SummaryTable, *, title: str) -> bytes:
    """The summary table as an .xlsx: a bold header row, one row per student, the number and
    name columns and the header frozen; ``title`` names the sheet (cut to Excel's 31)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    append_row(sheet, [h.label for h in table.headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        append_row(sheet, [_xlsx_value(cell) for cell in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, Decimal):
                cell.number_format = "0.0"
    sheet.freeze_panes = "C2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_value(cell: Cell) -> object:
    if isinstance(cell.raw, Decimal | int):
        return cell.raw
    return "" if cell.text in ("—", "…") else cell.text
