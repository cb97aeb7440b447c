"""How result codes are shown: the Vietnamese abbreviation (T, K, Đ, CĐ, HTT, …) and the full
name, translated. Stored codes stay ASCII (``D``, ``CD``); only the display uses Đ."""

from __future__ import annotations

from decimal import Decimal

from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from gradebook.rules.codes import VIETNAMESE_LETTERS, NextStep, PrimaryAward, SecondaryAward

ABBREVIATIONS = VIETNAMESE_LETTERS

NAMES: dict[str, Promise] = {
    "T": _("Good"),
    "K": _("Fair"),
    "D": _("Pass"),
    "CD": _("Not yet pass"),
    "HTXS": _("Completed with excellence"),
    "HTT": _("Completed well"),
    "HT": _("Completed"),
    "CHT": _("Not completed"),
    "CCG": _("Needs effort"),
}

AWARDS: dict[str, Promise] = {
    SecondaryAward.EXCELLENT: _("Excellent student"),
    SecondaryAward.GOOD: _("Good student"),
    PrimaryAward.EXEMPLARY: _("Exemplary student"),
}

NEXT_STEPS: dict[str, Promise] = {
    NextStep.SUMMER_TRAINING: _("Summer conduct training"),
    NextStep.REASSESSMENT: _("Summer re-assessment"),
    NextStep.RETAINED: _("Retained"),
}


def abbreviation(code: object) -> str:
    """``"CD"`` → ``"CĐ"``; other codes as they are; ``None`` → ``"—"``."""
    if code is None:
        return "—"
    return ABBREVIATIONS.get(str(code), str(code))


def name(code: object) -> str:
    """The full, translated name of a level code (``"K"`` → "Fair" / "Khá")."""
    return str(NAMES.get(str(code), code))


def score(value: Decimal | int | None) -> str:
    """A score in the active locale with one decimal place (``7,8`` in Vietnamese)."""
    if value is None:
        return "—"
    if isinstance(value, int):
        return str(value)
    return number_format(value, decimal_pos=1)


def value(result: object) -> str:
    """A subject result: a score (Decimal) in the locale, a code as its abbreviation."""
    if isinstance(result, Decimal | int) or result is None:
        return score(result)
    return abbreviation(result)
