"""Whole numbers taken from a request (a JSON body, a form, a query string): ids and versions.

`int()` alone takes too much: `True`, `7.9` (as 7), `"²"` (a digit to `str.isdigit`, then a
ValueError), an infinity (OverflowError) and numbers past the database's columns, which fail
only when a statement binds them. :func:`whole_number` takes a JSON integer or a text of ASCII
digits within a column's range, and answers None for anything else.
"""

from __future__ import annotations

#: The database's id columns (bigint on PostgreSQL, INTEGER on SQLite).
ID_MAX = 2**63 - 1
#: A PositiveIntegerField (a mark's version).
POSITIVE_INTEGER_MAX = 2**31 - 1


def whole_number(value: object, *, maximum: int = ID_MAX) -> int | None:
    """`value` as a whole number from 0 to `maximum`, or None: an int (not a bool) or a text of
    ASCII digits only (no sign, space, decimal point or other script's digit)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()) or len(value) > len(str(maximum)):
            return None
        value = int(value)
    if not isinstance(value, int):
        return None
    return value if 0 <= value <= maximum else None
