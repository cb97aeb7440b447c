"""The one check on text that enters the product (forms, the grid's JSON saves, spreadsheet
imports): it may not contain characters that cannot be printed, exported or signed. C0 control
characters other than tab, line feed and carriage return (a reason or an address may have
several lines), NUL, DEL, C1 control characters, lone surrogates and the two non-characters
U+FFFE and U+FFFF make an .xlsx export fail and are not allowed in XML, so a transcript with
them cannot be signed."""

from __future__ import annotations

import re

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
