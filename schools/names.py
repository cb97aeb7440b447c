"""Vietnamese name ordering for class lists.

Class lists are ordered by given name (the last word), then by the rest of the name, using the
Vietnamese alphabet (a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y), with tone marks
as a secondary difference (no tone, huyền, hỏi, ngã, sắc, nặng).
"""

from __future__ import annotations

import unicodedata

_ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_RANK = {ch: i for i, ch in enumerate(_ALPHABET)}
# Combining marks that make a distinct letter (breve, circumflex, horn) versus tones.
_LETTER_MARKS = {"\u0306": "ă", "\u0302": "â"}
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def _letter_key(ch: str) -> tuple[int, int]:
    """(alphabet rank, tone) for one character; non-letters sort after letters by code point."""
    decomposed = unicodedata.normalize("NFD", ch.lower())
    base, marks = decomposed[0], decomposed[1:]
    tone = 0
    for mark in marks:
        if mark in _TONES:
            tone = _TONES[mark]
        elif mark == "\u0306" and base == "a":
            base = "ă"
        elif mark == "\u0302" and base in "aeo":
            base = {"a": "â", "e": "ê", "o": "ô"}[base]
        elif mark == "\u031b" and base in "ou":
            base = {"o": "ơ", "u": "ư"}[base]
    if base == "đ" or ch.lower() == "đ":
        base = "đ"
    rank = _RANK.get(base)
    if rank is None:
        return (len(_ALPHABET) + ord(base), 0)
    return (rank, tone)


def _word_key(word: str) -> tuple:
    letters = tuple(_letter_key(ch) for ch in word)
    return (tuple(r for r, _ in letters), tuple(t for _, t in letters))


def vietnamese_name_key(full_name: str) -> tuple:
    """Sort key: given name first, then family and middle names, Vietnamese alphabet order."""
    words = full_name.split()
    if not words:
        return ((), ())
    given, rest = words[-1], words[:-1]
    return (_word_key(given), tuple(_word_key(w) for w in rest))


def vietnamese_text_key(text: str) -> tuple:
    """Sort key of a name read left to right (a school, a district), word by word in the
    Vietnamese alphabet: "Trường THCS Ánh Dương" before "Trường THCS Bình Minh"."""
    return tuple(_word_key(w) for w in text.split())
