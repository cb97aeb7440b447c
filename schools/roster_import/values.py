"""One cell → one clean value, or `Invalid` with a message for the user. No database here."""

from __future__ import annotations

import datetime
import re

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _

from config.text import FORBIDDEN_CHARACTER_MESSAGE, forbidden_character
from schools.models import Sex
from schools.roster_import.columns import normalize_header
from schools.roster_import.reading import Cell, CellKind
from schools.validators import validate_personal_id

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection, OWASP).
DANGEROUS_FIRST = ("=", "+", "-", "@", "\t", "\r")
SEXES = {"nam": Sex.MALE, "m": Sex.MALE, "male": Sex.MALE, "trai": Sex.MALE,
         "nu": Sex.FEMALE, "f": Sex.FEMALE, "female": Sex.FEMALE, "gai": Sex.FEMALE}  # fmt: skip
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?$")
_PHONE = re.compile(r"^[0-9][0-9 .]{7,19}$")


class Invalid(Exception):
    """The cell's value is wrong; `str(exc)` says why, for the user."""


def check_safe(cell: Cell) -> None:
    """Refuse formulas, text a spreadsheet would treat as one when the data is exported, and
    characters that cannot be stored (config/text.py)."""
    if cell.kind is CellKind.FORMULA:
        raise Invalid(_("This cell contains a formula. Type the value itself, not a formula."))
    if character := forbidden_character(cell.raw) or forbidden_character(cell.text):
        raise Invalid(_(FORBIDDEN_CHARACTER_MESSAGE) % {"character": character})
    if cell.raw.startswith(DANGEROUS_FIRST) or cell.text.startswith(DANGEROUS_FIRST):
        raise Invalid(
            _(
                "A value may not begin with =, +, -, @ or a tab: a spreadsheet program would "
                "run it as a formula when the list is exported again."
            )
        )


def text(cell: Cell, *, max_length: int) -> str:
    value = " ".join(cell.text.split())
    if len(value) > max_length:
        raise Invalid(
            _("This value is too long: at most %(max)s characters.") % {"max": max_length}
        )
    return value


def _refuse_number(cell: Cell) -> None:
    """Digits whose leading zeros matter: a number cell has already lost them."""
    if cell.kind is CellKind.NUMBER:
        raise Invalid(
            _(
                "This cell is a number, so any leading zero has been lost (it reads %(value)s). "
                "Format the column as Text and type the values again."
            )
            % {"value": cell.text}
        )


def _identifier(cell: Cell, *, max_length: int) -> str:
    _refuse_number(cell)
    value = text(cell, max_length=max_length)
    if " " in value:
        raise Invalid(_("This value may not contain spaces."))
    return value


def personal_id(cell: Cell) -> str:
    value = _identifier(cell, max_length=12)
    try:
        validate_personal_id(value)
    except ValidationError as exc:
        raise Invalid(exc.messages[0]) from exc
    return value


def student_code(cell: Cell) -> str:
    return _identifier(cell, max_length=20)


def registration_number(cell: Cell) -> str:
    """The number in the school's register (sổ đăng bộ), e.g. 125 or 125/2025."""
    return _identifier(cell, max_length=20)


def phone(cell: Cell) -> str:
    _refuse_number(cell)
    value = cell.text
    if not _PHONE.match(value):
        raise Invalid(_("A phone number has 8 to 20 digits, for example 0912345678."))
    return value.replace(" ", "").replace(".", "")


def sex(cell: Cell) -> str:
    value = SEXES.get(normalize_header(cell.text))
    if value is None:
        raise Invalid(_("Write Nam or Nữ (or M / F)."))
    return value


def date_of_birth(cell: Cell) -> datetime.date:
    """A real date cell, or text dd/mm/yyyy, d/m/yyyy (also with - or .) or yyyy-mm-dd."""
    day = _date(cell)
    if not datetime.date(1900, 1, 1) <= day <= timezone.localdate():
        raise Invalid(_("This date of birth is not plausible."))
    return day


def admission_date(cell: Cell) -> datetime.date:
    """The day the student entered the school: a date as for :func:`date_of_birth`, from 1900
    to a year from today (a school admits for the coming year)."""
    day = _date(cell)
    if not datetime.date(1900, 1, 1) <= day <= timezone.localdate() + datetime.timedelta(366):
        raise Invalid(_("This date of admission is not plausible."))
    return day


def _date(cell: Cell) -> datetime.date:
    if cell.kind is CellKind.DATE:
        day = cell.value
    elif cell.kind is CellKind.NUMBER:
        raise Invalid(_("This date is stored as a number. Type it as dd/mm/yyyy."))
    else:
        day = _parse_date(cell.text)
    assert isinstance(day, datetime.date)
    return day


def _parse_date(value: str) -> datetime.date:
    if match := _DAY_FIRST.match(value):
        day, month, year = (int(g) for g in match.groups())
    elif match := _ISO.match(value):
        year, month, day = (int(g) for g in match.groups())
    else:
        raise Invalid(_("Write the date as dd/mm/yyyy, for example 05/09/2014."))
    try:
        return datetime.date(year, month, day)
    except ValueError as exc:
        raise Invalid(_("This date does not exist.")) from exc


def username(cell: Cell) -> str:
    value = text(cell, max_length=150)
    field = get_user_model()._meta.get_field("username")
    try:
        field.run_validators(value)
    except ValidationError as exc:
        raise Invalid(exc.messages[0]) from exc
    return value


def email(cell: Cell) -> str:
    """Stored in lower case: password reset looks the address up exactly as typed, lowered."""
    value = text(cell, max_length=254).lower()
    try:
        validate_email(value)
    except ValidationError as exc:
        raise Invalid(_("This is not a valid email address.")) from exc
    return value
