"""Writing spreadsheet cells that cannot turn into formulas: every .xlsx the product produces
writes its cells through here. A text that starts like a formula (``= + - @``, a tab or a CR)
is stored as a text cell with Excel's quote prefix: it shows and imports back as the same text,
and Excel does not evaluate it, even when the cell is edited."""

from __future__ import annotations

from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

from config.text import FORBIDDEN_CHARACTERS

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_text_if_formula_like(cell: Cell) -> Cell:
    """Numbers, dates and ordinary text are left as they are."""
    if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def storable(value: object) -> object:
    """A text stored before the product refused control characters (config/text.py) is written
    with U+FFFD in their place: openpyxl would refuse the whole file."""
    if isinstance(value, str):
        return FORBIDDEN_CHARACTERS.sub("\ufffd", value)
    return value


def write_cell(sheet: Worksheet, *, row: int, column: int, value: object) -> Cell:
    cell = sheet.cell(row=row, column=column)
    cell.value = storable(value)
    return as_text_if_formula_like(cell)


def append_row(sheet: Worksheet, values: list[object]) -> None:
    sheet.append([storable(value) for value in values])
    for cell in sheet[sheet.max_row]:
        as_text_if_formula_like(cell)
