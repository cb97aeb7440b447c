"""What can go wrong with an import: the whole file, or one cell of one row."""

from __future__ import annotations

from dataclasses import dataclass


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message is for the user."""


@dataclass(frozen=True, order=True)
class RowError:
    """One problem in one row: `row` is the spreadsheet's row number, `column` the column's
    header as written in the file (or the expected header when the column is missing)."""

    row: int
    column_index: int
    column: str
    message: str
    value: str = ""
