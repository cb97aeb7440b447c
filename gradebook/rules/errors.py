"""The one error type the rules raise for a bad mark or level, and its translatable messages.

The rules package must not import Django, yet its messages reach users through Django's
translation machinery. Each message is therefore an English msgid wrapped in the no-op
``gettext_noop`` below: ``makemessages`` extracts calls to ``gettext_noop`` (it is one of
xgettext's default Python keywords), and the view layer translates ``exc.message`` at display
time, e.g. ``ValidationError(_(exc.message), code=exc.code, params=exc.params)``.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "EMPTY_LEVEL",
    "EMPTY_SCORE",
    "EMPTY_TEST_SCORE",
    "NOT_A_SCORE",
    "NOT_A_TEST_SCORE",
    "SCORE_OUT_OF_RANGE",
    "SCORE_TOO_PRECISE",
    "TEST_SCORE_NOT_WHOLE",
    "TEST_SCORE_OUT_OF_RANGE",
    "UNKNOWN_LEVEL",
    "InvalidMark",
    "gettext_noop",
]

#: Longest slice of the offending input quoted back in a message.
_MAX_QUOTED = 20


def gettext_noop(message: str) -> str:
    """Mark ``message`` for translation without translating it (Django's extractor finds it)."""
    return message


# Secondary scores (docs/regulations.md#typing-a-score).
EMPTY_SCORE = gettext_noop("Enter a score.")
NOT_A_SCORE = gettext_noop(
    "“%(value)s” is not a score. Type a number from 0 to 10 with at most one decimal place, "
    "e.g. 7 or 7.5."
)
SCORE_TOO_PRECISE = gettext_noop(
    "“%(value)s” has more than one decimal place. A score has at most one, e.g. 7.5."
)
SCORE_OUT_OF_RANGE = gettext_noop("“%(value)s” is outside the scale: a score is from 0 to 10.")

# Primary periodic tests (docs/regulations.md#periodic-tests).
EMPTY_TEST_SCORE = gettext_noop("Enter a test score.")
NOT_A_TEST_SCORE = gettext_noop(
    "“%(value)s” is not a test score. Type a whole number from 0 to 10."
)
TEST_SCORE_NOT_WHOLE = gettext_noop(
    "“%(value)s” is not a whole number. Periodic test scores have no decimals."
)
TEST_SCORE_OUT_OF_RANGE = gettext_noop(
    "“%(value)s” is outside the scale: a test score is from 0 to 10."
)

# Level codes (docs/regulations.md#typing-level-codes).
EMPTY_LEVEL = gettext_noop("Enter a level.")
UNKNOWN_LEVEL = gettext_noop("“%(value)s” is not a valid level here. Use one of: %(allowed)s.")


def quote_input(value: object) -> str:
    """The user's input as it may be echoed in a message: shortened, never huge."""
    text = value if isinstance(value, str) else repr(value)
    text = text.strip()
    if len(text) > _MAX_QUOTED:
        text = text[: _MAX_QUOTED - 1] + "…"
    return text


class InvalidMark(ValueError):
    """A typed or stored mark or level code that the regulation does not allow.

    ``message`` is the untranslated English msgid (``%(name)s`` placeholders), ``params`` fills
    the placeholders, ``code`` is a stable machine-readable reason (``"not_a_score"``, …).
    ``str(exc)`` is the English text with the parameters filled in.
    """

    message: str
    code: str
    params: dict[str, str]

    def __init__(self, message: str, *, code: str, params: Mapping[str, str] | None = None):
        self.message = message
        self.code = code
        self.params = dict(params or {})
        super().__init__(self.message % self.params)

    def __str__(self) -> str:
        return self.message % self.params

    def __repr__(self) -> str:
        return f"InvalidMark(code={self.code!r}, text={str(self)!r})"
