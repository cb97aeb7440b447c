"""What the validation of every kind shares: cleaning the cells of a row into values or
RowErrors, duplicates inside the file, finding a class by name.

Each kind (students.py, assignments.py, teachers.py) validates in two passes: first every cell of
every row is cleaned (no database), then the rows are checked against the school's data, loaded
in a bounded number of queries whatever the file's size. Validation never writes; `apply.py`
carries out a plan that has no errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.utils.translation import gettext as _

from schools.models import ClassGroup, SchoolYear
from schools.roster_import import values
from schools.roster_import.columns import Header, Record
from schools.roster_import.errors import RowError
from schools.roster_import.reading import BLANK, Cell

T = TypeVar("T")


@dataclass
class Count:
    """One line of the summary: how many of one kind of thing were (or would be) written."""

    label: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class RowCleaner:
    """Cleans the cells of one row; a bad cell adds a RowError and makes the row not `ok`."""

    def __init__(self, record: Record, header: Header, errors: list[RowError]) -> None:
        self.record = record
        self.header = header
        self.errors = errors
        self.ok = True

    @property
    def row(self) -> int:
        return self.record.row

    def error(self, key: str, message: str) -> None:
        self.ok = False
        self.errors.append(
            RowError(
                self.record.row,
                self.header.positions.get(key, 0),
                self.header.labels.get(key, ""),
                message,
                self.record.cells.get(key, BLANK).text,
            )
        )

    def is_blank(self, key: str) -> bool:
        return self.record.cells.get(key, BLANK).is_blank

    def get(self, key: str, clean: Callable[[Cell], T], *, required: bool = False) -> T | None:
        """The clean value, or None for a blank cell (an error if `required`) or a bad one."""
        cell = self.record.cells.get(key, BLANK)
        try:
            values.check_safe(cell)
            if cell.is_blank:
                if required:
                    raise values.Invalid(_("This value is required."))
                return None
            return clean(cell)
        except values.Invalid as exc:
            self.error(key, str(exc))
            return None

    def once(self, key: str, value: object, seen: dict[str, int]) -> None:
        """The same identifier twice in the file: an error on the later row, naming the first."""
        if value is None:
            return
        key_value = str(value).casefold()
        if key_value in seen:
            self.error(
                key,
                _("The value %(value)s is also on row %(row)s.")
                % {"value": value, "row": seen[key_value]},
            )
        else:
            seen[key_value] = self.row


def class_key(name: str) -> str:
    return "".join(name.split()).casefold()


def classes_by_name(year: SchoolYear) -> dict[str, ClassGroup]:
    return {class_key(c.name): c for c in ClassGroup.objects.filter(year=year)}


def find_class(
    cleaner: RowCleaner, name: object, classes: dict[str, ClassGroup], year: SchoolYear
) -> ClassGroup | None:
    if name is None:
        return None
    class_group = classes.get(class_key(str(name)))
    if class_group is None:
        cleaner.error(
            "class_name",
            _("There is no class %(name)s in the school year %(year)s.")
            % {"name": name, "year": year.name},
        )
    return class_group
