"""Read an uploaded spreadsheet (.xlsx or CSV) into rows of cells, with the spreadsheet's own row
numbers. No Django models here: only the size and row limits come from settings.

A cell keeps how the spreadsheet typed it (text, number, date, formula) because validation needs
to know: a personal ID typed as a number has lost its leading zeros, and a formula must never be
imported (it would run again when the data is exported to Excel).
"""

from __future__ import annotations

import csv
import datetime
import enum
import io
import unicodedata
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from schools.roster_import.errors import ImportFileError

ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old binary .xls (and .doc)
MAX_COLUMNS = 60
TITLE_ROWS = 10  # rows allowed above the data: a title, the school's name, the header
MAX_ZIP_ENTRIES = 1000
UNCOMPRESSED_RATIO = 10  # an .xlsx may expand to 10 times the upload limit, no more (zip bombs)
CSV_DELIMITERS = (",", ";", "\t")


class CellKind(enum.Enum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    FORMULA = "formula"


@dataclass(frozen=True)
class Cell:
    """One cell: `text` is what the user sees (NFC, stripped); `raw` the text before stripping;
    `value` the typed value (a number, a date) for non-text cells."""

    kind: CellKind
    text: str
    raw: str = ""
    value: object = None

    @property
    def is_blank(self) -> bool:
        return self.kind is not CellKind.FORMULA and not self.text


BLANK = Cell(CellKind.TEXT, "")


@dataclass(frozen=True)
class RawRow:
    number: int  # as the spreadsheet program shows it (1 = first line)
    cells: tuple[Cell, ...]

    @property
    def is_blank(self) -> bool:
        return all(c.is_blank for c in self.cells)


def read_rows(data: bytes, filename: str) -> list[RawRow]:
    """Every non-blank row of the first sheet (or of the CSV), header rows included."""
    if len(data) > settings.ROSTER_IMPORT_MAX_BYTES:
        raise ImportFileError(too_large_message(len(data)))
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension == "xls" or data.startswith(OLE2_MAGIC):
        raise ImportFileError(
            _(
                "This is an old Excel 97-2003 file (.xls). Open it in Excel and save it as "
                "“Excel Workbook (.xlsx)”, then upload the .xlsx file."
            )
        )
    if extension == "xlsx":
        if not data.startswith(ZIP_MAGIC):
            raise ImportFileError(_not_a_spreadsheet())
        return _read_xlsx(data)
    if extension in ("csv", "txt"):
        if data.startswith(ZIP_MAGIC):
            raise ImportFileError(_not_a_spreadsheet())
        return _read_csv(data)
    raise ImportFileError(_not_a_spreadsheet())


def too_large_message(size: int) -> str:
    return _("The file is too large (%(size)s KB); the limit is %(limit)s KB.") % {
        "size": f"{size / 1024:,.0f}",
        "limit": f"{settings.ROSTER_IMPORT_MAX_BYTES / 1024:,.0f}",
    }


def _not_a_spreadsheet() -> str:
    return _("This file is not a spreadsheet. Upload an Excel workbook (.xlsx) or a CSV file.")


def too_many_rows_message() -> str:
    return _("The file has more than %(limit)s rows. Split it into several files.") % {
        "limit": settings.ROSTER_IMPORT_MAX_ROWS
    }


def _check_zip(data: bytes) -> None:
    """Refuse archives that would expand far beyond the upload limit before openpyxl opens them.
    zipfile stops reading an entry at its declared size, so the declared sizes are a real bound."""
    try:
        entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ImportFileError(_not_a_spreadsheet()) from exc
    limit = settings.ROSTER_IMPORT_MAX_BYTES * UNCOMPRESSED_RATIO
    if len(entries) > MAX_ZIP_ENTRIES or sum(e.file_size for e in entries) > limit:
        raise ImportFileError(
            _("The workbook expands to too much data to be a class list. Save only the list.")
        )


def _read_xlsx(data: bytes) -> list[RawRow]:
    import openpyxl  # imported here: only uploads need it

    _check_zip(data)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds (KeyError, InvalidFileException, …)
        raise ImportFileError(_not_a_spreadsheet()) from exc
    try:
        if not workbook.worksheets:
            raise ImportFileError(_not_a_spreadsheet())
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # the file's own dimensions may be wrong; read what is there
        rows: list[RawRow] = []
        for number, cells in enumerate(sheet.iter_rows(), start=1):
            row = RawRow(number, tuple(_xlsx_cell(c) for c in cells[:MAX_COLUMNS]))
            if row.is_blank:
                continue
            rows.append(row)
            if len(rows) > settings.ROSTER_IMPORT_MAX_ROWS + TITLE_ROWS:
                raise ImportFileError(too_many_rows_message())
        return rows
    except ImportFileError:
        raise
    except Exception as exc:  # a damaged sheet fails while streaming, not when opened
        raise ImportFileError(_not_a_spreadsheet()) from exc
    finally:
        workbook.close()


def _xlsx_cell(cell: object) -> Cell:
    value = getattr(cell, "value", None)
    if value is None:
        return BLANK
    if getattr(cell, "data_type", None) == "f":
        text = value if isinstance(value, str) else str(getattr(value, "text", "") or "=")
        return Cell(CellKind.FORMULA, text, raw=text)
    if isinstance(value, datetime.datetime | datetime.date):
        day = value.date() if isinstance(value, datetime.datetime) else value
        return Cell(CellKind.DATE, day.strftime("%d/%m/%Y"), raw=str(value), value=day)
    if isinstance(value, bool):
        return Cell(CellKind.TEXT, str(value).upper(), raw=str(value))
    if isinstance(value, int | float):
        text = str(int(value)) if float(value).is_integer() else str(value)
        return Cell(CellKind.NUMBER, text, raw=text, value=value)
    return text_cell(str(value))


def text_cell(raw: str) -> Cell:
    return Cell(CellKind.TEXT, unicodedata.normalize("NFC", raw).strip(), raw=raw)


def _read_csv(data: bytes) -> list[RawRow]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            _(
                "The CSV file is not in UTF-8, so Vietnamese letters would be garbled. In Excel "
                "choose “Save as” → “CSV UTF-8 (Comma delimited)”, or upload the .xlsx file."
            )
        ) from exc
    if "\x00" in text:
        raise ImportFileError(_not_a_spreadsheet())
    delimiter = sniff_delimiter(text)
    rows: list[RawRow] = []
    try:
        for number, values in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), 1):
            row = RawRow(number, tuple(text_cell(v) for v in values[:MAX_COLUMNS]))
            if row.is_blank:
                continue
            rows.append(row)
            if len(rows) > settings.ROSTER_IMPORT_MAX_ROWS + TITLE_ROWS:
                raise ImportFileError(too_many_rows_message())
    except csv.Error as exc:
        raise ImportFileError(_not_a_spreadsheet()) from exc
    return rows


def sniff_delimiter(text: str) -> str:
    """The delimiter among , ; tab that splits the first lines into the most columns (the header
    row has the most). Excel writes `;` where the decimal separator is a comma, as in Vietnam."""
    sample = text[:20_000].splitlines()[:20]

    def widest(delimiter: str) -> int:
        try:
            return max((len(r) for r in csv.reader(sample, delimiter=delimiter)), default=0)
        except csv.Error:
            return 0

    return max(CSV_DELIMITERS, key=widest)  # ties: the first, a comma
