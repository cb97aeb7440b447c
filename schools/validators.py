"""Validators for Vietnamese identifiers.

The 12-digit personal identification number (số định danh cá nhân, Circular 59/2021/TT-BCA):
digits 1–3 the province of birth registration, digit 4 the century of birth and sex, digits 5–6
the last two digits of the year of birth, digits 7–12 a random number.
"""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Province codes of the personal ID (the 63 provinces as numbered by the Ministry of Public
# Security; codes stay valid after the 2025 province mergers because IDs are never reissued).
PROVINCE_CODES = frozenset(
    [
        "001",
        "002",
        "004",
        "006",
        "008",
        "010",
        "011",
        "012",
        "014",
        "015",
        "017",
        "019",
        "020",
        "022",
        "024",
        "025",
        "026",
        "027",
        "030",
        "031",
        "033",
        "034",
        "035",
        "036",
        "037",
        "038",
        "040",
        "042",
        "044",
        "045",
        "046",
        "048",
        "049",
        "051",
        "052",
        "054",
        "056",
        "058",
        "060",
        "062",
        "064",
        "066",
        "067",
        "068",
        "070",
        "072",
        "074",
        "075",
        "077",
        "079",
        "080",
        "082",
        "083",
        "084",
        "086",
        "087",
        "089",
        "091",
        "092",
        "093",
        "094",
        "095",
        "096",
    ]
)

_SCHOOL_CODE = re.compile(r"^[A-Za-z0-9_-]{2,20}$")


def validate_school_code(value: str) -> None:
    if not _SCHOOL_CODE.match(value or ""):
        raise ValidationError(
            _("A school code has 2–20 letters, digits, '-' or '_'."), code="school_code"
        )


def validate_personal_id(value: str) -> None:
    """12 ASCII digits with a known province code and a valid century/sex digit."""
    if not (isinstance(value, str) and len(value) == 12 and value.isascii() and value.isdigit()):
        raise ValidationError(
            _("The personal ID number must have exactly 12 digits."), code="personal_id_format"
        )
    if value[:3] not in PROVINCE_CODES:
        raise ValidationError(
            _("The personal ID number starts with %(code)s, which is not a province code."),
            code="personal_id_province",
            params={"code": value[:3]},
        )


def personal_id_century_digit(*, sex: str, date_of_birth: datetime.date) -> str:
    """Digit 4: 0/1 for men/women born 1900–1999, 2/3 for 2000–2099, and so on."""
    century_index = (date_of_birth.year // 100) - 19
    return str(century_index * 2 + (1 if sex == "F" else 0))


def validate_personal_id_matches(
    personal_id: str, *, sex: str | None, date_of_birth: datetime.date | None
) -> None:
    """The ID encodes the century, sex and year of birth: a mismatch is a typing error."""
    if not personal_id or len(personal_id) != 12 or not personal_id.isdigit():
        return
    if not sex or not date_of_birth or not 1900 <= date_of_birth.year <= 2399:
        return
    expected = personal_id_century_digit(sex=sex, date_of_birth=date_of_birth)
    if personal_id[3] != expected:
        raise ValidationError(
            _(
                "Digit 4 of the personal ID number is %(found)s, but a student of this sex "
                "born in %(year)s has %(expected)s."
            ),
            code="personal_id_sex_century",
            params={"found": personal_id[3], "year": date_of_birth.year, "expected": expected},
        )
    if personal_id[4:6] != f"{date_of_birth.year % 100:02d}":
        raise ValidationError(
            _(
                "Digits 5–6 of the personal ID number are %(found)s, but the year of birth "
                "is %(year)s."
            ),
            code="personal_id_year",
            params={"found": personal_id[4:6], "year": date_of_birth.year},
        )
