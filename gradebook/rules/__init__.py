"""Regulation arithmetic for the gradebook: pure Python, no Django.

Every average, level, award and promotion the product shows comes from here.

- :mod:`gradebook.rules.secondary`: grades 6-12, Circular 22/2021/TT-BGDĐT.
- :mod:`gradebook.rules.primary`: grades 1-5, Circular 27/2020/TT-BGDĐT.
- :mod:`gradebook.rules.options`: the named interpretations (per school or province).

The rules are stated, in the project's own words, in ``docs/regulations.md``, whose headings
the rule functions cite. Results are ``StrEnum`` codes (``result == "K"``) and one-decimal
``Decimal`` scores; bad input raises :class:`InvalidMark`, whose ``message`` is an English msgid
marked with :func:`gettext_noop` for Django's translation catalogue.
"""

from __future__ import annotations

from .errors import InvalidMark, gettext_noop
from .explain import Explanation, Step
from .options import DEFAULT, AdjustmentPolicy, FewSubjectsPolicy, RulesOptions

__all__ = [
    "DEFAULT",
    "AdjustmentPolicy",
    "Explanation",
    "FewSubjectsPolicy",
    "InvalidMark",
    "RulesOptions",
    "Step",
    "gettext_noop",
]
