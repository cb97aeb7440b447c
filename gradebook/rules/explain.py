"""Bilingual, step-by-step explanations of a computed result ("show the calculation").

Numbers follow one convention everywhere: Vietnamese text uses a decimal comma (``7,78 → 7,8``),
English text a decimal point (``7.78 → 7.8``). A mark is shown as typed (``8``, ``7.5``), a
rounded result always with one decimal (``8.0``), an intermediate quotient with two decimals,
prefixed ``≈`` when it is not exact.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction

__all__ = ["TIMES", "Explanation", "Step", "level_name"]

#: The multiplication sign used in formulas (kept as an escape: it resembles the letter x).
TIMES = "\u00d7"


@dataclass(frozen=True)
class Step:
    """One line of an explanation, in Vietnamese and in English."""

    vi: str
    en: str

    def text(self, language: str = "vi") -> str:
        """The line in ``language`` ("vi" or "en"; anything starting with "en" is English)."""
        return self.en if language.startswith("en") else self.vi


@dataclass(frozen=True)
class Explanation:
    """The steps that lead to ``result``, best read top to bottom."""

    steps: tuple[Step, ...]
    result: object

    def text(self, language: str = "vi") -> str:
        """All steps in one language, one per line."""
        return "\n".join(step.text(language) for step in self.steps)

    def __str__(self) -> str:
        return self.text("vi")


@functools.lru_cache(maxsize=4096)  # a class summary formats the same few values thousands of times
def tenths(value: int, *, language: str, always_decimal: bool = False) -> str:
    """Format a quantity given in tenths: ``75`` -> "7.5"/"7,5"; ``80`` -> "8" (or "8.0")."""
    whole, tenth = divmod(value, 10)
    text = str(whole) if tenth == 0 and not always_decimal else f"{whole}.{tenth}"
    return _localise(text, language)


def quotient(numerator: int, denominator: int, *, language: str) -> str:
    """Format ``numerator / denominator`` (numerator in tenths) to two decimals.

    Prefixed "≈ " unless exact. If two decimals would round to a different one-decimal value
    than the exact quotient (a double-rounding trap), four decimals are shown instead.
    """
    exact = Fraction(numerator, 10 * denominator)
    for places in (2, 4):
        shown = _round_half_up(exact, places)
        if _round_half_up(Fraction(shown), 1) == _round_half_up(exact, 1):
            break
    prefix = "= " if Fraction(shown) == exact else "≈ "
    return prefix + _localise(str(shown), language)


def _round_half_up(value: Fraction, places: int) -> Decimal:
    scale: int = 10**places  # typeshed: int ** int is Any (a negative exponent gives a float)
    scaled = value * scale
    rounded = (scaled.numerator * 2 + scaled.denominator) // (2 * scaled.denominator)
    return (Decimal(rounded) / scale).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _localise(text: str, language: str) -> str:
    return text if language.startswith("en") else text.replace(".", ",")


def level_name(code: StrEnum | str, *, language: str) -> str:
    """A level code with its name, e.g. ``K (Khá)`` / ``K (Fair)``."""
    names = _NAMES_EN if language.startswith("en") else LEVEL_NAMES_VI
    value = str(code)
    return f"{value} ({names[value]})" if value in names else value


#: The Vietnamese names of every level code, as the circulars and the printed học bạ spell them.
LEVEL_NAMES_VI = {
    "T": "Tốt",
    "K": "Khá",
    "D": "Đạt",
    "CD": "Chưa đạt",
    "HTXS": "Hoàn thành xuất sắc",
    "HTT": "Hoàn thành tốt",
    "HT": "Hoàn thành",
    "CHT": "Chưa hoàn thành",
    "CCG": "Cần cố gắng",
}
_NAMES_EN = {
    "T": "Good",
    "K": "Fair",
    "D": "Pass",
    "CD": "Not yet pass",
    "HTXS": "Completed with excellence",
    "HTT": "Completed well",
    "HT": "Completed",
    "CHT": "Not completed",
    "CCG": "Needs effort",
}
