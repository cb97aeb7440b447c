"""Turn the rules package's InvalidMark into a translated message for the user."""

from __future__ import annotations

from django.utils.translation import gettext

from gradebook.rules import InvalidMark


def invalid_mark_message(error: InvalidMark) -> str:
    """The translated message of an InvalidMark, in the active language."""
    return gettext(error.message) % dict(error.params)
