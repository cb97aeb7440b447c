"""How the grid shows things: a cell's canonical value, a computed average and a student's name
as the user reads them, in the active language."""

from __future__ import annotations

from decimal import Decimal

from gradebook.rules.codes import vietnamese_letter

#: Value types whose codes the Vietnamese pages write with Đ (stored as D/CD).
LETTER_TYPES = frozenset({"pass", "level", "quality"})


def localise_number(text: str, language: str) -> str:
    return text if language.startswith("en") else text.replace(".", ",")


def display_value(value: str, value_type: str, language: str) -> str:
    """A canonical cell value as the user reads it: "7,5" in Vietnamese, "Đ"/"CĐ" for a result,
    a conduct level or a quality/competency level."""
    if not value:
        return ""
    if value_type == "score":
        return localise_number(value, language)
    if value_type in LETTER_TYPES and not language.startswith("en"):
        return vietnamese_letter(value)
    return value


def display_average(value: Decimal, language: str) -> str:
    """A computed average always shows one decimal: 8 → "8,0"."""
    return localise_number(f"{value:.1f}", language)


def given_name(full_name: str) -> str:
    """A Vietnamese full name ends with the given name: "Nguyễn Văn Bình" → "Bình"."""
    parts = full_name.split()
    return parts[-1] if parts else ""
