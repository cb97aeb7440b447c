"""The one check on text that enters the product (forms, the grid's JSON saves, spreadsheet
imports): it may not contain characters that cannot be printed, exported or signed. C0 control
characters other than tab, line feed and carriage return (a reason or an address may have
several lines), NUL, DEL, C1 control characters, lone surrogates and the two non-characters
U+FFFE and U+FFFF make an .xlsx export fail and are not allowed in XML, so a transcript with
them cannot be signed."""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy, gettext_noop

FORBIDDEN_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

#: English msgid; its placeholder is `character` (for example "U+0007").
FORBIDDEN_CHARACTER_MESSAGE = gettext_noop(
    "This text contains a character that cannot be stored (%(character)s): a control "
    "character or a broken one, often pasted from another program. Remove it and type the "
    "text again."
)


def forbidden_character(text: str) -> str | None:
    """The first character that may not be stored, as "U+XXXX", or None."""
    found = FORBIDDEN_CHARACTERS.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


def validate_storable_text(value: object) -> None:
    """Django validator: every form's CharField runs it (accounts/apps.py)."""
    character = forbidden_character(value) if isinstance(value, str) else None
    if character is not None:
        raise ValidationError(
            gettext_lazy(FORBIDDEN_CHARACTER_MESSAGE),
            code="forbidden_character",
            params={"character": character},
        )


def search_folded(text: str) -> str:
    """`text` as the search boxes compare it: without diacritics (Nguyễn → nguyen, Đinh →
    dinh, whether typed composed or decomposed), without case, with single spaces. Stored
    beside a name (Student.search_name) and applied to what is typed in the box, so that the
    database compares plain text the same way on SQLite and PostgreSQL."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


def _search_exact(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def search_is_exact(query: str) -> bool:
    """Whether a search was typed with diacritics ("Yến", "đinh"): then they count."""
    return _search_exact(query) != search_folded(query)


def search_matches(query: str, text: str) -> bool:
    """Whether a search box's `query` finds `text`: typed without diacritics it ignores them
    ("nguyen" finds Nguyễn, "dinh" Đinh); typed with them, they must match ("Yến" finds Lê
    Hoàng Yến, not Nguyễn). Never case. `search_folded` is the database's half of it."""
    if search_is_exact(query):
        return _search_exact(query) in _search_exact(text)
    return search_folded(query) in search_folded(text)
